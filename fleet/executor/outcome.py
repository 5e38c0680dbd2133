"""What one task (or loop item) produced on one host, before it becomes a TaskResult."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fleet.errors import FleetError, InputError
from fleet.playbook import Task
from fleet.result import TaskResult
from fleet.vars import Layer


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
    exact: bool = False  # data is the whole registered result already (Ansible's modules)

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

    def registered(self, warnings: bool = True) -> dict[str, Any]:
        """The value ``register:`` stores (Ansible's shape: module data plus status flags, and
        ``warnings`` when there are any; a loop moves its items' warnings up, ``warnings=False``)."""
        value = dict(self.data)
        if self.exact:
            if not warnings:
                value.pop("warnings", None)
                value.pop("deprecations", None)
        elif warnings and self.warnings:
            value["warnings"] = list(self.warnings)
        value["changed"] = self.changed
        value["failed"] = self.status == "failed"
        if self.exact:  # changed_when/failed_when may have changed the two flags, nothing else
            if self.msg and "msg" not in value:
                value["msg"] = self.msg
            return value
        if self.msg and not isinstance(value.get("msg"), dict | list):
            value["msg"] = self.msg  # debug keeps a structured msg as it was given
        if self.status == "skipped":
            value["skipped"] = True
            if "skipped_reason" not in value:  # debug below its verbosity says why in its own key
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
            "length": length,
        }
        if index:  # as Ansible: undefined on the first item, not None
            values["ansible_loop"]["previtem"] = items[index - 1]
        if index + 1 < length:
            values["ansible_loop"]["nextitem"] = items[index + 1]
    return values


def label_text(value: Any) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= 200 else text[:197] + "..."


def fill_result(result: TaskResult, outcome: Outcome) -> None:
    """A single task's outcome into its result."""
    result.status = outcome.status
    result.failed_changed = outcome.status == "failed" and outcome.changed
    result.msg = outcome.msg
    result.data = outcome.data
    result.diff = outcome.diff
    result.warnings = outcome.warnings
    result.exception = outcome.exception

def fill_loop_result(result: TaskResult, task: Task, outcomes: list[Outcome]) -> dict[str, Any]:
    """A loop's item outcomes into its result (items, status, diff); returns what ``register`` stores."""
    items: list[TaskResult] = []
    registered_items = []
    all_items = [o.item for o in outcomes]
    # The per-item registered shape is built only when something reads it: ``register``, or
    # a rescue reading ansible_failed_result. (A 200-item loop on 1,000 hosts otherwise
    # keeps 200,000 dicts nobody looks at.)
    keep = bool(task.register) or any(o.status == "failed" for o in outcomes)
    for index, outcome in enumerate(outcomes):
        item_result = TaskResult(result.host, result.play, result.task, result.module, outcome.status,
                                 msg=outcome.msg, diff=outcome.diff, data=outcome.data,
                                 item_label=outcome.label, warnings=outcome.warnings,
                                 failed_changed=outcome.status == "failed" and outcome.changed)
        items.append(item_result)
        if keep:  # Ansible's per-item shape: the result plus the loop variables of that item
            registered_items.append({**outcome.registered(warnings=False), **loop_values(task, all_items, index)})
    result.items = items
    if not outcomes:
        result.status, result.msg = "skipped", "No items in the list"
    elif any(o.status == "failed" for o in outcomes):
        result.status = "failed"
        result.msg = "One or more items failed"
    elif all(o.status == "skipped" for o in outcomes):
        result.status, result.msg = "skipped", "All items skipped"
    else:
        result.status = "changed" if any(o.changed for o in outcomes) else "ok"
    result.warnings = [w for o in outcomes for w in o.warnings]
    diffs = [o.diff for o in outcomes if o.diff]
    result.diff = {"parts": diffs} if diffs else None
    result.data = {"results": registered_items}  # what ansible_failed_result shows in a rescue
    registered = {
        "changed": any(o.changed for o in outcomes),
        "failed": result.status == "failed",
        "skipped": result.status == "skipped",
        "msg": "All items completed" if result.status not in ("failed", "skipped") else result.msg,
        "results": registered_items,
    }
    if task.module in ("add_host", "group_by") and not registered["failed"]:
        del registered["failed"]  # ansible-core's strategy rebuilds these loops' results without it
    for key in ("warnings", "deprecations"):  # as Ansible's loop: the items' ones, gathered on top
        gathered = [w for o in outcomes for w in _listed(o.data.get(key) if o.exact else
                                                          o.warnings if key == "warnings" else None)]
        if gathered:
            registered[key] = gathered
    return registered


