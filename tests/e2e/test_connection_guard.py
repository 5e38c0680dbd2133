"""The connection guard over real SSH: a change that locks the controller out is rolled back
(the next connection fails, the original agent restores the file), one that does not is kept.

No test races the watchdog's delay: a confirmed change is shown to stay by the watchdog ending
(long before its delay) without reverting, on a host whose every new connection is slow too."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from fleet.testing.sshd import LocalSSHD, find_sshd
from tests.conftest import fleet, require

SITE = Path(__file__).parent / "guard" / "site.yml"
WATCHDOG_DELAY = 900  # far beyond any run here: only a missing confirmation could let it act
DEADLINE = 180  # generous: a loaded 2-core machine has taken 5 s for what takes 1 s idle
# A ProxyCommand that makes every new connection 3 s slower (more than the 2 s the guard
# was once given here), then relays stdin/stdout to the sshd.
SLOW_RELAY = """
import os, socket, sys, threading, time
time.sleep(3)
sock = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
def upstream():
    while True:
        data = os.read(0, 65536)
        if not data:
            sock.shutdown(socket.SHUT_WR)
            return
        sock.sendall(data)
threading.Thread(target=upstream, daemon=True).start()
while True:
    data = sock.recv(65536)
    if not data:
        break
    os.write(1, data)
"""


def session_processes(port: int) -> list[int]:
    """Processes that SSH sessions of the sshd on ``port`` started (their SSH_CONNECTION names
    it): agents, and the connection guard's watchdogs, which outlive their session."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
        except OSError:  # gone, or another user's
            continue
        for variable in environ:
            if variable.startswith(b"SSH_CONNECTION="):
                if variable.split()[-1] == str(port).encode():
                    found.append(int(entry.name))
                break
    return found


@pytest.fixture
def own_sshd(tmp_path: Path) -> Iterator[LocalSSHD]:
    """An sshd of this test's own: the test rewrites its authorized_keys. What its sessions
    left running (a watchdog of a failed test) is stopped afterwards."""
    require(find_sshd() is not None, "sshd is not installed (apt-get install openssh-server)")
    server = LocalSSHD.start(tmp_path / "sshd")
    yield server
    server.stop()
    for pid in session_processes(server.port):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _inventory(sshd: LocalSSHD, path: Path, **variables: object) -> Path:
    data = {"all": {"hosts": {"h1": {**sshd.host_vars(), **variables}}}}
    path.write_text(yaml.safe_dump(data))
    return path


def test_a_change_that_locks_the_controller_out_is_rolled_back(own_sshd: LocalSSHD, tmp_path: Path) -> None:
    authorized = own_sshd.workdir / "authorized_keys"
    before = authorized.read_text()
    marker = tmp_path / "reached"
    inventory = _inventory(own_sshd, tmp_path / "inv.yml", access_path=str(authorized), access_content="",
                           marker_path=str(marker))
    run = fleet("apply", "-i", str(inventory), str(SITE), "--json", str(tmp_path / "r.json"))
    assert run.returncode == 1, run.stdout + run.stderr
    result = json.loads((tmp_path / "r.json").read_text())["hosts"]["h1"]["results"][0]
    assert result["status"] == "failed" and not result["changed"]
    assert "a fresh connection failed" in result["msg"] and "rolled back" in result["msg"], result["msg"]
    assert authorized.read_text() == before  # the controller can log in again
    assert not marker.exists()  # the host stopped at the failed task
    again = fleet("run", "-i", str(inventory), "all", "-m", "ping")
    assert again.returncode == 0, again.stdout + again.stderr


@pytest.mark.parametrize("connect", ["direct", "slow"])
def test_a_change_that_keeps_access_is_confirmed_and_stays(own_sshd: LocalSSHD, tmp_path: Path,
                                                          connect: str) -> None:
    target = tmp_path / "harmless"
    marker = tmp_path / "reached"
    slow = {}
    if connect == "slow":
        relay = tmp_path / "slow_relay.py"
        relay.write_text(SLOW_RELAY)
        slow = {"ansible_ssh_extra_args": f"-o 'ProxyCommand={sys.executable} {relay} {own_sshd.port}'"}
    inventory = _inventory(own_sshd, tmp_path / "inv.yml", access_path=str(target), access_content="new\n",
                           marker_path=str(marker), fleet_connection_guard_timeout=WATCHDOG_DELAY, **slow)
    run = fleet("apply", "-i", str(inventory), str(SITE), "--json", str(tmp_path / "r.json"), timeout=DEADLINE)
    assert run.returncode == 0, run.stdout + run.stderr
    result = json.loads((tmp_path / "r.json").read_text())["hosts"]["h1"]["results"][0]
    assert result["status"] == "changed"
    assert marker.read_text() == "a fresh connection succeeded\n"  # registered by the guard
    # The watchdog outlives the run; confirmed, it leaves within a second, long before its
    # delay, and never reverts. One still waiting was not told: it would revert the change.
    deadline = time.monotonic() + DEADLINE
    while (left := session_processes(own_sshd.port)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not left, f"the watchdog (pids {left}) still waits {DEADLINE} s after the run: not confirmed"
    assert target.read_text() == "new\n"


def test_the_guard_can_be_turned_off_per_host(own_sshd: LocalSSHD, tmp_path: Path) -> None:
    target = tmp_path / "harmless"
    inventory = _inventory(own_sshd, tmp_path / "inv.yml", access_path=str(target), access_content="x\n",
                           marker_path=str(tmp_path / "reached"), fleet_connection_guard=False)
    run = fleet("apply", "-i", str(inventory), str(SITE), "--json", str(tmp_path / "r.json"))
    assert run.returncode == 0, run.stdout + run.stderr
    result = json.loads((tmp_path / "r.json").read_text())["hosts"]["h1"]["results"][0]
    assert result["status"] == "changed"
    assert (tmp_path / "reached").read_text() == "not checked\n"  # no fresh connection was made
