"""The persistence daemon ends while a run uses it (loopback sshd): the run hears it from the
daemon, names the daemon, and blames no host; the lab's version of these faults is
tests/integration/test_mux_faults.py."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import fleet
from tests.e2e.conftest import Lab

PLAYBOOK = """\
- hosts: all
  gather_facts: false
  tasks:
    - name: slow on h2
      shell: "{{{{ 'touch ' + marker + '-' + inventory_hostname + ('; sleep 20' if inventory_hostname == 'h2' else '') }}}}"
      vars: {{marker: {marker}}}
      register: slow  # ends a pipelined request: 'after' is sent once every host has finished 'slow'
    - name: after
      shell: "echo agent=$PPID > {{{{ root }}}}/done"
"""


@pytest.fixture
def persist(tmp_path: Path) -> Iterator[dict[str, str]]:
    env = {"FLEET_PERSIST": "30", "FLEET_MUX_DIR": str(tmp_path / "mux")}
    yield env
    fleet("mux", "stop", env=env)


def _run_and_strike(lab: Lab, env: dict[str, str], tmp_path: Path,
                    strike: Callable[[], object]) -> tuple[subprocess.CompletedProcess[str], dict]:
    marker = tmp_path / "slow-ran"
    playbook = tmp_path / "p.yml"
    playbook.write_text(PLAYBOOK.format(marker=marker))
    for root in lab.roots.values():
        root.mkdir(parents=True, exist_ok=True)

    def wait_then_strike() -> None:
        # h2 sleeps in its task; h1 and h3 must be between tasks (their 'slow' answered), however
        # loaded the machine: wait for every host's marker, then a moment for the answers
        markers = [marker.with_name(f"{marker.name}-{host}") for host in ("h1", "h2", "h3")]
        deadline = time.monotonic() + 60
        while not all(m.exists() for m in markers) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(1)
        strike()

    thread = threading.Thread(target=wait_then_strike, daemon=True)
    thread.start()
    result = fleet("apply", "-i", str(lab.inventory), str(playbook), "--json", str(tmp_path / "r.json"), env=env,
                   timeout=120)
    thread.join(60)
    assert "Traceback" not in result.stdout + result.stderr
    return result, json.loads((tmp_path / "r.json").read_text())


def _daemon(env: dict[str, str]) -> int:
    return int(json.loads(fleet("mux", "status", "--json", env=env).stdout)["pid"])


@pytest.mark.parametrize("how", ["fleet mux stop", "SIGTERM"])
def test_a_daemon_stopped_mid_run_tells_the_run(lab: Lab, persist: dict[str, str], tmp_path: Path,
                                                how: str) -> None:
    warm = fleet("run", "-i", str(lab.inventory), "all", "-m", "shell", "-a", "echo agent=$PPID", env=persist)
    assert warm.returncode == 0, warm.stdout
    kept = {agent["host"]: agent["agent_pid"] for agent in json.loads(fleet("mux", "status", "--json",
                                                                             env=persist).stdout)["idle"]}
    assert sorted(kept) == ["h1", "h2", "h3"]
    pid = _daemon(persist)
    strike = ((lambda: fleet("mux", "stop", env=persist)) if how == "fleet mux stop"
              else (lambda: os.kill(pid, signal.SIGTERM)))
    started = time.monotonic()
    result, report = _run_and_strike(lab, persist, tmp_path, strike)
    assert time.monotonic() - started < 60  # not the 20 s sleep's end plus a hang
    assert result.returncode == 1, result.stdout
    said = "'fleet mux stop'" if how == "fleet mux stop" else "SIGTERM"
    why = f"the persistence daemon (pid {pid}): was stopped ({said})"
    failed = report["hosts"]["h2"]["results"][-1]
    assert (failed["status"], failed["msg"]) == (
        "failed", f"{why}: whether the request reached the host, and what it did there, is unknown")
    assert report["summary"]["unreachable"] == 0 and "connection to the host lost" not in result.stdout
    assert report["warnings"] == [f"{why} during the run: any task under way through it failed; connecting directly"]
    for host in ("h1", "h3"):  # between tasks when it stopped: on over direct connections, new agents
        assert report["hosts"][host]["status"] == "changed"
        agent = int((lab.roots[host] / "done").read_text().removeprefix("agent="))
        assert agent != kept[host]
