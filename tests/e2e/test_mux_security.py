"""The persistence daemon as a credential cache: its lifetime cap, its memory, its imports.

Each test has its own daemon directory (``FLEET_MUX_DIR``), so it talks only to its own daemon.
"""

from __future__ import annotations

import ctypes
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import fleet, require
from tests.e2e.conftest import Lab
from tests.e2e.planted import fleet_in, make_project, plant

PR_CAPBSET_DROP = 24
CAP_SYS_PTRACE = 19
# May a process of our uid and capabilities open /proc/PID/mem, as a debugger would? The
# kernel refuses it for a non-dumpable process (exit 3). Exit 4: the probe still had
# CAP_SYS_PTRACE, which skips the check, so it would prove nothing.
PROBE = """\
import sys
caps = next(line for line in open('/proc/self/status') if line.startswith('CapEff:'))
if int(caps.split()[1], 16) >> 19 & 1:
    sys.exit(4)
try:
    open('/proc/%s/mem' % sys.argv[1], 'rb').close()
except PermissionError:
    sys.exit(3)
"""


def _without_ptrace_rights() -> None:
    """In a child before exec: no CAP_SYS_PTRACE (root's would skip the kernel's check). Without
    CAP_SETPCAP there is no capability to drop: the probe's exit 4 says if one was left."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_CAPBSET_DROP, CAP_SYS_PTRACE, 0, 0, 0)


@pytest.fixture
def persist(tmp_path: Path) -> Iterator[dict[str, str]]:
    env = {"FLEET_PERSIST": "30", "FLEET_MUX_DIR": str(tmp_path / "mux")}
    yield env
    fleet("mux", "stop", env=env)


def _agent_pid(lab: Lab, env: dict[str, str], *extra: str) -> int:
    result = fleet("run", "-i", str(lab.inventory), "h1", "-m", "shell", "-a", "echo agent=$PPID", *extra, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    return int(result.stdout.split("agent=")[1].split()[0])


def _status(env: dict[str, str]) -> dict:
    result = fleet("mux", "status", "--json", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_lease_cannot_keep_an_agent_past_the_daemons_cap(lab: Lab, tmp_path: Path) -> None:
    """The run that starts the daemon sets its cap (as the first ssh sets ControlPersist); a later
    run asking for an hour gets the cap, and the daemon itself leaves once nothing is kept."""
    env = {"FLEET_PERSIST": "15", "FLEET_MUX_DIR": str(tmp_path / "mux")}
    try:
        first = _agent_pid(lab, env)
        assert _agent_pid(lab, env, "--persist", "3600") == first  # reused: the same daemon
        state = _status(env)
        daemon = int(state["pid"])
        returned = time.monotonic()
        deadline = returned + 15 + 60  # the cap, and a loaded machine's slack
        while time.monotonic() < deadline and _alive(first):
            time.sleep(0.5)
        assert not _alive(first), "the agent outlived the daemon's 15 s cap"
        assert time.monotonic() - returned >= 8  # kept for about the cap, not dropped at once
        while time.monotonic() < deadline and _alive(daemon):
            time.sleep(0.5)
        assert not _alive(daemon), "the daemon outlived its cap with nothing to keep"
        assert state["persist"] == 15  # what `fleet mux status` tells
    finally:
        fleet("mux", "stop", env=env)


def test_the_daemon_cannot_be_traced_and_dumps_no_core(lab: Lab, persist: dict[str, str], tmp_path: Path) -> None:
    """prctl(PR_SET_DUMPABLE, 0) and RLIMIT_CORE 0, as ssh-agent: seen from outside the process."""
    require(sys.platform.startswith("linux"), "the daemon's memory protection is Linux's prctl")
    # The daemon and the probes get the same capabilities (the kernel also refuses a process
    # with fewer capabilities than its target), so only the daemon's dumpable flag decides.
    started = fleet_in(tmp_path, persist, "run", "-i", str(lab.inventory), "h1", "-a", "true",
                        preexec=_without_ptrace_rights)
    assert started.returncode == 0, started.stdout + started.stderr
    state = _status(persist)
    daemon = int(state["pid"])
    control = subprocess.Popen(["sleep", "120"], preexec_fn=_without_ptrace_rights)  # dumpable, our uid
    try:
        probes = {pid: subprocess.run([sys.executable, "-c", PROBE, str(pid)], preexec_fn=_without_ptrace_rights,
                                      capture_output=True, text=True, timeout=60)
                  for pid in (control.pid, daemon)}
    finally:
        control.kill()
        control.wait()
    require(probes[control.pid].returncode != 4, "cannot drop CAP_SYS_PTRACE here (CAP_SETPCAP is needed), "
                                                 "so a ptrace check would prove nothing")
    assert probes[control.pid].returncode == 0, probes[control.pid].stderr
    assert probes[daemon].returncode == 3, probes[daemon].stderr
    limits = Path(f"/proc/{daemon}/limits").read_text().splitlines()
    core = next(line for line in limits if line.startswith("Max core file size")).split()
    assert core[4:6] == ["0", "0"], core  # soft and hard
    assert state["dumpable"] is False and state["core_limit"] == [0, 0]  # its own report agrees


def test_the_daemon_imports_nothing_from_the_callers_directory(lab: Lab, persist: dict[str, str],
                                                                tmp_path: Path) -> None:
    project, markers = tmp_path / "project", tmp_path / "markers"
    make_project(lab, project)
    plant(project, markers)
    result = fleet_in(project, persist, "run", "-i", "inventory.yml", "h1", "-m", "shell", "-a", "echo agent=$PPID")
    assert result.returncode == 0, result.stdout + result.stderr
    assert sorted(p.name for p in markers.iterdir()) == []
    agent = int(result.stdout.split("agent=")[1].split()[0])
    assert [a["agent_pid"] for a in _status(persist)["idle"]] == [agent]  # the daemon ran it
    again = fleet_in(project, persist, "run", "-i", "inventory.yml", "h1", "-m", "shell", "-a", "echo agent=$PPID")
    assert int(again.stdout.split("agent=")[1].split()[0]) == agent, again.stdout + again.stderr
    assert sorted(p.name for p in markers.iterdir()) == []


def test_local_agents_of_the_daemon_run_in_the_callers_directory(persist: dict[str, str], tmp_path: Path) -> None:
    """Relative paths on a local connection mean what they mean without the daemon."""
    outputs = {}
    for name in ("one", "two"):
        directory = tmp_path / name
        directory.mkdir()
        result = fleet_in(directory, persist, "run", "-i", "localhost,", "-c", "local", "localhost", "-a", "pwd")
        assert result.returncode == 0, result.stdout + result.stderr
        outputs[name] = result.stdout
    assert str(tmp_path / "one") in outputs["one"] and str(tmp_path / "two") not in outputs["one"]
    assert str(tmp_path / "two") in outputs["two"] and str(tmp_path / "one") not in outputs["two"], outputs
