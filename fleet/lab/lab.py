"""``fleet lab up|down|status``: systemd containers with sshd on a docker network of their own.

Each host has its own hostname, filesystem, IP and SSH host keys (made at its first boot), a
sudo user ``fleet`` and ``root`` that accept the lab's key, a user ``nosudo`` without sudo, and
``pwsudo`` whose sudo asks for a password (``fleet-lab-sudo``: a throwaway lab credential).
``up`` writes an Ansible-format inventory (plus the key and a known_hosts file) that
``fleet apply -i`` uses as is. ``down`` removes the lab's containers and network, nothing else.
A lab's hosts all run one Debian release (``--release``: bullseye, bookworm or trixie).
"""

from __future__ import annotations

import contextlib
import io
import os
import socket
import subprocess
import tarfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from fleet.errors import FleetError
from fleet.lab.image import LAB_UID, NOSUDO_UID, PWSUDO_UID, ensure_image
from fleet.lab.limits import check_inotify, exhausted
from fleet.lab.releases import DEFAULT_RELEASE, release

LABEL = "fleet.lab"
RELEASE_LABEL = "fleet.lab.release"
# Hosts one `fleet lab up` starts at most: tests/integration/test_lab_limits.py starts this many
# on a 2-core, 24 GiB machine (about 2.5 minutes, 2 GiB of memory) and pings each over SSH.
MAX_HOSTS = 200


def default_dir(name: str = "lab") -> Path:
    """Where a lab keeps its key, known_hosts and inventory: ``$FLEET_LAB_DIR`` or ~/.fleet/NAME."""
    base = os.environ.get("FLEET_LAB_DIR")
    return Path(base) if base else Path.home() / ".fleet" / name


@dataclass
class LabHost:
    """One running lab host."""

    name: str
    container: str
    ip: str
    status: str
    release: str = "-"


@dataclass
class LabSpec:
    """How to start a lab: its name, size, and what some tests need (capabilities, tmpfs)."""

    name: str = "lab"
    hosts: int = 3
    directory: Path | None = None
    cap_add: list[str] = field(default_factory=list)
    tmpfs: dict[str, str] = field(default_factory=dict)  # extra mounts, e.g. {"/srv/small": "size=1m"}
    release: str = DEFAULT_RELEASE  # the Debian release of its hosts (fleet.lab.releases)

    @property
    def dir(self) -> Path:
        return self.directory or default_dir(self.name)

    @property
    def network(self) -> str:
        return f"fleet-{self.name}"

    def container(self, index: int) -> str:
        return f"fleet-{self.name}-{index}"


def docker_client() -> Any:
    """A docker SDK client, or FleetError saying what is missing."""
    try:
        import docker
    except ImportError:  # pragma: no cover - docker is a dependency
        raise FleetError("the docker Python package is missing (pip install docker)") from None
    try:
        client = docker.from_env()
        client.ping()
    except Exception as exc:
        raise FleetError(f"no Docker engine answers ({type(exc).__name__}): start dockerd, or run "
                         f"'tests/run' as root on Debian to install docker.io and start it") from None
    return client


