"""Persistent agents (--persist / FLEET_PERSIST): kept between runs by a private daemon."""

from __future__ import annotations

import json
import os
import signal
import stat
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from fleet.connection.mux.protocol import socket_name
from tests.conftest import fleet
from tests.e2e.conftest import Lab

SITE = Path(__file__).parent / "site" / "site.yml"


@pytest.fixture
def persist(tmp_path: Path) -> Iterator[dict[str, str]]:
    env = {"FLEET_PERSIST": "30", "FLEET_MUX_DIR": str(tmp_path / "mux")}
    yield env
    fleet("mux", "stop", env=env)


def _agent_pid(lab: Lab, env: dict[str, str], *extra: str) -> int:
    result = fleet("run", "-i", str(lab.inventory), "h1", "-m", "shell", "-a", "echo agent=$PPID", *extra, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    return int(result.stdout.split("agent=")[1].split()[0])


def test_agents_are_reused_between_runs_until_stopped(lab: Lab, persist: dict[str, str]) -> None:
    first = _agent_pid(lab, persist)
    assert _agent_pid(lab, persist) == first
    state = json.loads(fleet("mux", "status", "--json", env=persist).stdout)
    assert [a["agent_pid"] for a in state["idle"]] == [first]
    assert fleet("mux", "stop", env=persist).stdout.strip() == "stopped"
    assert _agent_pid(lab, persist) != first


def test_private_socket_and_different_settings_get_their_own_agent(lab: Lab, persist: dict[str, str]) -> None:
    plain = _agent_pid(lab, persist)
    become = _agent_pid(lab, persist, "-b", "--become-user", "nobody")
    assert become != plain
    mux_dir = Path(persist["FLEET_MUX_DIR"])
    assert stat.S_IMODE(mux_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE((mux_dir / socket_name()).stat().st_mode) == 0o600
    assert fleet("run", "-i", str(lab.inventory), "h1", "-a", "true", "--persist", "0",
                 env=persist).returncode == 0


def test_a_dead_kept_agent_is_replaced(lab: Lab, persist: dict[str, str]) -> None:
    first = _agent_pid(lab, persist)
    os.kill(first, signal.SIGKILL)
    time.sleep(0.2)
    second = _agent_pid(lab, persist)
    assert second != first


def test_converge_and_reapply_through_the_daemon(lab: Lab, persist: dict[str, str], tmp_path: Path) -> None:
    assert fleet("apply", "-i", str(lab.inventory), str(SITE), env=persist).returncode == 0
    again = fleet("apply", "-i", str(lab.inventory), str(SITE), "--json", str(tmp_path / "r.json"), env=persist)
    assert again.returncode == 0, again.stdout
    assert json.loads((tmp_path / "r.json").read_text())["summary"]["changed"] == 0
    for root in lab.roots.values():
        assert (root / "etc/app.conf").exists()


def test_the_daemon_leaves_when_idle(lab: Lab, tmp_path: Path) -> None:
    env = {"FLEET_PERSIST": "1", "FLEET_MUX_DIR": str(tmp_path / "mux")}
    _agent_pid(lab, env)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and "no persistence daemon" not in fleet("mux", "status", env=env).stdout:
        time.sleep(0.5)
    assert "no persistence daemon" in fleet("mux", "status", env=env).stdout
    assert not (tmp_path / "mux" / socket_name()).exists()



def test_the_daemon_takes_a_whole_run_of_leases_at_once(persist: dict[str, str],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Every host of a run asks the daemon at the same moment. 400 connections opened before the
    daemon accepts any must all get in: asyncio's default backlog (100) refused the rest, and
    a 200-host run lost 10 hosts as 'unreachable'."""
    import socket

    from fleet.connection.mux.client import ensure_daemon
    from fleet.connection.mux.protocol import socket_path

    monkeypatch.setenv("FLEET_MUX_DIR", persist["FLEET_MUX_DIR"])
    assert ensure_daemon()
    daemon = int(json.loads(fleet("mux", "status", "--json", env=persist).stdout)["pid"])
    os.kill(daemon, signal.SIGSTOP)  # not accepting: every connection waits in the backlog
    sockets, refused = [], 0
    try:
        for _ in range(400):
            sock = socket.socket(socket.AF_UNIX)
            sock.setblocking(False)
            try:
                sock.connect(str(socket_path()))
            except (BlockingIOError, ConnectionRefusedError):
                refused += 1
            sockets.append(sock)
    finally:
        os.kill(daemon, signal.SIGCONT)
        for sock in sockets:
            sock.close()
    assert refused == 0
