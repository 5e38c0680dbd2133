"""The terminal's warnings: once per task, the same warning of several hosts and settings on
one line, each naming its hosts and settings; ok results with only a warning print no line;
output that is not a terminal is never wrapped."""

from __future__ import annotations

import io

from rich.console import Console

from fleet.playbook.models import Task
from fleet.report.caveats import TaskWarnings, split
from fleet.report.terminal import TerminalReporter
from fleet.result import RunReport, TaskResult

WHY = "persisted, not applied at runtime: /proc/sys is read-only here (a container?)"


def test_split_reads_noun_subject_and_why() -> None:
    assert split(f"key net.ipv4.ip_forward: {WHY}") == ("key", "net.ipv4.ip_forward", WHY)
    assert split("running: persisted, not applied: it stays 'x'") == (None, "running", "persisted, not applied: it stays 'x'")
    assert split("no colon here") == (None, "", "no colon here")


def test_hosts_with_the_same_settings_share_a_line() -> None:
    warnings = TaskWarnings()
    for host in ("a", "b", "c"):
        warnings.add(host, [f"key k{i}: {WHY}" for i in range(9)])
    warnings.add("d", [f"key k0: {WHY}", f"key k1: {WHY}"])
    warnings.add("e", [f"key k0: {WHY}"])
    warnings.add("f", ["running: it stays 'f'"])
    assert warnings.lines() == [
        f"{WHY} — 9 keys on 3 hosts (a, b, c): {', '.join(f'k{i}' for i in range(9))}",
        f"{WHY} — 2 keys on d: k0, k1",
        f"key k0: {WHY} — e",
        "running: it stays 'f' — f",
    ]


def test_a_long_list_is_counted_not_spelled_out() -> None:
    warnings = TaskWarnings()
    for index in range(45):
        warnings.add(f"h{index}", [f"key k: {WHY}"])
    (line,) = warnings.lines()
    assert line.startswith(f"key k: {WHY} — 45 hosts (h0, h1,") and line.endswith(", h39, … and 5 more)")


def _result(host: str, status: str = "ok", warnings: list[str] | None = None, task: str = "sysctls") -> TaskResult:
    return TaskResult(host, "play", task, "sysctl", status, warnings=warnings or [])


def test_the_reporter_prints_a_tasks_warnings_once_when_it_ends() -> None:
    out = io.StringIO()
    reporter = TerminalReporter(Console(file=out, width=80, highlight=False, color_system=None))
    task = Task(module="sysctl", args={}, location=None, name="sysctls")  # type: ignore[arg-type]
    reporter.task_start(task, handler=False)
    hosts = [f"a-host-with-a-rather-long-name-{i}" for i in range(3)]
    for host in hosts:
        reporter.task_result(_result(host, warnings=[f"key net.ipv4.conf.all.rp_filter: {WHY}"]))
    reporter.task_result(_result("other", "changed"))
    report = RunReport("apply")
    reporter.run_end(report)
    lines = out.getvalue().splitlines()
    assert lines[:3] == [
        "TASK [sysctls]",
        "changed: [other]",
        f"  [WARNING]: key net.ipv4.conf.all.rp_filter: {WHY} — 3 hosts ({', '.join(hosts)})",
    ], out.getvalue()
    assert len(lines[2]) > 80  # one line, not wrapped
    assert not any(line.startswith("ok:") for line in lines)


def test_no_log_hides_warnings() -> None:
    out = io.StringIO()
    reporter = TerminalReporter(Console(file=out, width=80, highlight=False, color_system=None))
    result = _result("h", warnings=["key secret-name: why"])
    result.no_log = True
    reporter.task_result(result)
    reporter.run_end(RunReport("apply"))
    assert "secret-name" not in out.getvalue()



def test_warnings_and_deprecations_print_as_ansible_prints_them() -> None:
    out = io.StringIO()
    reporter = TerminalReporter(Console(file=out, width=300, highlight=False, color_system=None))
    reporter.task_start(Task(module="cron", args={}, location=None, name="jobs"), handler=False)  # type: ignore[arg-type]
    reporter.task_result(_result("h1", "changed", ["Job should not contain line breaks",
                                                    "[DEPRECATION] old option (removed in version 2)"], "jobs"))
    reporter.run_end(RunReport("apply"))
    lines = out.getvalue().splitlines()
    assert "  [WARNING]: Job should not contain line breaks — h1" in lines, out.getvalue()
    assert "  [DEPRECATION WARNING]: old option (removed in version 2) — h1" in lines, out.getvalue()