class Lab:
    """Create, inspect and remove one lab."""

    def __init__(self, spec: LabSpec, client: Any = None, say: Callable[[str], None] = print) -> None:
        self.spec = spec
        self.client = client or docker_client()
        self.say = say

    # -- up -------------------------------------------------------------------------------
    def up(self, inventory_out: Path | None = None, user: str = "root") -> Path:
        """Start the hosts (reusing the image), wait for sshd, write the inventory; return its path.

        All or nothing: when a host does not come up (or the run is interrupted), everything this
        call started is removed again -- containers, the network, a key it made -- and no inventory
        is written. Hosts that were already running are left as they were."""
        release(self.spec.release)  # an unknown one is refused before anything starts
        tag = ensure_image(self.client, self.spec.release, self.say)
        names = [self.spec.container(i) for i in range(1, self.spec.hosts + 1)]
        running = self._running(names)
        check_inotify(len(names) - len(running), self.say,
                      running_hosts=len(self.client.containers.list(filters={"label": LABEL})))
        before = {c.name for c in self.client.containers.list(all=True, filters={"label": f"{LABEL}={self.spec.name}"})}
        started = _Started(self.spec.name, before)
        try:
            return self._up(tag, names, running, started, inventory_out, user)
        except BaseException as exc:  # KeyboardInterrupt too: nothing half-made stays behind
            import docker.errors

            removed = started.undo(self.client)
            done = f"; removed what this run had started ({removed})" if removed else ""
            if isinstance(exc, FleetError):
                raise FleetError(exc.message + done, exc.location) from None
            if isinstance(exc, docker.errors.DockerException):  # a bad --cap-add, no room left...
                why = getattr(exc, "explanation", None) or exc
                raise FleetError(f"docker refused to start lab '{self.spec.name}': {why}{done}") from None
            raise

    def _up(self, tag: str, names: list[str], running: set[str], started: _Started, inventory_out: Path | None,
            user: str) -> Path:
        directory = self.spec.dir
        directory.mkdir(parents=True, exist_ok=True)
        key = self._key(directory, started)
        network = self._network(started)
        for index, name in enumerate(names, start=1):
            if name not in running:
                started.containers.append(name)  # before it exists: an interrupt may come mid-start
                self._start(name, f"{self.spec.name}{index}", tag, network, key)
        hosts = [self._booted(name, f"{self.spec.name}{index}", tag, network, key)
                 for index, name in enumerate(names, start=1)]
        known_hosts = directory / "known_hosts"
        known_hosts.write_text("".join(self._host_keys(h) for h in hosts))
        inventory = inventory_out or directory / "inventory.yml"
        inventory.parent.mkdir(parents=True, exist_ok=True)
        inventory.write_text(self.inventory_text(hosts, key, known_hosts, user))
        return inventory

    def _running(self, names: list[str]) -> set[str]:
        """The hosts of this lab that already run; FleetError for a container that has one of
        their names but is not this lab's (never removed or adopted)."""
        running = set()
        for container in self.client.containers.list(all=True, filters={"name": f"fleet-{self.spec.name}-"}):
            mine = container.labels.get(LABEL) == self.spec.name
            if mine and _release_of(container) != self.spec.release:
                raise FleetError(f"lab '{self.spec.name}' has {_release_of(container)} hosts ({container.name}), "
                                 f"not {self.spec.release}: `fleet lab down --name {self.spec.name}` first, "
                                 f"or choose another --name")
            if container.name not in names:
                continue
            if not mine:
                raise FleetError(f"a container named {container.name} exists and is not a host of lab "
                                 f"'{self.spec.name}' (no {LABEL}={self.spec.name} label): remove or rename it, "
                                 f"or choose another --name")
            if container.status == "running":
                running.add(container.name)
        return running

    def _key(self, directory: Path, started: _Started) -> Path:
        key = directory / "id_ed25519"
        if not key.exists():
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"fleet-{self.spec.name}",
                            "-f", str(key)], check=True)
            started.files += [key, key.with_suffix(".pub")]
        return key

    def _network(self, started: _Started) -> Any:
        # docker matches names by substring: lab "itest" would take lab "itestb"'s network
        existing = [n for n in self.client.networks.list(names=[self.spec.network]) if n.name == self.spec.network]
        if existing:
            return existing[0]
        started.network = self.spec.network  # before it exists: an interrupt may come mid-create
        return self.client.networks.create(self.spec.network, driver="bridge", labels={LABEL: self.spec.name})

    def _start(self, name: str, hostname: str, tag: str, network: Any, key: Path) -> None:
        import docker.errors

        with contextlib.suppress(docker.errors.NotFound):
            self.client.containers.get(name).remove(force=True)  # this lab's, stopped (see _running)
        tmpfs = {"/run": "rw,mode=755", "/run/lock": "rw"}
        tmpfs.update(self.spec.tmpfs)
        container = self.client.containers.create(
            tag, release(self.spec.release).init, name=name, hostname=hostname, detach=True,
            environment={"container": "docker"}, tmpfs=tmpfs,
            volumes={"/sys/fs/cgroup": {"bind": "/sys/fs/cgroup", "mode": "ro"}},
            stop_signal="SIGRTMIN+3",
            labels={LABEL: self.spec.name, "fleet.lab.host": hostname, RELEASE_LABEL: self.spec.release},
            network=network.name,
            cap_add=list(self.spec.cap_add) or None,
        )
        container.put_archive("/", _authorized_keys_tar(key.with_suffix(".pub").read_bytes()))
        container.start()

    def _booted(self, name: str, hostname: str, tag: str, network: Any, key: Path) -> LabHost:
        """Wait for a host; one whose container stopped while booting (a machine starting many
        containers at once can make systemd give up) is made and started once more, saying why."""
        try:
            return self._wait(name)
        except BootFailed as exc:
            self.say(f"{exc}\nstarting {name} once more")
        self._start(name, hostname, tag, network, key)  # the stopped container is replaced
        return self._wait(name)

    def _wait(self, name: str, timeout: float = 120.0) -> LabHost:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            container = self.client.containers.get(name)
            ip = _ip(container, self.spec.network)
            if container.status == "running" and ip and _port_open(ip, 22):
                code, _ = container.exec_run(["test", "-s", "/etc/ssh/ssh_host_ed25519_key.pub"])
                if code == 0:
                    return LabHost(container.labels.get("fleet.lab.host", name), name, ip, container.status,
                                   _release_of(container))
            if container.status in ("exited", "dead"):
                raise BootFailed(_stopped(container))
            time.sleep(0.2)
        why = exhausted()
        raise FleetError(f"lab host {name} did not come up within {timeout:.0f} s (systemd booting, then sshd "
                         f"with its host keys)" + (f": {why}" if why else ""))

    def _host_keys(self, host: LabHost) -> str:
        container = self.client.containers.get(host.container)
        lines = []
        for kind in ("ed25519", "ecdsa"):
            code, out = container.exec_run(["cat", f"/etc/ssh/ssh_host_{kind}_key.pub"])
            if code != 0:
                raise FleetError(f"cannot read {kind} host key of {host.container}")
            algorithm, blob = out.decode().split()[:2]
            lines.append(f"{host.ip} {algorithm} {blob}\n")
        return "".join(lines)

    def inventory_text(self, hosts: list[LabHost], key: Path, known_hosts: Path, user: str) -> str:
        members = {}
        for index, host in enumerate(hosts, start=1):
            members[f"{self.spec.name}{index}"] = {"ansible_host": host.ip, "lab_container": host.container}
        data = {"all": {"children": {self.spec.name: {
            "hosts": members,
            "vars": {
                "ansible_user": user,
                "ansible_ssh_private_key_file": str(key),
                "ansible_ssh_common_args": f"-o UserKnownHostsFile={known_hosts}",
            },
        }}}}
        header = (f"# fleet lab '{self.spec.name}': written by `fleet lab up`; "
                  f"`fleet lab down --name {self.spec.name}` removes the hosts.\n")
        return header + yaml.safe_dump(data, sort_keys=False)

    # -- status / down ----------------------------------------------------------------------
    def hosts(self) -> list[LabHost]:
        found = []
        for container in self.client.containers.list(all=True, filters={"label": f"{LABEL}={self.spec.name}"}):
            found.append(LabHost(container.labels.get("fleet.lab.host", container.name), container.name,
                                 _ip(container, self.spec.network) or "-", container.status,
                                 _release_of(container)))
        return sorted(found, key=lambda h: (len(h.container), h.container))

    def down(self) -> int:
        """Remove this lab's containers and network; return how many containers went."""
        removed = 0
        for container in self.client.containers.list(all=True, filters={"label": f"{LABEL}={self.spec.name}"}):
            container.remove(force=True)
            removed += 1
        for network in self.client.networks.list(names=[self.spec.network]):
            if network.attrs.get("Labels", {}).get(LABEL) == self.spec.name:
                network.remove()
        return removed


