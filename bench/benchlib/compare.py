"""fleet against the other tools: per workload, tables of medians with fleet's ratio in each cell.

Rows are (host count, phase); columns are the tools. A cell is the tool's median and, in
parentheses, that median divided by fleet's for the same row: for wall time, how many times
longer the tool took than fleet (fleet's speed-up); for CPU and RSS, how many times more the
tool used. A cell whose tool's row is invalid (a failure, or a change on re-apply or check)
shows ``INVALID`` and no ratio; a row where fleet is invalid shows no ratios.
"""

from __future__ import annotations

from collections.abc import Callable

from benchlib.suite import PhaseResult, SizeResult
from benchlib.tools import Phase

FLEET = "fleet"
WARM = "fleet-warm"  # fleet with its daemon kept between runs: a second reference when measured
Metric = Callable[[PhaseResult], float | None]

METRICS: tuple[tuple[str, str, Metric, int], ...] = (
    ("Wall time", "s", lambda p: p.wall_s, 2),
    ("Controller CPU (the tool's whole process tree)", "s", lambda p: p.cpu_s, 2),
    ("Peak RSS (largest single controller process)", "MiB", lambda p: p.rss_mib, 1),
)


def ratio_text(ratio: float) -> str:
    """``123×``, ``4.5×``, ``0.87×``: fewer decimals as the ratio grows."""
    if ratio >= 10:
        return f"{ratio:.0f}×"
    if ratio >= 1:
        return f"{ratio:.1f}×"
    return f"{ratio:.2f}×"


def cell_text(value: float | None, unit: str, digits: int, fleet: float | None, valid: bool,
              fleet_valid: bool, is_fleet: bool) -> str:
    """One cell: the value, fleet's ratio when it means something, or INVALID."""
    if value is None:
        return "n/a"
    shown = f"{value:.{digits}f} {unit}"
    if not valid:
        return f"INVALID ({shown})"
    if is_fleet or not fleet_valid or not fleet:
        return shown
    return f"{shown} ({ratio_text(value / fleet)})"


def comparison_section(workload: str, tasks: int, runs: int, results: list[SizeResult]) -> str:
    """Markdown: one table per metric, rows (N, phase), a column per tool that ran."""
    tools = list(dict.fromkeys(r.tool for r in results))
    by_key = {(r.tool, r.hosts): r for r in results}
    counts = sorted({r.hosts for r in results})
    lines = [
        f"## Workload `{workload}` ({tasks} tasks): fleet and the other tools",
        "",
        f"Median of {runs} run(s) per cell, the tools taking turns run by run. In parentheses: the "
        "tool's median / fleet's (for wall time, fleet's speed-up). INVALID: that tool failed, or "
        "changed something on re-apply or check (see the problems under the first table). "
        "\"-\": not run at that size.",
        "",
    ]
    for title, unit, metric, digits in METRICS:
        lines += _table(title, unit, metric, digits, tools, by_key, counts, FLEET)
    if WARM in tools:
        title, unit, metric, digits = METRICS[0]
        lines += _table(f"{title}, against fleet with kept agents ({WARM})", unit, metric, digits, tools, by_key,
                        counts, WARM)
    return "\n".join(lines)


def _table(title: str, unit: str, metric: Metric, digits: int, tools: list[str],
           by_key: dict[tuple[str, int], SizeResult], counts: list[int], reference: str) -> list[str]:
    """One metric's table, each cell's ratio to ``reference``'s median of the same row."""
    lines = [f"### {title}", "", "| hosts | phase | " + " | ".join(tools) + " |", "|---:|---|" + "---:|" * len(tools)]
    for count in counts:
        base = by_key.get((reference, count))
        for phase in Phase:
            base_value = metric(base.phases[phase]) if base else None
            cells = []
            for tool in tools:
                result = by_key.get((tool, count))
                if result is None:
                    cells.append("-")
                    continue
                cells.append(cell_text(metric(result.phases[phase]), unit, digits, base_value,
                                       result.valid, base is not None and base.valid, tool == reference))
            lines.append(f"| {count} | {phase} | " + " | ".join(cells) + " |")
    lines.append("")
    return lines
