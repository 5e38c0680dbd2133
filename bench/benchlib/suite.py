"""One tool at one host count: ``runs`` x (first apply, re-apply, check), medians, validity.

A row is *valid* only when every run succeeded (expected exit code, no failed or unreachable
host), the first apply changed something, and every re-apply and check reported 0 changed.

:meth:`Suite.prepare` sets up one tool at one host count (a :class:`Cell`) and
:meth:`Suite.run_once` measures one run of it, so that the caller can interleave the tools run
by run (fleet, ansible, ..., fleet, ansible, ...) and noise hits them all alike.
"""

from __future__ import annotations

import statistics
import sys
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from benchlib.hosts import BenchHosts, HostSet
from benchlib.measure import Measurement, run_measured
from benchlib.quiet import busy_seconds, wait_until_quiet
from benchlib.tools import Outcome, Phase, ToolRunner
from benchlib.workloads import Workload

Progress = Callable[[str], None]


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass(frozen=True)
class RunRecord:
    """One measured run of one phase."""

    measurement: Measurement
    outcome: Outcome

    def to_dict(self) -> dict[str, object]:
        return {**self.measurement.to_dict(), "changed": self.outcome.changed, "failed": self.outcome.failed,
                "unreachable": self.outcome.unreachable, "ok": self.outcome.ok, "error": self.outcome.error}


@dataclass
class PhaseResult:
    """Every run of one phase, and their medians."""

    phase: Phase
    runs: list[RunRecord] = field(default_factory=list)

    def median(self, value: Callable[[RunRecord], float | None]) -> float | None:
        values = [v for v in (value(r) for r in self.runs) if v is not None]
        return statistics.median(values) if values else None

    @property
    def wall_s(self) -> float | None:
        return self.median(lambda r: r.measurement.wall_s)

    @property
    def cpu_s(self) -> float | None:
        return self.median(lambda r: r.measurement.cpu_s)

    @property
    def rss_mib(self) -> float | None:
        return self.median(lambda r: r.measurement.max_rss_kib / 1024)

    @property
    def target_cpu_s(self) -> float | None:
        return self.median(lambda r: r.measurement.target_cpu_s)

    @property
    def other_cpu_s(self) -> float | None:
        return self.median(lambda r: r.measurement.other_cpu_s)

    @property
    def changed(self) -> list[int | None]:
        return [r.outcome.changed for r in self.runs]

    def to_dict(self) -> dict[str, object]:
        return {"median": {"wall_s": self.wall_s, "cpu_s": self.cpu_s, "rss_mib": self.rss_mib,
                           "target_cpu_s": self.target_cpu_s, "other_cpu_s": self.other_cpu_s},
                "changed": self.changed, "runs": [r.to_dict() for r in self.runs]}


@dataclass
class SizeResult:
    """One tool, one workload, one host count: all phases and whether the numbers stand."""

    tool: str
    version: str
    workload: str
    tasks: int
    hosts: int
    forks: int
    phases: dict[Phase, PhaseResult]
    problems: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.problems

    @property
    def cpu_ms_per_task_host(self) -> float | None:
        """Re-apply controller CPU / (tasks x hosts), in milliseconds."""
        cpu = self.phases[Phase.REAPPLY].cpu_s
        return None if cpu is None else cpu * 1000 / (self.tasks * self.hosts)

    def to_dict(self) -> dict[str, object]:
        return {"tool": self.tool, "version": self.version, "workload": self.workload, "tasks": self.tasks,
                "hosts": self.hosts, "forks": self.forks, "valid": self.valid, "problems": self.problems,
                "reapply_cpu_ms_per_task_host": self.cpu_ms_per_task_host,
                "phases": {str(p): r.to_dict() for p, r in self.phases.items()}}


def _problems(phase: Phase, run: int, record: RunRecord, tool: ToolRunner) -> list[str]:
    where = f"{phase} run {run}"
    m, o = record.measurement, record.outcome
    found = []
    if m.timed_out:
        found.append(f"{where}: timed out")
    if o.error:
        found.append(f"{where}: {o.error}")
    if m.exit_code not in tool.expected_exit_codes(phase, o.changed):
        found.append(f"{where}: exit code {m.exit_code}")
    if o.failed or o.unreachable:
        found.append(f"{where}: {o.failed} failed, {o.unreachable} unreachable")
    if phase is Phase.FIRST and not o.changed:
        found.append(f"{where}: changed nothing on fresh hosts")
    if phase is not Phase.FIRST and o.changed != 0:
        found.append(f"{where}: {o.changed} changed (must be 0)")
    return found