class BootFailed(FleetError):
    """A lab host's container stopped before its sshd was up."""


@dataclass
class _Started:
    """What one ``up`` made, to take back when it fails: the containers it (re)created and any
    of the lab's that were not there ``before``, the network if it made it, the key if it made it."""

    lab: str
    before: set[str]
    containers: list[str] = field(default_factory=list)
    network: str | None = None
    files: list[Path] = field(default_factory=list)

    def undo(self, client: Any) -> str:
        """Remove it all (best effort); say what went."""
        import docker.errors

        now = {c.name for c in client.containers.list(all=True, filters={"label": f"{LABEL}={self.lab}"})}
        gone = 0  # (one the daemon finished creating for an interrupted request is in `now`)
        for name in sorted(set(self.containers) | (now - self.before)):
            with contextlib.suppress(docker.errors.DockerException):
                client.containers.get(name).remove(force=True)
                gone += 1
        parts = [f"{gone} container{'s' if gone != 1 else ''}"] if gone else []
        for network in client.networks.list(names=[self.network]) if self.network else []:
            if network.attrs.get("Labels", {}).get(LABEL) == self.lab:
                with contextlib.suppress(docker.errors.DockerException):
                    network.remove()
                    parts.append("the network")
        for path in self.files:
            path.unlink(missing_ok=True)
        if self.files:
            parts.append("the key")
        return ", ".join(parts)


def _stopped(container: Any) -> str:
    """Why a host stopped while booting: its exit code, the engine's error, an OOM kill, a
    used-up inotify limit if that is the likely cause, and the end of its log."""
    state = container.attrs.get("State") or {}
    cause = f"exit code {state.get('ExitCode')}"
    if state.get("OOMKilled"):
        cause += ", killed for lack of memory"
    if state.get("Error"):
        cause += f", {state['Error']}"
    log = container.logs(tail=20).decode(errors="replace").strip()
    why = exhausted()
    return (f"lab host {container.name} stopped while booting ({cause})"
            + (f": {why}" if why else "") + (f"; its log ends:\n{log}" if log else "; no output"))


def _release_of(container: Any) -> str:
    """The Debian release a lab host runs (hosts started before there were releases: bookworm)."""
    return str(container.labels.get(RELEASE_LABEL) or DEFAULT_RELEASE)


def _ip(container: Any, network: str) -> str | None:
    networks = container.attrs.get("NetworkSettings", {}).get("Networks", {})
    return (networks.get(network) or {}).get("IPAddress") or None


def _port_open(ip: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((ip, port)) == 0


def _authorized_keys_tar(public_key: bytes) -> bytes:
    """authorized_keys for root, fleet and nosudo, with the right owners and modes."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for home, uid in (("root", 0), ("home/fleet", LAB_UID), ("home/nosudo", NOSUDO_UID),
                          ("home/pwsudo", PWSUDO_UID)):
            info = tarfile.TarInfo(f"{home}/.ssh/authorized_keys")
            info.size, info.mode, info.uid, info.gid = len(public_key), 0o600, uid, uid
            tar.addfile(info, io.BytesIO(public_key))
    return buffer.getvalue()
