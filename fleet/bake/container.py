"""The bake container, through the docker SDK: create, boot, reset instance state, commit.

With systemd (the image's command is an init, or ``--systemd``) the container runs like a
lab host: tmpfs on /run, the cgroup tree read-only, ``container=docker``, and
``SIGRTMIN+3`` as stop signal, so ``docker stop`` is systemd's orderly shutdown. Other
images run a keep-alive shell instead of their command (``--keepalive``).

Decision: the container is stopped cleanly before ``docker commit`` (services have
stopped and flushed their files; nothing half-written is captured). What the bake's own
boot left behind that must not be in every instance of the image is removed first:
SSH host keys, journal files of the bake's boot, new entries in /tmp and /var/tmp; and
/etc/machine-id is put back as the base image had it.
"""

from __future__ import annotations

import contextlib
import io
import posixpath
import shlex
import tarfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fleet.errors import FleetError, InputError

INITS = ("init", "systemd")
KEEPALIVE = ["/bin/sh", "-c", "trap 'exit 0' TERM INT; while :; do sleep 3600 & wait $!; done"]
SCRATCH_DIRS = ("/tmp", "/var/tmp")
SYSTEMD_READY = ("running", "degraded")


@dataclass(frozen=True)
class ImageInfo:
    """What bake needs to know of the base image."""

    ref: str
    id: str
    cmd: list[str] | None
    entrypoint: list[str] | None

    @property
    def runs_systemd(self) -> bool:
        """The image's own command is an init (``/sbin/init``, ``.../systemd``)."""
        command = (self.entrypoint or []) + (self.cmd or [])
        return bool(command) and posixpath.basename(command[0]) in INITS


def inspect_image(client: Any, ref: str) -> ImageInfo:
    """The local image ``ref``; InputError if it is not there (bake never pulls)."""
    import docker.errors

    try:
        image = client.images.get(ref)
    except docker.errors.ImageNotFound:
        raise InputError(f"--from {ref}: no such image here (fleet bake never pulls: docker pull it "
                         f"first, or build it)") from None
    config = image.attrs.get("Config") or {}
    return ImageInfo(ref, image.id, config.get("Cmd"), config.get("Entrypoint"))


