"""What one task (or loop item) produced on one host, before it becomes a TaskResult."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fleet.playbook.models import Task


@dataclass
class Outcome:
    """The raw outcome of one item before it becomes a TaskResult."""

    status: str
    changed: bool = False
    msg: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    diff: dict[str, Any] | None = None
    warnings: list[str] = field(default_factory=list)
    exception: str | None = None
    label: str | None = None
    item: Any = None

    @classmethod
    def from_agent(cls, results: list[dict[str, Any]]) -> Outcome:
        """Fold the agent results of one item's calls (usually exactly one) into one outcome."""
        if len(results) == 1:
            r = results[0]
            return cls(r["status"], bool(r.get("changed")), r.get("msg", ""), r.get("data") or {},
                       r.get("diff"), list(r.get("warnings") or []), r.get("exception"))
        failed = [r for r in results if r["status"] == "failed"]
        changed = any(r.get("changed") for r in results)
        diffs = [r["diff"] for r in results if r.get("diff")]
        status = "failed" if failed else ("changed" if changed else "ok")
        return cls(status, changed, failed[0].get("msg", "") if failed else "",
                   {"results": [r.get("data") for r in results]},
                   {"parts": diffs} if diffs else None,
                   [w for r in results for w in r.get("warnings") or []])

    def registered(self) -> dict[str, Any]:
        """The value ``register:`` stores (Ansible's shape: module data plus status flags)."""
        value = dict(self.data)
        value["changed"] = self.changed
        value["failed"] = self.status == "failed"
        if self.msg and not isinstance(value.get("msg"), dict | list):
            value["msg"] = self.msg  # debug keeps a structured msg as it was given
        if self.status == "skipped":
            value["skipped"] = True
            value.setdefault("skip_reason", self.msg or "Conditional result was False")
        if self.diff is not None:
            value["diff"] = self.diff
        return value


def loop_values(task: Task, items: list[Any], index: int) -> dict[str, Any]:
    """The variables one loop item sees: loop_var, index_var and (``extended``) ansible_loop."""
    control = task.loop_control
    values: dict[str, Any] = {control.loop_var: items[index], "ansible_loop_var": control.loop_var}
    if control.index_var:
        values[control.index_var] = index
        values["ansible_index_var"] = control.index_var
    if control.extended:
        length = len(items)
        values["ansible_loop"] = {
            "allitems": items, "index": index + 1, "index0": index, "revindex": length - index,
            "revindex0": length - index - 1, "first": index == 0, "last": index == length - 1,
            "length": length, "previtem": items[index - 1] if index else None,
            "nextitem": items[index + 1] if index + 1 < length else None,
        }
    return values


def label_text(value: Any) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= 200 else text[:197] + "..."
