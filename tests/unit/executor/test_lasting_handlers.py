"""Handlers that outlive a run and interrupts, with real local agents: what the report says,
what the hosts keep (in the test's own FLEET_HOST_STATE_DIR), what the next run does."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from pathlib import Path

from fleet.executor.interrupt import run_with_signals
from fleet.executor.options import ENV_HOST_STATE_DIR
from fleet.result import RunReport
from tests.unit.executor.conftest import Site

HANDLERS = """
  handlers:
    - name: restart
      shell: echo restarted >> {{ root }}/restarts
"""


def _records() -> list[dict]:
    path = Path(os.environ[ENV_HOST_STATE_DIR]) / "handlers.json"
    return json.loads(path.read_text())["pending"] if path.exists() else []


def _playbook(tasks: str, name: str = "lasting") -> str:
    return f"- hosts: h1\n  name: {name}\n  gather_facts: false\n  tasks:\n{tasks}{HANDLERS}"


def test_a_handler_a_failure_left_runs_at_the_next_run_once(site: Site) -> None:
    tasks = ("    - copy: {dest: '{{ root }}/conf', content: 'x'}\n      notify: restart\n"
             "    - command: '{{ later }}'\n")
    failed = site.run(_playbook(tasks), extra_vars={"later": "false"})
    assert failed.exit_code == 1
    assert [(p["handler"], p["kept_on_host"]) for p in failed.json["hosts"]["h1"]["pending_handlers"]] \
        == [("restart", True)]
    assert [(r["host"], r["play"], r["handler"], r["task"]) for r in _records()] \
        == [("h1", "site.yml: lasting", "restart", "copy")]
    fixed = site.run(None, extra_vars={"later": "true"})
    assert fixed.exit_code == 0
    assert site.read("h1", "restarts") == "restarted\n"
    earlier = fixed.result("h1", "restart").earlier_run
    assert earlier is not None and earlier["notified_by"] == "copy"
    assert abs(earlier["since"] - failed.json["hosts"]["h1"]["pending_handlers"][0]["since"]) < 5  # two clocks
    assert _records() == [] and fixed.json["hosts"]["h1"]["pending_handlers"] == []
    site.run(None, extra_vars={"later": "true"})
    assert site.read("h1", "restarts") == "restarted\n"


def test_an_earlier_runs_handler_waits_for_the_tasks_after_pre_tasks(site: Site) -> None:
    """A handler notified by a task of ``tasks`` runs, in the next run, at a flush after those
    tasks (with what they set, here the handler's own name for the service), not at the flush
    that follows ``pre_tasks``; a run that fails before then leaves it pending, as Ansible has
    no notification there to run (geerlingguy.redis's 'restart redis' reads redis_daemon)."""
    play = ("- hosts: h1\n  name: waits\n  gather_facts: false\n"
            "  pre_tasks:\n    - command: /bin/true\n"
            "  tasks:\n    - set_fact: {daemon: svc}\n"
            "    - copy: {dest: '{{ root }}/conf', content: 'x'}\n      notify: restart\n"
            "    - command: '{{ later }}'\n"
            "  handlers:\n    - name: restart\n      shell: echo {{ daemon }} >> {{ root }}/restarts\n")
    assert site.run(play, extra_vars={"later": "false"}).exit_code == 1
    assert [r["handler"] for r in _records()] == ["restart"]
    again = site.run(None, extra_vars={"later": "false"})
    assert again.exit_code == 1 and not site.exists("h1", "restarts")  # failed before the flush
    assert [r["handler"] for r in _records()] == ["restart"]
    fixed = site.run(None, extra_vars={"later": "true"})
    assert fixed.exit_code == 0, fixed.json
    assert site.read("h1", "restarts") == "svc\n" and _records() == []


def test_a_notification_decided_on_the_controller_is_remembered_too(site: Site) -> None:
    tasks = ("    - command: /bin/true\n      changed_when: true\n      notify: restart\n"
             "    - command: /bin/false\n")
    run = site.run(_playbook(tasks, "decided"))
    assert run.exit_code == 1
    assert [(r["play"], r["handler"]) for r in _records()] == [("site.yml: decided", "restart")]


def test_a_handler_no_longer_in_the_play_is_forgotten_with_a_warning(site: Site) -> None:
    tasks = ("    - copy: {dest: '{{ root }}/conf', content: 'x'}\n      notify: restart\n"
             "    - command: /bin/false\n")
    site.run(_playbook(tasks, "renamed"))
    assert len(_records()) == 1
    renamed = _playbook("    - command: /bin/true\n", "renamed").replace("name: restart", "name: reload")
    run = site.run(renamed)
    assert any("handler 'restart' of play 'site.yml: renamed'" in w and w.endswith("is no longer in the play: "
                                                                                "forgotten") for w in run.report.warnings)
    assert _records() == [] and not site.exists("h1", "restarts")


def test_an_interrupted_run_starts_no_task_after_the_one_in_flight(site: Site) -> None:
    prepared = site.prepare(_playbook("    - copy: {dest: '{{ root }}/conf', content: 'x'}\n      notify: restart\n"
                                      "    - shell: touch {{ root }}/started && sleep 1 && touch {{ root }}/slept\n"
                                      "    - copy: {dest: '{{ root }}/after', content: 'x'}\n", "stopped"))

    async def interrupt_when_the_shell_runs(state) -> None:
        # the interrupt must land while the shell task is in flight, however slow the machine
        while not site.exists("h1", "started"):
            await asyncio.sleep(0.02)
        state.interrupt(signal.SIGTERM)

    async def interrupted() -> RunReport:
        state = prepared.state()
        watcher = asyncio.create_task(interrupt_when_the_shell_runs(state))
        try:
            return await run_with_signals(state, prepared.playbook, aborted=lambda report: None)
        finally:
            watcher.cancel()

    report = asyncio.run(interrupted())
    assert report.interrupted == "SIGTERM" and report.exit_code() == 143
    data = report.to_dict()
    assert data["interrupted"] is True
    assert [r["task"] for r in data["hosts"]["h1"]["results"]] == ["copy", "shell"]
    assert [p["handler"] for p in data["hosts"]["h1"]["pending_handlers"]] == ["restart"]
    assert site.exists("h1", "slept") and not site.exists("h1", "after") and not site.exists("h1", "restarts")
