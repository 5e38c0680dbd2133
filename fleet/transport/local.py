"""``ansible_connection: local``: the agent runs as a child of the controller."""

from __future__ import annotations

from fleet.transport.base import SubprocessTransport


class LocalTransport(SubprocessTransport):
    """Run the agent on the controller machine itself."""

    name = "local"

    def argv_for(self, command: str) -> list[str]:
        return ["/bin/sh", "-c", command]
