"""The drift report for people on a terminal: host counts, then each host's drift with diffs."""

from __future__ import annotations

import time
from typing import Any

from rich.console import Console
from rich.status import Status
from rich.text import Text

from fleet.drift.model import EXIT_CLEAN, EXIT_DRIFT, drifted_tasks
from fleet.playbook.models import Play, Task
from fleet.report.terminal import TerminalReporter, render_diff
from fleet.result import RunReport, TaskResult

STYLE = {"drifted": "bold yellow", "clean": "green", "unreachable": "bold red", "failed": "bold red"}


def utc(seconds: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(seconds))


class DriftProgress:
    """While the check runs: one progress line on a terminal, nothing in logs. With ``-v`` the
    check run's usual task lines instead."""

    def __init__(self, console: Console, verbosity: int) -> None:
        self.console = console
        self.lines = TerminalReporter(console, verbosity, diff=True, mode="check") if verbosity else None
        self._status: Status | None = None
        self._task = ""
        self._hosts = self._answered = 0

    def play_start(self, play: Play, hosts: list[str]) -> None:
        if self.lines:
            self.lines.play_start(play, hosts)
        self._hosts = len(hosts)

    def task_start(self, task: Task, handler: bool) -> None:
        if self.lines:
            self.lines.task_start(task, handler)
        self._task, self._answered = task.display_name, 0
        self._show()

    def task_result(self, result: TaskResult) -> None:
        if self.lines:
            self.lines.task_result(result)
        self._answered += 1
        self._show()

    def run_end(self, report: RunReport) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None

    def _show(self) -> None:
        if self.lines or not self.console.is_terminal:
            return
        text = f"checking: {self._task}  {self._answered}/{self._hosts} hosts"
        if self._status is None:
            self._status = self.console.status(text)
            self._status.start()
        else:
            self._status.update(text)


def print_drift(console: Console, drift: dict[str, Any]) -> None:
    """The human summary of a drift section (the same for a run and for ``--show``)."""
    for name, host in drift["hosts"].items():
        if host["status"] in ("unreachable", "failed"):
            console.print(Text(f"{host['status'].upper()}: {name}", style=STYLE[host["status"]])
                          + Text(f" — {host['error']}" if host["error"] else ""))
    for name, task in drifted_tasks(drift):
        item = task["drift"]
        when = "new" if item["state"] == "new" else f"persisting since {utc(item['first_seen'])}"
        console.print(Text(f"DRIFT: [{name}] {task['task']}", style="bold yellow")
                      + Text(f"  ({task['module']}, {task['location']}; {when})"))
        render_diff(console, item)
    for item in drift["resolved"]:
        console.print(Text(f"RESOLVED: [{item['host']}] {item['task']}", style="green")
                      + Text(f"  (first seen {utc(item['first_seen'])})"))
    summary = drift["summary"]
    console.print()
    console.print(Text("hosts: ") + Text(f"{summary['drifted']} drifted", style=STYLE["drifted"] if summary["drifted"] else "")
                  + Text(f", {summary['clean']} clean, ")
                  + Text(f"{summary['unreachable']} unreachable, {summary['failed']} failed",
                         style="bold red" if summary["unreachable"] or summary["failed"] else "")
                  + Text(f" (of {summary['hosts']})"))
    console.print(f"drifted tasks: {summary['drifted_tasks']} ({summary['new']} new, "
                  f"{summary['persisting']} persisting), {summary['resolved']} resolved since the last run")
    verdict = {EXIT_CLEAN: ("NO DRIFT", "green"), EXIT_DRIFT: ("DRIFT", "bold yellow")}.get(
        drift["exit_code"], ("ERRORS", "bold red"))
    if drift["exit_code"] == EXIT_CLEAN and summary["drifted_tasks"]:
        verdict = ("NO NEW DRIFT (known drift persists; --fail-on new)", "yellow")
    console.print(Text(verdict[0], style=verdict[1])
                  + Text(f" — run {drift['run_id']} of {drift['playbook']} in {drift['duration_s']:.2f} s, "
                         f"exit {drift['exit_code']}"))
