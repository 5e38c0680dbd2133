"""Async jobs, piece by piece: the job file as Ansible's async_status reads it (fleet.agent.asyncjob),
a detached job's life and limit, and the controller's polling when the host goes away
(fleet.executor.asyncjobs.wait)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from fleet.agent import asyncjob
from fleet.connection import ModuleCall
from fleet.executor import asyncjobs
from fleet.executor.plan import Unreachable
from fleet.registry import ModuleRegistry


def _until(path: Path, test, seconds: float = 10.0) -> dict:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if path.exists():
            data = json.loads(path.read_text())
            if test(data):
                return data
        time.sleep(0.05)
    raise AssertionError(f"{path}: {path.read_text() if path.exists() else 'missing'}")


def test_status_of_a_missing_job_is_ansibles_failure(tmp_path: Path) -> None:
    value = asyncjob.status("j1.2", "status", str(tmp_path))
    assert value == {"started": True, "finished": True, "failed": True, "msg": "could not find job",
                     "ansible_job_id": "j1.2", "results_file": str(tmp_path / "j1.2"), "changed": False,
                     "stdout": "", "stderr": "", "stdout_lines": [], "stderr_lines": []}
    assert asyncjob.status("../x", "status", str(tmp_path))["msg"] == "could not find job"


def test_status_reads_running_finished_and_broken_jobs(tmp_path: Path) -> None:
    (tmp_path / "run").write_text(json.dumps({"started": 1, "finished": 0, "ansible_job_id": "run"}))
    (tmp_path / "done").write_text(json.dumps({"rc": 0, "stdout": "hi", "changed": True}))
    (tmp_path / "empty").write_text("")
    (tmp_path / "broken").write_text("{nope")
    running = asyncjob.status("run", "status", str(tmp_path))
    assert (running["started"], running["finished"], running["changed"]) == (True, False, False)
    done = asyncjob.status("done", "status", str(tmp_path))
    assert (done["finished"], done["stdout"], done["rc"], done["ansible_job_id"]) == (True, "hi", 0, "done")
    assert asyncjob.status("empty", "status", str(tmp_path))["finished"] is False
    broken = asyncjob.status("broken", "status", str(tmp_path))
    assert (broken["failed"], broken["msg"]) == (True, "Could not parse job output: {nope")
    cleaned = asyncjob.status("done", "cleanup", str(tmp_path))
    assert cleaned["erased"] == str(tmp_path / "done") and not (tmp_path / "done").exists()
    assert (cleaned["started"], cleaned["finished"]) == (False, False)


def test_tilde_is_the_home_of_the_user_the_agent_runs_as(monkeypatch: pytest.MonkeyPatch) -> None:
    import pwd

    monkeypatch.setenv("HOME", "/somebody/else")  # as sudo may leave it
    assert asyncjob.job_dir("~/.ansible_async") == pwd.getpwuid(os.geteuid()).pw_dir + "/.ansible_async"
    assert asyncjob.job_dir(None).endswith("/.ansible_async")


def test_a_job_writes_its_result_in_ansibles_shape(tmp_path: Path) -> None:
    def run(deadline: float | None) -> dict[str, Any]:
        assert deadline is not None
        return {"status": "changed", "changed": True, "msg": "", "data": {"rc": 0, "stdout": "out"},
                "warnings": ["careful"]}

    launched = asyncjob.launch(run, {"limit": 30, "dir": str(tmp_path / "jobs")})
    data = launched["data"]
    assert (launched["status"], data["started"], data["finished"], data["changed"]) == ("changed", True, False, True)
    path = Path(data["results_file"])
    assert path.parent == tmp_path / "jobs" and path.name == data["ansible_job_id"]
    job = _until(path, lambda d: "started" not in d)
    assert job == {"rc": 0, "stdout": "out", "changed": True, "failed": False, "warnings": ["careful"]}


def test_a_job_past_its_limit_is_killed_with_its_group(tmp_path: Path) -> None:
    marker = tmp_path / "pid"

    def run(deadline: float | None) -> dict[str, Any]:
        child = subprocess.Popen(["sleep", "41.5"])  # in the worker's process group
        marker.write_text(str(child.pid))
        child.wait()
        return {"status": "ok", "changed": False, "data": {}}

    launched = asyncjob.launch(run, {"limit": 1, "dir": str(tmp_path)})
    job = _until(Path(launched["data"]["results_file"]), lambda d: "started" not in d)
    assert (job["failed"], job["msg"]) == (True, "Timeout exceeded")
    pid = int(marker.read_text())
    end = time.monotonic() + 5
    while Path(f"/proc/{pid}").exists() and time.monotonic() < end:
        time.sleep(0.05)
    assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2]


def test_a_job_directory_that_cannot_be_made_fails_the_launch(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    launched = asyncjob.launch(lambda deadline: {}, {"limit": 5, "dir": str(tmp_path / "file" / "jobs")})
    assert launched["status"] == "failed"
    assert launched["msg"].startswith(f"could not create directory: {tmp_path / 'file' / 'jobs'} - ")


def _launch_call() -> ModuleCall:
    return ModuleCall("command", "", "sha", {}, job={"limit": 3, "dir": "/jobs", "poll": 1})


LAUNCHED = [{"status": "changed", "changed": True, "data": {"ansible_job_id": "j1.1", "started": True}}]


def test_polling_a_host_that_stays_away_ends_within_the_limit() -> None:
    tries: list[float] = []

    async def away(calls: list[ModuleCall]) -> list[dict[str, Any]]:
        tries.append(time.monotonic())
        await asyncio.sleep(1.5)  # a connection attempt that times out
        raise Unreachable("host gone")

    started = time.monotonic()
    with pytest.raises(Unreachable, match="host gone"):
        asyncio.run(asyncjobs.wait(away, ModuleRegistry(use_entry_points=False), [_launch_call()], LAUNCHED))
    assert len(tries) == 2 and time.monotonic() - started < 6


def test_polling_goes_on_after_a_lost_connection() -> None:
    answers: list[Any] = [Unreachable("bounce"), {"finished": True, "stdout": "ok", "changed": True}, {}]
    sent: list[dict[str, Any]] = []

    async def bouncing(calls: list[ModuleCall]) -> list[dict[str, Any]]:
        sent.append(calls[0].params)
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return [{"status": "ok", "changed": False, "data": answer}]

    final = asyncio.run(asyncjobs.wait(bouncing, ModuleRegistry(use_entry_points=False), [_launch_call()], LAUNCHED))
    assert final[0]["data"]["stdout"] == "ok"
    assert [p["mode"] for p in sent] == ["status", "status", "cleanup"]
    assert {p["jid"] for p in sent} == {"j1.1"} and {p["async_dir"] for p in sent} == {"/jobs"}


def test_a_job_still_running_at_the_limit_fails_with_ansibles_words() -> None:
    async def running(calls: list[ModuleCall]) -> list[dict[str, Any]]:
        return [{"status": "ok", "changed": False, "data": {"started": True, "finished": False}}]

    final = asyncio.run(asyncjobs.wait(running, ModuleRegistry(use_entry_points=False), [_launch_call()], LAUNCHED))
    outcome = asyncjobs.outcome(final)
    assert outcome.status == "failed"
    assert outcome.registered() == {"failed": True, "changed": False, "async_result": {"started": True, "finished": False},
                                    "msg": "async task did not complete within the requested time - 3s"}


def test_an_interrupt_while_polling_names_the_job_left_running() -> None:
    from fleet.executor.hoststate import Interrupted

    async def interrupted(calls: list[ModuleCall]) -> list[dict[str, Any]]:
        raise Interrupted()

    launched = [{"status": "changed", "changed": True,
                 "data": {"ansible_job_id": "j7.7", "started": True, "results_file": "/jobs/j7.7"}}]
    final = asyncio.run(asyncjobs.wait(interrupted, ModuleRegistry(use_entry_points=False), [_launch_call()], launched))
    assert final[0]["status"] == "failed"
    assert final[0]["msg"] == "interrupted while polling async job j7.7: it goes on on the host (/jobs/j7.7)"
