"""Integration fixtures: one container lab (3 Debian hosts with systemd and sshd) per session.

The lab ``itest`` starts once (a few seconds once the image exists) and is removed at the end
of the session. Tests use their own paths (``/srv/test-<name>/``) so they do not depend on each
other; tests that break a host (stop it, cut its network) leave it to ``healed_lab``, which
brings every host back (recreated when stopped) and rewrites the inventory and known_hosts.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import IN_CI, fleet, require

LAB_NAME = "itest"
HOSTS = ("itest1", "itest2", "itest3")
SMALL = "/srv/small"  # a 64 KiB tmpfs on every host, for the full-disk test


@dataclass
class ITLab:
    """The session's lab: inventories for both connections and docker-side helpers."""

    lab: Any  # fleet.lab.lab.Lab
    directory: Path
    inventory: Path  # ssh, as `fleet lab up` writes it
    docker_inventory: Path  # the same containers over `ansible_connection: docker`

    # -- inventories ----------------------------------------------------------------------
    def inventory_for(self, connection: str) -> Path:
        return self.inventory if connection == "ssh" else self.docker_inventory

    def data(self) -> dict[str, Any]:
        """The ssh inventory as a dict (re-read: healing may rewrite it)."""
        return yaml.safe_load(self.inventory.read_text())

    def group(self, data: dict[str, Any]) -> dict[str, Any]:
        return data["all"]["children"][LAB_NAME]

    def derived(self, path: Path, host_vars: dict[str, dict[str, Any]] | None = None,
                group_vars: dict[str, Any] | None = None, drop: tuple[str, ...] = ()) -> Path:
        """A copy of the ssh inventory with some variables changed (``None`` deletes one)."""
        data = self.data()
        group = self.group(data)
        for name in drop:
            group["vars"].pop(name, None)
        for key, value in (group_vars or {}).items():
            group["vars"][key] = value
        for host, values in (host_vars or {}).items():
            group["hosts"][host].update(values)
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        return path

    def ip(self, host: str) -> str:
        return str(self.group(self.data())["hosts"][host]["ansible_host"])

    # -- containers -----------------------------------------------------------------------
    @staticmethod
    def container_name(host: str) -> str:
        return f"fleet-{LAB_NAME}-{host.removeprefix(LAB_NAME)}"

    def container(self, host: str) -> Any:
        return self.lab.client.containers.get(self.container_name(host))

    def sh(self, host: str, command: str, check: bool = True) -> str:
        """Run a shell command in the host (as root, via the docker API); return its output."""
        code, out = self.container(host).exec_run(["sh", "-c", command])
        text = out.decode("utf-8", errors="replace")
        if check and code != 0:
            raise AssertionError(f"{host}: {command!r} exited {code}: {text}")
        return text

    def read(self, host: str, path: str) -> str:
        return self.sh(host, f"cat {path}")

    def exists(self, host: str, path: str) -> bool:
        return self.container(host).exec_run(["test", "-e", path])[0] == 0

    def stat(self, host: str, path: str) -> tuple[str, str, str]:
        """(octal mode, owner, group) of a path on the host."""
        mode, owner, group = self.sh(host, f"stat -c '%a %U %G' {path}").split()
        return mode.zfill(4), owner, group

    def diff(self, host: str) -> list[tuple[str, int]]:
        """``docker diff`` of the host: sorted (path, kind) pairs (0 changed, 1 added, 2 deleted)."""
        return sorted((c["Path"], c["Kind"]) for c in self.container(host).diff() or [])

    def tree(self, host: str, root: str) -> str:
        """Every path under root with type, mode, owner, mtime, size and a content digest."""
        return self.sh(host, f"[ -e {root} ] || exit 0; find {root} -printf '%p %y %m %U %T@ %s\\n' | sort; "
                             f"find {root} -type f -exec md5sum {{}} + | sort")

    def reset(self, host: str, *paths: str) -> None:
        """Remove paths on a host (what a test wrote), so a re-run starts clean."""
        self.sh(host, "rm -rf " + " ".join(paths))

    # -- healing --------------------------------------------------------------------------
    def broken(self) -> bool:
        network = self.lab.spec.network
        for host in HOSTS:
            container = self.container(host)
            container.reload()
            if container.status != "running" or network not in container.attrs["NetworkSettings"]["Networks"]:
                return True
        return False

    def heal(self) -> None:
        """Reconnect cut hosts, recreate stopped ones, rewrite the inventory and known_hosts."""
        network = self.lab.client.networks.get(self.lab.spec.network)
        for host in HOSTS:
            container = self.container(host)
            container.reload()
            if container.status == "running" and self.lab.spec.network not in container.attrs["NetworkSettings"]["Networks"]:
                network.connect(container)
        self.lab.up(inventory_out=self.inventory)
        _write_docker_inventory(self.inventory, self.docker_inventory)