@dataclass
class Cell:
    """One tool at one host count: its hosts, its inventory, and the runs measured so far."""

    hosts: HostSet
    inventory: Path
    result: SizeResult


class Suite:
    """Runs one tool on one workload against the benchmark hosts."""

    def __init__(self, tool: ToolRunner, workload: Workload, bench: BenchHosts, progress: Progress = _stderr,
                 timeout: float = 1800.0, quiet_wait: float = 20.0) -> None:
        self.tool = tool
        self.workload = workload
        self.bench = bench
        self.progress = progress
        self.timeout = timeout
        self.quiet_wait = quiet_wait

    def _run(self, phase: Phase, hosts: HostSet, inventory: Path, label: str, forks: int) -> RunRecord:
        workdir = hosts.base.parent
        report, log = workdir / "reports" / f"{label}.json", workdir / "logs" / f"{label}.log"
        report.parent.mkdir(exist_ok=True)
        report.unlink(missing_ok=True)
        argv = self.tool.command(phase, inventory, self.workload.playbook, report, forks)
        self.bench.settle(kept=self.tool.keeps_sessions)
        if self.quiet_wait > 0:
            wait_until_quiet(self.quiet_wait)
        before, busy_before = self.bench.target_cpu_seconds(), busy_seconds()
        measured = run_measured(argv, env=self.tool.env(inventory), cwd=workdir, log=log, timeout=self.timeout)
        left = self.tool.end_detached(inventory)
        if left.processes:
            measured = replace(measured, detached_cpu_s=left.cpu_s, detached_processes=left.processes,
                               max_rss_kib=max(measured.max_rss_kib, left.max_rss_kib))
        self.bench.settle(kept=self.tool.keeps_sessions)
        after, busy_after = self.bench.target_cpu_seconds(), busy_seconds()
        if before is not None and after is not None:
            measured = replace(measured, target_cpu_s=round(after - before, 3))
        if busy_before is not None and busy_after is not None:
            ours = measured.cpu_s + (measured.target_cpu_s or 0.0)
            measured = replace(measured, other_cpu_s=round(max(0.0, busy_after - busy_before - ours), 3))
        return RunRecord(measured, self.tool.outcome(phase, measured.exit_code, report, log))

    def warm_up(self) -> None:
        """One unmeasured apply on one host: warms the page cache and byte-code caches."""
        hosts = self.bench.host_set(f"{self.tool.name}-{self.workload.name}-warmup", 1)
        hosts.reset()
        inventory = self.tool.write_inventory(hosts, hosts.base.parent / "inventory.yml")
        self._run(Phase.FIRST, hosts, inventory, "warmup", 1)

    def prepare(self, count: int, forks: int | None = None) -> Cell:
        """Hosts, inventory and an empty result for ``count`` hosts (``forks`` defaults to N)."""
        forks = forks or count
        hosts = self.bench.host_set(f"{self.tool.name}-{self.workload.name}-{count}", count)
        hosts.reset()
        inventory = self.tool.write_inventory(hosts, hosts.base.parent / "inventory.yml")
        phases = {phase: PhaseResult(phase) for phase in Phase}
        result = SizeResult(self.tool.name, self.tool.version(), self.workload.name, self.workload.tasks,
                            count, forks, phases)
        return Cell(hosts, inventory, result)

    def run_once(self, cell: Cell, run: int) -> None:
        """Run ``run``: first apply on fresh hosts, re-apply, check; recorded in ``cell.result``."""
        result = cell.result
        cell.hosts.reset()
        for phase in Phase:
            label = f"{phase.name.lower()}-{run}"
            record = self._run(phase, cell.hosts, cell.inventory, label, result.forks)
            result.phases[phase].runs.append(record)
            result.problems += _problems(phase, run, record, self.tool)
            m = record.measurement
            self.progress(f"  {self.tool.name} N={result.hosts} {phase:<11} run {run}: {m.wall_s:6.2f} s wall, "
                          f"{m.cpu_s:6.2f} s CPU, {m.other_cpu_s} s other CPU, changed={record.outcome.changed}")

    def measure(self, count: int, runs: int, forks: int | None = None) -> SizeResult:
        """``runs`` x (first apply on fresh hosts, re-apply, check) at ``count`` hosts."""
        cell = self.prepare(count, forks)
        for run in range(1, runs + 1):
            self.run_once(cell, run)
        return cell.result
