"""Live terminal output: a line per change or failure, diffs on request, a recap table.

On a terminal a one-line progress display shows the current task and how many hosts have
answered; without one (CI logs, pipes) only the lines are printed, never wrapped. ``ok``/
``skipped`` lines appear from ``-v``; module return data from ``-vv``; module tracebacks from
``-vvv``. A task's warnings are printed once the task is done, the same warning of several
hosts or settings on one line (:mod:`fleet.report.caveats`). What came from a host (output,
diffs, messages) is printed with its control characters escaped
(:func:`fleet.report.controls.visible`).
"""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.status import Status
from rich.table import Table
from rich.text import Text

from fleet.playbook import Play, Task
from fleet.report.caveats import TaskWarnings
from fleet.report.controls import visible
from fleet.report.words import plural
from fleet.result import RunReport, TaskResult, when

DEPRECATION = "[DEPRECATION] "  # how a module's deprecation is marked among a result's warnings (executor/bridged.py)
STYLE = {"ok": "green", "changed": "yellow", "failed": "bold red", "unreachable": "bold red",
         "skipped": "cyan"}


class TerminalReporter:
    """Reporter for people: quiet for what did not change, loud for what did or failed."""

    def __init__(self, console: Console | None = None, verbosity: int = 0, diff: bool = False,
                 mode: str = "apply", adhoc: bool = False, progress_only: bool = False) -> None:
        self.console = console or Console(highlight=False)
        if not self.console.is_terminal:  # a log or a pipe: a long line stays one line
            self.console.soft_wrap = True
        self.adhoc = adhoc
        self.progress_only = progress_only  # only the progress line (fleet drift prints its own report)
        self.verbosity = verbosity
        self.diff = diff
        self.mode = mode
        self._task: str | None = None
        self._task_header_shown = False
        self._status: Status | None = None
        self._answered = 0
        self._expected = 0
        self._warnings: dict[str, TaskWarnings] = {}  # task header -> its hosts' warnings, until it ends

    # -- events ------------------------------------------------------------------------------
    def play_start(self, play: Play, hosts: list[str]) -> None:
        self._stop_status()
        self._flush_warnings()
        self._expected = len(hosts)
        if self.progress_only:
            return
        name = play.name or play.hosts
        suffix = "" if hosts else " — no hosts matched"
        self.console.rule(Text(visible(f"PLAY [{name}]{suffix}"), style="bold"), align="left")

    def task_start(self, task: Task, handler: bool, name: str | None = None) -> None:
        self._flush_warnings()
        self._task = ("HANDLER" if handler else "TASK") + f" [{name or task.display_name}]"
        self._task_header_shown = False
        self._answered = 0
        if self.verbosity:
            self._header()
        elif self.console.is_terminal:
            self._update_status()

    def task_result(self, result: TaskResult) -> None:
        self._answered += 1
        if result.warnings and not result.no_log:  # a warning may quote the arguments
            header = self._task if self._task and self._task.endswith(f"[{result.task}]") else f"TASK [{result.task}]"
            self._warnings.setdefault(header, TaskWarnings()).add(result.host, result.warnings)
        if self.adhoc:
            self._adhoc_line(result)
            return
        loud = result.status in ("changed", "failed", "unreachable") or _shown(result)
        if (loud or self.verbosity) and not self.progress_only:
            self._header()
            self._line(result)
        elif self.console.is_terminal:
            self._update_status()

    def notice(self, host: str | None, text: str) -> None:
        """A line about the run rather than a task: waiting for a host's lock, an interrupt,
        a handler run for an earlier run's notification."""
        self._stop_status()
        if not self.progress_only or host is None:
            self.console.print(Text(visible(text), style="magenta"))

    def run_end(self, report: RunReport) -> None:
        self._stop_status()
        self._flush_warnings()
        if self.progress_only:
            return
        table = Table(title="RECAP", title_justify="left", show_edge=False, pad_edge=False)
        table.add_column("host", style="bold")
        for column in ("ok", "changed", "unreachable", "failed", "skipped", "rescued", "ignored"):
            table.add_column(column, justify="right")
        for name, host in sorted(report.hosts.items()):
            counts = host.counts()
            style = STYLE["failed"] if host.failed or host.unreachable else (
                STYLE["changed"] if counts["changed"] else STYLE["ok"])
            table.add_row(Text(visible(name), style=style), *(
                Text(str(counts[c]), style=STYLE.get(c, "") if counts[c] and c != "ok" else "")
                for c in ("ok", "changed", "unreachable", "failed", "skipped", "rescued", "ignored")))
        for warning in report.warnings:
            self.console.print(Text(visible(f"[WARNING] {warning}"), style="magenta"))
        self.console.print()
        self._print_unwrapped(table)
        self._unfinished(report)
        summary = report.summary()
        verdict = _verdict(report)
        self.console.print(f"{verdict} — {summary['changed']} changed, {summary['failed']} failed, "
                           f"{summary['unreachable']} unreachable, {plural(len(report.hosts), 'host')} "
                           f"in {report.duration_s:.2f} s")

    def _unfinished(self, report: RunReport) -> None:
        """Handlers notified but not run, and tasks still in flight when the run stopped."""
        for name, host in sorted(report.hosts.items()):
            if host.in_flight:
                tasks = ", ".join(f"'{task}'" for task in host.in_flight)
                self.console.print(Text(visible(f"in flight on [{name}] when fleet stopped: {tasks} (the host finishes "
                                                f"the task it is running and starts no other)"), style="yellow"))
        pending = [(name, p) for name, host in sorted(report.hosts.items()) for p in host.pending_handlers]
        if not pending:
            return
        self.console.print(Text("handlers notified but not run:", style="bold yellow"))
        for name, entry in pending:
            origin = "an earlier run" if entry.get("earlier_run") else "this run"
            kept = ("kept on the host for the next apply of the play" if entry.get("kept_on_host")
                    else "not kept on the host (check mode)" if report.mode == "check"
                    else "not known to be kept on the host")
            self.console.print(Text(visible(
                f"  [{name}] {entry['handler']} (play {entry['play']}; notified by '{entry.get('notified_by', '')}' "
                f"in {origin} at {when(entry.get('since'))}): {kept}"), style="yellow"))

    # -- rendering -------------------------------------------------------------------------------
    def _header(self) -> None:
        if not self._task_header_shown and self._task:
            self._stop_status()
            self.console.print(Text(visible(self._task), style="bold"))
            self._task_header_shown = True

    def _line(self, result: TaskResult) -> None:
        self._stop_status()
        status = result.status
        word = {"changed": "would change" if self.mode == "check" else "changed"}.get(status, status)
        if result.ignored:
            word += " (ignored)"
        if result.rescued:
            word += " (rescued)"
        where = result.host if result.delegated_to is None else f"{result.host} -> {result.delegated_to}"
        line = Text(visible(f"{word}: [{where}]"), style=STYLE.get(status, ""))
        if self.verbosity and result.via == "ansible":  # which tasks ran Ansible's own module code
            line.append(visible(f" (via ansible: {result.fqcn}, ansible-core {result.ansible_core})"))
        if result.items is not None and not result.no_log:
            done = [i for i in result.items if i.status in ("changed", "failed") or self.verbosity]
            for item in done:
                why = f" => {item.msg}" if item.msg and item.status == "failed" else ""  # as Ansible shows it
                at = result.host if item.delegated_to is None else f"{result.host} -> {item.delegated_to}"
                self.console.print(Text(visible(f"  {item.status}: [{at}] => (item={item.item_label}){why}"),
                                        style=STYLE.get(item.status, "")))
                self._details(item, result.no_log)
        if result.msg and (status in ("failed", "unreachable", "skipped") or self.verbosity or _shown(result)):
            line.append(visible(f" => {result.msg if not result.no_log else 'output hidden (no_log)'}"))
        elif _shown(result) and not result.no_log and result.items is None:  # debug var=NAME
            line.append(visible(" => " + json.dumps(result.data, sort_keys=True, default=str)))
        self.console.print(line)
        self._details(result, result.no_log)

    def _print_unwrapped(self, renderable: Any) -> None:
        """On a terminal as wide as it is; elsewhere as wide as it needs (no host name cut)."""
        if self.console.is_terminal:
            self.console.print(renderable)
            return
        width = self.console.width
        self.console.width = max(width, 1000)  # a table takes only the width it needs
        try:
            self.console.print(renderable)
        finally:
            self.console.width = width

    def _flush_warnings(self) -> None:
        """The warnings of the task(s) that ended, each once, under their task's header."""
        pending, self._warnings = self._warnings, {}
        if self.progress_only:
            return
        for header, warnings in pending.items():
            self._stop_status()
            if header == self._task:
                self._header()
            else:
                self.console.print(Text(visible(header), style="bold"))
            for line in warnings.lines():  # as Ansible prints them
                kind, text = (("DEPRECATION WARNING", line.removeprefix(DEPRECATION))
                              if line.startswith(DEPRECATION) else ("WARNING", line))
                self.console.print(Text(visible(f"  [{kind}]: {text}"), style="magenta"))

    def _adhoc_line(self, result: TaskResult) -> None:
        """Ansible's ad-hoc format: ``host | CHANGED | rc=0 >>`` + output, or ``=> {data}``."""
        self._stop_status()
        word = {"ok": "SUCCESS", "changed": "CHANGED", "failed": "FAILED!", "unreachable": "UNREACHABLE!",
                "skipped": "SKIPPED"}[result.status]
        style = STYLE.get(result.status, "")
        data = result.data
        if "rc" in data and "stdout" in data:
            self.console.print(Text(visible(f"{result.host} | {word} | rc={data['rc']} >>"), style=style))
            output = (data.get("stdout") or "") + ("\n" + data["stderr"] if data.get("stderr") else "")
            if result.status == "failed" and result.msg:
                output = f"{output}\n{result.msg}" if output else result.msg
            self.console.print(Text(visible(output)), soft_wrap=True)
        else:
            body = dict(data, changed=result.changed)
            if result.msg:
                body["msg"] = result.msg
            self.console.print(Text(visible(f"{result.host} | {word} => "), style=style)
                               + Text(visible(json.dumps(body, indent=4, sort_keys=True, default=str))), soft_wrap=True)
        self._details(result, result.no_log)

    def _details(self, result: TaskResult, no_log: bool) -> None:
        if no_log:
            return
        if self.diff and result.diff:
            render_diff(self.console, result.diff)
        if self.verbosity >= 2 and result.data:
            self.console.print(escape(visible(json.dumps(result.data, indent=2, sort_keys=True, default=str))))
        if self.verbosity >= 3 and result.exception:
            self.console.print(Text(visible(result.exception), style="red"))

    def _update_status(self) -> None:
        text = escape(visible(f"{self._task or ''}  {self._answered}/{self._expected} hosts"))
        if self._status is None:
            self._status = self.console.status(text)
            self._status.start()
        else:
            self._status.update(text)

    def _stop_status(self) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None


def render_diff(console: Console, diff: dict[str, Any]) -> None:
    """Print a module diff: unified text for file contents, ``before → after`` for the rest."""
    for part in diff.get("parts", ()):
        render_diff(console, part)
    unified = diff.get("unified") or {}
    for name in diff.get("fields", ()):
        if name in unified:
            for line in unified[name].splitlines():
                style = "green" if line.startswith("+") else "red" if line.startswith("-") else "cyan" if line.startswith("@@") else ""
                console.print(Text(visible(line), style=style))
        elif name in diff.get("before", {}) or name in diff.get("after", {}):
            before = diff.get("before", {}).get(name)
            after = diff.get("after", {}).get(name)
            console.print(Text(visible(f"  {name}: {before!r} → {after!r}"), style="yellow"))


def _shown(result: TaskResult) -> bool:
    """debug prints at every verbosity, as Ansible's does: that is what it is for."""
    return result.module == "debug" and result.status == "ok"


def _verdict(report: RunReport) -> str:
    if report.interrupted:
        return f"INTERRUPTED ({report.interrupted})"
    if report.any_failed:
        return "FAILED"
    if report.mode == "check":
        return "CHANGES PENDING" if report.any_changed else "NO CHANGES"
    return "OK"