class BakeContainer:
    """One bake container; ``remove`` is safe to call whatever state it is in."""

    def __init__(self, client: Any, image: ImageInfo, hostname: str, systemd: bool,
                 network: str | None = None, say: Callable[[str], None] = print) -> None:
        self.client = client
        self.image = image
        self.hostname = hostname
        self.systemd = systemd
        self.network = network
        self.say = say
        self.name = f"fleet-bake-{hostname}-{uuid.uuid4().hex[:8]}"
        self.container: Any = None
        self._base_keys: set[str] = set()
        self._base_scratch: dict[str, set[str]] = {}
        self._base_machine_id: tuple[bytes, int] | None = None  # content, mode

    # -- lifecycle ------------------------------------------------------------------------
    def create(self) -> None:
        """Create the container (not started) and note what the base image has."""
        settings: dict[str, Any] = {"name": self.name, "hostname": self.hostname, "detach": True}
        if self.network:
            settings["network"] = self.network
        if self.systemd:
            settings.update(
                environment={"container": "docker"}, tmpfs={"/run": "rw,mode=755", "/run/lock": "rw"},
                volumes={"/sys/fs/cgroup": {"bind": "/sys/fs/cgroup", "mode": "ro"}},
                stop_signal="SIGRTMIN+3")
            if not self.image.runs_systemd:
                settings.update(entrypoint=["/sbin/init"], command=[])
        else:
            settings.update(entrypoint=KEEPALIVE, command=[])
        self.container = self.client.containers.create(self.image.ref, **settings)
        self._base_keys = {n for n in self._names("/etc/ssh") if n.startswith("ssh_host_")}
        self._base_scratch = {d: self._names(d) for d in SCRATCH_DIRS}
        self._base_machine_id = self._read("/etc/machine-id")

    def start(self, timeout: float = 90.0) -> None:
        """Start and wait until systemd has booted (or the keep-alive shell runs)."""
        self.container.start()
        deadline = time.monotonic() + timeout
        state = "?"
        while time.monotonic() < deadline:
            self.container.reload()
            if self.container.status in ("exited", "dead"):
                logs = self.container.logs(tail=20).decode(errors="replace").strip()
                raise FleetError(f"the bake container stopped while starting (exit "
                                 f"{self.container.attrs['State'].get('ExitCode')}): {logs or 'no output'}")
            if self.container.status == "running":
                if not self.systemd:
                    return
                code, out = self.container.exec_run(["systemctl", "is-system-running"])
                state = out.decode(errors="replace").strip() or f"exit {code}"
                if state in SYSTEMD_READY:
                    if state == "degraded":
                        self.say(f"note: systemd in the bake container is degraded: {self._failed_units()}")
                    return
            time.sleep(0.3)
        raise FleetError(f"systemd in the bake container did not finish booting within {timeout:.0f} s "
                         f"(state: {state})")

    def reset_instance_state(self, keep_host_keys: bool = False) -> list[str]:
        """Remove what this boot made that belongs to one instance; return what went."""
        script = ["set -u", "gone=''"]
        if not keep_host_keys:
            keep = " ".join(shlex.quote(n) for n in sorted(self._base_keys))
            script.append('for f in /etc/ssh/ssh_host_*; do [ -e "$f" ] || continue; '
                          f'case " {keep} " in *" ${{f##*/}} "*) ;; *) rm -f "$f"; gone="$gone $f";; esac; done')
        if self.systemd:
            script.append('id=$(cat /etc/machine-id 2>/dev/null); if [ -n "$id" ] && [ -d "/var/log/journal/$id" ]; '
                          'then rm -rf "/var/log/journal/$id"; gone="$gone /var/log/journal/$id"; fi')
        for directory in SCRATCH_DIRS:
            keep = " ".join(shlex.quote(n) for n in sorted(self._base_scratch.get(directory, ())))
            script.append(f'for f in {directory}/* {directory}/.[!.]*; do [ -e "$f" ] || [ -L "$f" ] || continue; '
                          f'case " {keep} " in *" ${{f##*/}} "*) ;; *) rm -rf "$f"; gone="$gone $f";; esac; done')
        script.append('echo "$gone"')
        code, out = self.container.exec_run(["/bin/sh", "-c", "\n".join(script)])
        if code != 0:
            raise FleetError(f"resetting instance state failed: {out.decode(errors='replace').strip()}")
        return out.decode().split()

    def stop(self, timeout: int = 60) -> None:
        """Stop cleanly (systemd's shutdown), then put /etc/machine-id back as the base had it."""
        self.container.stop(timeout=timeout)
        self.container.reload()
        code = self.container.attrs["State"].get("ExitCode")
        if self.systemd and code not in (0, 130, 143):
            self.say(f"note: systemd exited with {code} when the bake container stopped")
        if self._base_machine_id is not None and self._read("/etc/machine-id") != self._base_machine_id:
            self._write("/etc/machine-id", *self._base_machine_id)

    def commit(self, repository: str, tag: str, labels: dict[str, str], message: str) -> str:
        """Commit the (stopped) container; the image's command stays the base image's."""
        conf: dict[str, Any] = {"Labels": labels}
        if not self.systemd or not self.image.runs_systemd:  # the container ran another command
            conf["Entrypoint"] = self.image.entrypoint or []
            conf["Cmd"] = self.image.cmd or []
        image = self.container.commit(repository=repository, tag=tag, message=message, conf=conf)
        return str(image.id)

    def remove(self) -> None:
        if self.container is None:
            return
        import docker.errors

        with contextlib.suppress(docker.errors.NotFound):
            self.container.remove(force=True)

    # -- helpers --------------------------------------------------------------------------
    def _failed_units(self) -> str:
        _, out = self.container.exec_run(["systemctl", "--failed", "--no-legend", "--plain"])
        units = [line.split()[0] for line in out.decode(errors="replace").splitlines() if line.split()]
        return ", ".join(units) or "no failed units listed"

    def _archive(self, path: str) -> tarfile.TarFile | None:
        import docker.errors

        try:
            stream, _ = self.container.get_archive(path)
        except docker.errors.NotFound:
            return None
        return tarfile.open(fileobj=io.BytesIO(b"".join(stream)))

    def _names(self, directory: str) -> set[str]:
        """Entries directly in ``directory`` of the container's filesystem."""
        archive = self._archive(directory)
        if archive is None:
            return set()
        with archive:
            return {parts[1] for parts in (m.name.split("/") for m in archive.getmembers()) if len(parts) == 2}

    def _read(self, path: str) -> tuple[bytes, int] | None:
        """Content and mode of a regular file in the container (None if absent or not a file)."""
        archive = self._archive(path)
        if archive is None:
            return None
        with archive:
            member = archive.next()
            handle = archive.extractfile(member) if member is not None and member.isfile() else None
            return (handle.read(), member.mode) if handle is not None and member is not None else None

    def _write(self, path: str, content: bytes, mode: int) -> None:
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as tar:
            info = tarfile.TarInfo(posixpath.basename(path))
            info.size, info.mode = len(content), mode
            tar.addfile(info, io.BytesIO(content))
        self.container.put_archive(posixpath.dirname(path), buffer.getvalue())
