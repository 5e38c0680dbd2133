"""The drift report for people on a terminal: host counts, then each host's drift with diffs."""

from __future__ import annotations

import time
from typing import Any

from rich.console import Console
from rich.text import Text

from fleet.drift.model import EXIT_CLEAN, EXIT_DRIFT, drifted_tasks
from fleet.drift.stored import VALUES_OMITTED
from fleet.report import render_diff, visible

STYLE = {"drifted": "bold yellow", "clean": "green", "unreachable": "bold red", "failed": "bold red"}


def utc(seconds: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(seconds))


def print_drift(console: Console, drift: dict[str, Any]) -> None:
    """The human summary of a drift section (the same for a run and for ``--show``)."""
    for name, host in drift["hosts"].items():
        if host["status"] in ("unreachable", "failed"):
            console.print(Text(visible(f"{host['status'].upper()}: {name}"), style=STYLE[host["status"]])
                          + Text(visible(f" — {host['error']}") if host["error"] else ""))
    for name, task in drifted_tasks(drift):
        item = task["drift"]
        when = "new" if item["state"] == "new" else f"persisting since {utc(item['first_seen'])}"
        if item.get("earlier_first_seen"):
            when += f", unlike the drift known since {utc(item['earlier_first_seen'])}"
        console.print(Text(visible(f"DRIFT: [{name}] {task['task']}"), style="bold yellow")
                      + Text(visible(f"  ({task['module']}, {task['location']}; {when})")))
        render_diff(console, item)
    if drift.get(VALUES_OMITTED) and drift["summary"]["drifted_tasks"]:
        console.print(Text("(before/after values are kept in --state-dir only with --diff)", style="dim"))
    for item in drift["resolved"]:
        console.print(Text(visible(f"RESOLVED: [{item['host']}] {item['task']}"), style="green")
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