def _write_docker_inventory(ssh_inventory: Path, out: Path) -> None:
    """The same hosts over ``ansible_connection: docker`` (container names as ``ansible_host``)."""
    data = yaml.safe_load(ssh_inventory.read_text())
    group = data["all"]["children"][LAB_NAME]
    for values in group["hosts"].values():
        values["ansible_host"] = values["lab_container"]
    group["vars"] = {"ansible_connection": "docker"}
    out.write_text(yaml.safe_dump(data, sort_keys=False))


def _start_engine() -> str | None:
    """None when a Docker engine answers (started if need be), else why not."""
    from fleet.errors import FleetError
    from fleet.lab.engine import engine_answers, ensure_engine

    if engine_answers():
        return None
    if not IN_CI and os.geteuid() != 0:
        return "no Docker engine answers (start dockerd, or run as root to let the tests start it)"
    try:
        ensure_engine(say=lambda line: None)
    except FleetError as exc:
        return str(exc).splitlines()[0]
    return None


@contextlib.contextmanager
def _exclusive(path: Path, timeout: float = 900) -> Iterator[None]:
    """One integration session at a time on this machine (they share the lab's names)."""
    with open(path, "w") as handle:
        deadline = time.monotonic() + timeout
        told = False
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    pytest.fail(f"another integration session held {path} for {timeout:.0f} s")
                if not told:
                    print(f"waiting for another integration session to finish ({path})")
                    told = True
                time.sleep(1)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def lab_client() -> Any:
    """A docker client, once the engine answers and the lab image exists (or can be built);
    for tests that start labs of their own, without the session's lab and its lock."""
    problem = _start_engine()
    require(problem is None, f"the container lab needs Docker: {problem}")
    from fleet.lab.image import find_image
    from fleet.lab.lab import docker_client

    client = docker_client()
    built = find_image(client) is not None  # (tags an image from before lab releases anew)
    require(built or os.geteuid() == 0, "the lab image is not built and building it needs root "
                                        "(run `fleet lab setup` as root)")
    return client


@pytest.fixture(scope="session")
def itlab(lab_client: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ITLab]:
    with _exclusive(Path(tempfile.gettempdir()) / "fleet-itest.lock"):
        yield from _session_lab(tmp_path_factory)


def _session_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ITLab]:
    from fleet.lab.lab import Lab, LabSpec

    directory = tmp_path_factory.mktemp("itest-lab")
    lab = Lab(LabSpec(name=LAB_NAME, hosts=len(HOSTS), directory=directory, tmpfs={SMALL: "size=64k"}),
              say=lambda line: print(line))
    lab.down()  # leftovers of an interrupted session
    try:
        inventory = lab.up(inventory_out=directory / "inventory.yml")
        docker_inventory = directory / "docker-inventory.yml"
        _write_docker_inventory(inventory, docker_inventory)
        yield ITLab(lab, directory, inventory, docker_inventory)
    finally:
        lab.down()


@pytest.fixture
def lab(itlab: ITLab) -> Iterator[ITLab]:
    """The session lab, healed after the test if the test broke a host."""
    yield itlab
    if itlab.broken():
        itlab.heal()


@pytest.fixture(params=["ssh", "docker"])
def connection(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def report(path: Path) -> dict[str, Any]:
    """A run's JSON report."""
    return json.loads(path.read_text())


def run_fleet(*args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    """``fleet ARGS``; asserts no traceback reached the user."""
    result = fleet(*args, timeout=timeout)
    assert "Traceback" not in result.stdout + result.stderr, result.stdout + result.stderr
    return result


def output(result: subprocess.CompletedProcess[str]) -> str:
    return result.stdout + result.stderr


# Role tests under roles/*/tests are testinfra tests for `fleet verify` (they need --hosts).
collect_ignore_glob = ["roles/*"]
