"""The harness's table (stdout and RESULTS.md), its summary line, and the raw JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from compat.corpus import Item
from compat.item import ItemResult
from compat.runs import ApplyResult, TaskRecord

HEADER = ("item", "kind", "result", "1st apply A / F", "2nd apply A / F", "tasks identical / Ansible's",
          "first error")
LEGEND = ("Counts are ok/changed/failed/skipped task results (Ansible's counting: a loop is one "
          "result; a changed result is not also ok), A = ansible-playbook, F = fleet.")


def _counts(run: ApplyResult | None) -> str:
    if run is None:
        return "-"
    c = run.counts()
    text = f"{c['ok']}/{c['changed']}/{c['failed']}/{c['skipped']}"
    return text + (f"/u{c['unreachable']}" if c.get("unreachable") else "")


def _apply(result: ItemResult, index: int) -> str:
    a = result.ansible_runs[index] if len(result.ansible_runs) > index else None
    f = result.fleet_runs[index] if len(result.fleet_runs) > index else None
    return "" if a is None and f is None else f"{_counts(a)} / {_counts(f)}"


def row(result: ItemResult, width: int = 160) -> tuple[str, ...]:
    """One table row for ``result``."""
    tasks = "" if result.status == "SKIP" else f"{result.reproduced}/{result.ansible_total}"
    error = " ".join(result.first_error.split())
    if len(error) > width:
        error = error[: width - 1] + "…"
    return (result.item.name, result.item.kind, result.status, _apply(result, 0), _apply(result, 1), tasks, error)


def summary(results: Sequence[ItemResult]) -> str:
    """``N of M items PASS (…); Ansible task results reproduced: R / T (P %)``."""
    statuses = {s: sum(r.status == s for r in results) for s in ("PASS", "FAIL", "ERROR", "SKIP")}
    reproduced = sum(r.reproduced for r in results)
    total = sum(r.ansible_total for r in results)
    share = f"{100 * reproduced / total:.1f} %" if total else "n/a"
    return (f"{statuses['PASS']} of {len(results)} items PASS ({statuses['FAIL']} FAIL, {statuses['ERROR']} ERROR, "
            f"{statuses['SKIP']} SKIP); Ansible task results reproduced: {reproduced} / {total} ({share})")


def _escape(cell: str) -> str:
    return cell.replace("|", "\\|")


def markdown(results: Sequence[ItemResult]) -> str:
    """The table as Markdown, then the summary line in bold."""
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(_escape(c) for c in row(r)) + " |" for r in results]
    return "\n".join([*lines, "", LEGEND, "", f"**Summary: {summary(results)}**", ""])


def text_table(results: Sequence[ItemResult]) -> str:
    """The table for a terminal: aligned columns, the summary line last."""
    rows = [HEADER, *(row(r, width=100) for r in results)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(HEADER) - 1)]
    out = ["  ".join(c.ljust(w) for c, w in zip(r[:-1], widths, strict=True)) + "  " + r[-1] for r in rows]
    return "\n".join([*out, "", f"Summary: {summary(results)}"])


def write_json(results: Sequence[ItemResult], path: Path) -> None:
    data: dict[str, Any] = {"summary": summary(results), "items": [r.to_json() for r in results]}
    path.write_text(json.dumps(data, indent=1) + "\n")


def write_markdown(results: Sequence[ItemResult], path: Path, preamble: str = "") -> None:
    path.write_text((preamble.rstrip() + "\n\n" if preamble else "") + markdown(results))


def _apply_from_json(data: dict[str, Any]) -> ApplyResult:
    return ApplyResult(data["tool"], data["exit_code"], data["duration_s"],
                       [TaskRecord(**r) for r in data["records"]], data.get("error", ""),
                       data.get("timed_out", False), data.get("log", ""))


def merge(runs: list[list[ItemResult]]) -> list[ItemResult]:
    """Results of several runs as one table: an item measured again replaces its earlier result
    (in place, so the table keeps the first run's order)."""
    by_name: dict[str, ItemResult] = {}
    for results in runs:
        for result in results:
            by_name[result.item.name] = result
    return list(by_name.values())


def load_json(path: Path) -> list[ItemResult]:
    """The results a ``--json`` file holds (to re-render or merge runs, e.g. ones run in parallel)."""
    results = []
    for data in json.loads(path.read_text())["items"]:
        item = Item(data["name"], data["repo"], data["commit"], data["path"], data["kind"], data["ansible"])
        results.append(ItemResult(item, data["status"], data["first_error"], data["reproduced"],
                                  data["ansible_total"], [_apply_from_json(r) for r in data["ansible_runs"]],
                                  [_apply_from_json(r) for r in data["fleet_runs"]], data["differences"],
                                  data["seconds"], data.get("lab", "")))
    return results