def _listed(value: Any) -> list[Any]:
    if not value:
        return []
    return list(value) if isinstance(value, list) else [value]


def item_vars(task: Task, variables: Any, items: list[Any], index: int) -> Any:
    """The variables of loop item ``index``: ``variables`` with the item's layer on top. Items
    are rendered already: data, never templates (a host's file name may hold "{{")."""
    return variables.push(Layer("task vars", "loop", loop_values(task, items, index), final=True))


def loop_items(templar: Any, task: Task, variables: Any, playbook_dir: Path) -> list[Any]:
    """A task's loop rendered into its items, shaped as its ``loop``/``with_*`` keyword says."""
    kind = task.loop_kind
    if kind not in ("loop", "items", "list", "dict"):
        return _lookup_items(templar, task, variables, kind)
    raw = templar.render(task.loop, variables, task.location)
    if kind == "dict":
        if not isinstance(raw, dict):  # Ansible's words (its loops target asserts on them)
            raise InputError(f"with_dict expects a dict (got {_kind_of(raw)})", task.location)
        return [{"key": k, "value": v} for k, v in raw.items()]
    if kind in ("items", "list") and raw is not None and not isinstance(raw, (list, tuple, dict)):
        raw = [raw]  # with_items/with_list: a single value is a one-item list (Ansible)
    if kind == "list" and not isinstance(raw, (list, tuple)):
        raise InputError(f"with_list expects a list (got {_kind_of(raw)})", task.location)
    if isinstance(raw, str) or not isinstance(raw, (list, tuple)):
        raise InputError(f"task {task.display_name!r}: loop needs a list, got {_kind_of(raw)}", task.location)
    if kind == "items":
        flat: list[Any] = []
        for element in raw:
            flat.extend(element) if isinstance(element, list) else flat.append(element)
        return flat
    return list(raw)


def _lookup_items(templar: Any, task: Task, variables: Any, kind: str) -> list[Any]:
    """``with_<kind>``: lookup ``kind`` over the rendered terms, as Ansible's ``_get_loop_items``
    does: ``first_found`` passes over terms whose variables are undefined, and the lookup's
    subdirectory comes from the action (``templates`` for template, ``vars`` for include_vars)."""
    terms = task.loop if isinstance(task.loop, list) else [task.loop]
    if kind == "first_found":
        rendered: list[Any] = []
        for term in terms:
            if isinstance(term, dict):  # {files, paths, skip}: each file name on its own
                term = {**term, "files": _each(templar, term.get("files"), variables, task)}
            try:
                rendered.append(templar.render(term, variables, task.location))
            except FleetError:
                continue
    else:
        rendered = templar.render(terms, variables, task.location)
        if isinstance(task.loop, str) and len(rendered) == 1 and isinstance(rendered[0], list):
            rendered = rendered[0]  # with_x: "{{ a_list }}" gives the list's items as terms
    subdir = next((d for d in ("template", "var", "file") if d in task.module), "file") + "s"
    return templar.lookup(kind, rendered, variables, subdir=subdir, location=task.location)


def _each(templar: Any, names: Any, variables: Any, task: Task) -> Any:
    """``names`` rendered one by one, leaving out those whose variables are undefined."""
    if not isinstance(names, list):
        return names
    out: list[Any] = []
    for name in names:
        try:
            out.append(templar.render(name, variables, task.location))
        except FleetError:
            continue
    return out


def _kind_of(value: Any) -> str:
    """A value's kind in YAML's words (fleet's own source-tracking types are dicts and lists)."""
    for kind, name in ((bool, "a boolean"), (int, "a number"), (float, "a number"), (str, "a string"),
                       (dict, "a mapping"), (list, "a list"), (tuple, "a list")):
        if isinstance(value, kind):
            return name
    return "nothing" if value is None else type(value).__name__
