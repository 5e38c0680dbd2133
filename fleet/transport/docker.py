"""``ansible_connection: docker``: the agent runs via ``docker exec -i`` in a container.

``ansible_host`` (or the inventory name) is the container; ``ansible_user`` becomes
``docker exec --user``. No sshd is needed in the container: this is what image baking uses.
"""

from __future__ import annotations

import asyncio
import shutil

from fleet.errors import ConnectionFailed
from fleet.transport.base import SubprocessTransport


class DockerTransport(SubprocessTransport):
    """Start the agent in a running container with the docker CLI."""

    name = "docker"

    def __init__(self, container: str, user: str | None = None, docker: str = "docker") -> None:
        super().__init__()
        self.container = container
        self.user = user
        self.docker = docker

    async def connect(self) -> None:
        if shutil.which(self.docker) is None:
            raise ConnectionFailed("the docker CLI is not installed on the controller")
        proc = await asyncio.create_subprocess_exec(
            self.docker, "inspect", "-f", "{{.State.Running}}", self.container,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await proc.communicate()
        if proc.returncode != 0:
            reason = err.decode(errors="replace").strip().splitlines()[-1:] or ["unknown error"]
            raise ConnectionFailed(f"container {self.container!r}: {reason[0]}")
        if out.decode().strip() != "true":
            raise ConnectionFailed(f"container {self.container!r} is not running")

    def argv_for(self, command: str) -> list[str]:
        user = ["--user", self.user] if self.user else []
        return [self.docker, "exec", "-i", *user, self.container, "/bin/sh", "-c", command]
