"""``async``/``poll`` and ``async_status`` (issue 15 item 8): tests/fixtures/async run by fleet and
by ansible-playbook over the local connection give the same registered results (polled, fired
and waited for, cleaned up, loops, check mode, changed_when/failed_when, an unknown job); then
what only fleet is asked (Ansible's own modules, through the bridge, as jobs too): a job outlives the run that started it, one past its limit is killed
with what it started, bad values and Ansible's own modules fail naming file:line."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO
from tests.unit.executor.conftest import Site
from tests.unit.executor.twins import run_twins

FIXTURE = REPO / "tests" / "fixtures" / "async"
# differ from run to run (ids, paths, times), or between the tools for every module, async or not:
# Ansible's "exception" placeholder, failed_when_result, a loop's "failed", fleet's structured diff
# and its words for a command skipped in check mode
VOLATILE = {"ansible_job_id", "results_file", "start", "end", "delta", "attempts", "child_pid", "invocation",
            "erased", "stat", "path", "dest", "uid", "gid", "owner", "group", "mode", "size", "state",
            "exception", "failed_when_result", "diff", "source"}
CHECKED = {"msg", "cmd", "rc"}


def _normal(value: Any, top: bool = True) -> Any:
    if isinstance(value, dict):
        drop = VOLATILE | ({"failed"} if top and "results" in value else set())
        return {k: _normal(v, False) for k, v in sorted(value.items())
                if k not in drop and not (k == "msg" and v == "")}
    if isinstance(value, list):
        return [_normal(v, False) for v in value]
    return value


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    base = tmp_path_factory.mktemp("async")
    env = dict(os.environ, ANSIBLE_HOME=str(base / "site" / "ansible-home"),
               ANSIBLE_LOCAL_TEMP=str(base / "site" / "ansible-local"),
               ANSIBLE_REMOTE_TMP=str(base / "site" / "ansible-remote"))
    twins = run_twins(FIXTURE, base, env=env)
    return {tool: {name: json.loads(text) for name, text in twins.outputs(tool).items()}
            for tool in ("fleet", "ansible")}


def test_registered_results_as_ansible(both: dict[str, dict[str, Any]]) -> None:
    fleet, ansible = both["fleet"], both["ansible"]
    assert sorted(fleet) == sorted(ansible)
    for name in sorted(ansible):
        mine, theirs = _normal(fleet[name]), _normal(ansible[name])
        if name == "checked_polled.json":  # the command's own check-mode words differ, not async's
            mine = {k: v for k, v in mine.items() if k not in CHECKED}
            theirs = {k: v for k, v in theirs.items() if k not in CHECKED}
        assert mine == theirs, name


def test_what_the_results_say(both: dict[str, dict[str, Any]]) -> None:
    fleet = both["fleet"]
    polled = fleet["polled.json"]
    assert (polled["stdout"], polled["finished"], polled["started"], polled["changed"]) == ("polled", True, True, True)
    assert polled["results_file"].endswith("/jobs-out-fleet/" + polled["ansible_job_id"])
    fired = fleet["fired.json"]
    assert {k: fired[k] for k in ("started", "finished", "changed", "failed")} == {
        "started": True, "finished": False, "changed": True, "failed": False}
    assert fleet["running.json"]["finished"] is False
    assert (fleet["waited.json"]["stdout"], fleet["waited.json"]["finished"]) == ("fired", True)
    assert fleet["cleaned.json"]["erased"] == fired["results_file"]
    assert fleet["gone.json"]["stat"]["exists"] is False
    assert (fleet["failing.json"]["failed"], fleet["failing.json"]["rc"]) == (True, 1)
    assert fleet["judged.json"]["changed"] is False
    assert [r["stdout"] for r in fleet["collected.json"]["results"]] == ["one", "two"]
    assert fleet["checked_polled.json"]["skipped"] is True
    assert fleet["checked_fired.json"]["started"] is True
    assert fleet["unknown.json"]["msg"] == "could not find job"
    # one of Ansible's own modules (the bridge) runs as a job too
    assert fleet["slurped.json"]["content"] == fleet["slurp_waited.json"]["content"]
    assert (fleet["slurped.json"]["finished"], fleet["slurp_fired.json"]["finished"]) == (True, False)
    assert "invocation" not in fleet["slurped.json"]


def _gone(marker: str, seconds: float) -> bool:
    """No process whose command line holds ``marker`` is left within ``seconds``."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        found = subprocess.run(["pgrep", "-f", marker], capture_output=True, check=False)
        if found.returncode:
            return True
        time.sleep(0.2)
    return False


def test_a_job_past_its_limit_fails_and_is_killed(site: Site) -> None:
    site.host_vars["h1"] = {"ansible_async_dir": str(site.root("h1") / "jobs")}
    run = site.run("""
        - hosts: h1
          gather_facts: false
          tasks:
            - name: slow
              shell: sleep 37.25; echo never
              async: 2
              poll: 1
              register: slow
              ignore_errors: true
        """)
    result = run.result("h1", "slow")
    assert result.status == "failed" and result.ignored, (result.status, result.msg)
    assert result.msg in ("Timeout exceeded", "async task did not complete within the requested time - 2s"), result.msg
    assert _gone("sleep 37.25", 10), "the job's command still runs"


def test_a_fired_job_outlives_the_run(site: Site) -> None:
    done = site.root("h1") / "done"
    site.host_vars["h1"] = {"ansible_async_dir": str(site.root("h1") / "jobs")}
    run = site.run(f"""
        - hosts: h1
          gather_facts: false
          tasks:
            - name: fire
              shell: sleep 2; echo later > {done}
              async: 30
              poll: 0
              register: fired
        """)
    assert run.status("h1", "fire") == "changed"
    assert not done.exists()  # the run ended first: it did not wait for the job
    end = time.monotonic() + 15
    while not done.exists() and time.monotonic() < end:
        time.sleep(0.2)
    assert done.read_text() == "later\n"
    path = Path(run.result("h1", "fire").data["results_file"])
    while "started" in (job := json.loads(path.read_text())) and time.monotonic() < end:
        time.sleep(0.2)  # the job writes its result after its command ended
    assert (job["stdout"], job["changed"], job["rc"]) == ("", True, 0), job


def test_async_values_are_checked_per_host(site: Site) -> None:
    run = site.run("""
        - hosts: h1
          gather_facts: false
          vars: {limit: soon}
          tasks:
            - name: bad
              command: echo x
              async: "{{ limit }}"
        """)
    result = run.result("h1", "bad")
    assert result.status == "failed"
    assert "async must be a number of seconds, got 'soon'" in result.msg


def test_zero_async_runs_the_task_as_usual(site: Site) -> None:
    run = site.run("""
        - hosts: h1
          gather_facts: false
          tasks:
            - name: plain
              command: echo plain
              async: 0
              poll: 0
              register: plain
            - name: look
              copy: {dest: "{{ root }}/plain", content: "{{ plain.stdout }} {{ 'ansible_job_id' in plain }}"}
        """)
    assert run.status("h1", "plain") == "changed"
    assert site.read("h1", "plain") == "plain False"
