"""End-to-end fixtures: a real sshd on 127.0.0.1 and inventories of hosts that reach it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from fleet.executor.options import ENV_HOST_STATE_DIR
from fleet.testing.sshd import LocalSSHD, find_sshd
from tests.conftest import require


@pytest.fixture(autouse=True)
def private_host_state(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """The loopback hosts are this machine: their agents keep the run lock and pending handlers
    in a directory of the test's own (inherited by the fleet commands a test runs), never in
    this machine's /var/lib/fleet or /run/fleet, which tests running side by side would share."""
    monkeypatch.setenv(ENV_HOST_STATE_DIR, str(tmp_path_factory.mktemp("host-state")))


@pytest.fixture(scope="session")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalSSHD]:
    require(find_sshd() is not None, "sshd is not installed (apt-get install openssh-server)")
    server = LocalSSHD.start(tmp_path_factory.mktemp("sshd"))
    yield server
    server.stop()


@dataclass
class Lab:
    """N inventory hosts h1..hN on the local sshd, each with its own root directory."""

    inventory: Path
    roots: dict[str, Path]
    workdir: Path
    sshd: LocalSSHD


@pytest.fixture
def lab(sshd: LocalSSHD, tmp_path: Path) -> Lab:
    roots_dir = tmp_path / "hosts"
    inventory = sshd.inventory(tmp_path / "inventory.yml", 3, roots_dir)
    roots = {f"h{i}": roots_dir / f"h{i}" for i in range(1, 4)}
    return Lab(inventory, roots, tmp_path, sshd)


def snapshot(root: Path) -> dict[str, tuple[int, int, bytes | str]]:
    """Every path under root with its mode, mtime (ns) and content (or link target)."""
    state: dict[str, tuple[int, int, bytes | str]] = {}
    if not root.exists():
        return state
    for path in sorted(root.rglob("*")):
        st = path.lstat()
        if path.is_symlink():
            body: bytes | str = str(path.readlink())
        elif path.is_file():
            body = path.read_bytes()
        else:
            body = b""
        state[str(path.relative_to(root))] = (st.st_mode, st.st_mtime_ns, body)
    return state
