"""``fleet lab up|down|status``: systemd containers with sshd on a docker network of their own.

Each host has its own hostname, filesystem, IP and SSH host keys (made at its first boot), a
sudo user ``fleet`` and ``root`` that accept the lab's key, a user ``nosudo`` without sudo, and
``pwsudo`` whose sudo asks for a password (``fleet-lab-sudo``: a throwaway lab credential).
``up`` writes an Ansible-format inventory (plus the key and a known_hosts file) that
``fleet apply -i`` uses as is. ``down`` removes the lab's containers and network, nothing else.
"""

from __future__ import annotations

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
from fleet.lab.image import LAB_UID, NOSUDO_UID, PWSUDO_UID, build_image, image_exists, image_tag

LABEL = "fleet.lab"


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


@dataclass
class LabSpec:
    """How to start a lab: its name, size, and what some tests need (capabilities, tmpfs)."""

    name: str = "lab"
    hosts: int = 3
    directory: Path | None = None
    cap_add: list[str] = field(default_factory=list)
    tmpfs: dict[str, str] = field(default_factory=dict)  # extra mounts, e.g. {"/srv/small": "size=1m"}

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
        """Start the hosts (reusing the image), wait for sshd, write the inventory; return its path."""
        tag = image_tag()
        if not image_exists(self.client, tag):
            build_image(tag, self.say)
        directory = self.spec.dir
        directory.mkdir(parents=True, exist_ok=True)
        key = self._key(directory)
        network = self._network()
        names = [self.spec.container(i) for i in range(1, self.spec.hosts + 1)]
        for index, name in enumerate(names, start=1):
            self._start(name, f"{self.spec.name}{index}", tag, network, key)
        hosts = [self._booted(name, f"{self.spec.name}{index}", tag, network, key)
                 for index, name in enumerate(names, start=1)]
        known_hosts = directory / "known_hosts"
        known_hosts.write_text("".join(self._host_keys(h) for h in hosts))
        inventory = inventory_out or directory / "inventory.yml"
        inventory.parent.mkdir(parents=True, exist_ok=True)
        inventory.write_text(self.inventory_text(hosts, key, known_hosts, user))
        return inventory

    def _key(self, directory: Path) -> Path:
        key = directory / "id_ed25519"
        if not key.exists():
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"fleet-{self.spec.name}",
                            "-f", str(key)], check=True)
        return key

    def _network(self) -> Any:
        existing = self.client.networks.list(names=[self.spec.network])
        if existing:
            return existing[0]
        return self.client.networks.create(self.spec.network, driver="bridge",
                                           labels={LABEL: self.spec.name})

    def _start(self, name: str, hostname: str, tag: str, network: Any, key: Path) -> None:
        import docker.errors

        try:
            old = self.client.containers.get(name)
        except docker.errors.NotFound:
            old = None
        if old is not None:
            if old.status == "running":
                return
            old.remove(force=True)
        tmpfs = {"/run": "rw,mode=755", "/run/lock": "rw"}
        tmpfs.update(self.spec.tmpfs)
        container = self.client.containers.create(
            tag, ["/sbin/init"], name=name, hostname=hostname, detach=True,
            environment={"container": "docker"}, tmpfs=tmpfs,
            volumes={"/sys/fs/cgroup": {"bind": "/sys/fs/cgroup", "mode": "ro"}},
            stop_signal="SIGRTMIN+3", labels={LABEL: self.spec.name, "fleet.lab.host": hostname},
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

    def _wait(self, name: str, timeout: float = 60.0) -> LabHost:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            container = self.client.containers.get(name)
            ip = _ip(container, self.spec.network)
            if container.status == "running" and ip and _port_open(ip, 22):
                code, _ = container.exec_run(["test", "-s", "/etc/ssh/ssh_host_ed25519_key.pub"])
                if code == 0:
                    return LabHost(container.labels.get("fleet.lab.host", name), name, ip, container.status)
            if container.status in ("exited", "dead"):
                raise BootFailed(f"lab host {name} stopped while booting ({_stop_cause(container)})")
            time.sleep(0.2)
        raise FleetError(f"lab host {name} did not start sshd within {timeout:.0f} s")

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
                                 _ip(container, self.spec.network) or "-", container.status))
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


def _stop_cause(container: Any) -> str:
    """Why a container stopped: its exit code, the engine's error, its last lines of output."""
    state = container.attrs.get("State") or {}
    cause = f"exit code {state.get('ExitCode')}"
    if state.get("OOMKilled"):
        cause += ", killed for lack of memory"
    if state.get("Error"):
        cause += f", {state['Error']}"
    logs = container.logs(tail=20).decode("utf-8", "replace").strip()
    return cause + (f"; its last output:\n{logs}" if logs else "; no output")


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
