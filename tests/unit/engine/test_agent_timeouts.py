"""The agent's side of the ``timeout`` keyword: a call's own deadline kills the command with
the processes it started and marks the result ``timedout``; a command that leaves a job in the
background returns when it exits (Ansible's run_command), not when the job ends."""

from __future__ import annotations

import os
import time
from pathlib import Path

from fleet.agent.main import Agent
from fleet.connection.calls import ModuleCall, request_wait, source_hash
from tests.conftest import REPO

SOURCE = (REPO / "modules" / "shell.py").read_text()
SHA = source_hash(SOURCE)


def run(calls: list[dict], **request: object) -> dict:
    """One run request to an in-process agent that is sent the shell module's source."""
    return Agent().handle({"op": "run", "id": 1, "calls": calls, "sources": {SHA: SOURCE}, **request})


def alive(pid: int) -> bool:
    """Running (a zombie no init has reaped yet is dead)."""
    try:
        os.kill(pid, 0)
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (ProcessLookupError, FileNotFoundError):
        return False
    return state != "Z"


def test_a_call_outliving_its_timeout_is_killed_with_what_it_started(tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    call = {"module": "shell", "sha": SHA, "task": 1, "timeout": 1,
            "params": {"cmd": f"sleep 60 & echo $! > {pidfile}; sleep 60"}}
    started = time.monotonic()
    answer = run([call, dict(call, task=2, timeout=None, params={"cmd": "echo next"})], timeout=120)
    assert time.monotonic() - started < 30
    first = answer["results"][0]
    assert first["status"] == "failed" and first["timedout"] == 1
    assert not alive(int(pidfile.read_text()))
    assert answer["results"][1]["status"] == "changed" and "timedout" not in answer["results"][1]


def test_a_background_job_does_not_hold_the_call() -> None:
    call = {"module": "shell", "sha": SHA, "task": 1, "params": {"cmd": "sleep 20 & echo started"}}
    started = time.monotonic()
    answer = run([call])
    assert time.monotonic() - started < 5
    (result,) = answer["results"]
    assert result["status"] == "changed" and result["data"]["stdout"] == "started"


def test_the_controller_waits_as_long_as_the_calls_may_take() -> None:
    def call(task: int, timeout: float | None) -> ModuleCall:
        return ModuleCall("shell", "", "sha", {}, task=task, timeout=timeout)

    assert request_wait([call(1, None)], None) is None
    assert request_wait([call(1, None), call(2, None)], 10) == 25.0
    assert request_wait([call(1, 2), call(2, 3)], None) == 16.0
    assert request_wait([call(1, 2), call(2, None)], 10) == 25.0
    assert request_wait([call(1, 100)], 10) == 15.0
