"""The ``environment`` keyword of a task, rendered for one host (or loop item) as Ansible does.

The loader keeps a task's entries in order, outermost level first (play, role, block, task):
mappings whose values are templates, or templates that give a mapping. Here they are merged
with later entries winning per variable; a value rendering to ``omit`` leaves the variable
out; a template entry that gives no mapping is skipped with a warning; every value becomes
text as Python's ``str`` makes it (``True``, ``5``, ``None``), as Ansible's ``env_prefix``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fleet.errors import FleetError, InputError
from fleet.playbook import Task

#: Fact gathering renders the play's environment before ``ansible_env`` exists, and a play
#: may not gather at all: Ansible leaves out a variable whose value needs an undefined
#: ``ansible_env`` (``PATH: "{{ ansible_env.PATH }}:/opt/bin"``) in every task, and one that
#: needs ``ansible_facts.env`` while gathering.
GATHER_MODULES = frozenset({"setup", "gather_facts", "ansible.builtin.setup", "ansible.builtin.gather_facts"})


def task_environment(templar: Any, task: Task, variables: Mapping[str, Any],
                     warnings: list[str] | None = None) -> dict[str, str]:
    """The process environment ``task`` adds on the host, rendered with ``variables``.

    An undefined variable (or another template error) is an InputError naming the task's
    file:line; a template entry that gives no mapping adds a warning to ``warnings``."""
    merged: dict[str, str] = {}
    for entry in task.environment:
        if isinstance(entry, Mapping):
            for name, raw in entry.items():
                _put(merged, name, _render(templar, task, raw, variables), templar)
            continue
        value = _render(templar, task, entry, variables)
        if value is _SKIP or value == templar.omit_token:
            continue
        if not isinstance(value, Mapping):
            note = f"could not parse environment value, skipping: {entry}"
            if warnings is not None and note not in warnings:
                warnings.append(note)
            continue
        for name, item in value.items():
            _put(merged, str(name), item, templar)
    return merged


_SKIP = object()


def _render(templar: Any, task: Task, raw: Any, variables: Mapping[str, Any]) -> Any:
    try:
        return templar.render(raw, variables, task.location)
    except FleetError as exc:
        if "'ansible_env'" in exc.message or (task.module in GATHER_MODULES and "ansible_facts" in exc.message):
            return _SKIP
        raise InputError(f"task {task.display_name!r}: error processing keyword 'environment': "
                         f"{exc.message}", task.location) from None


def _put(merged: dict[str, str], name: str, value: Any, templar: Any) -> None:
    if value is _SKIP or value == templar.omit_token:
        return
    merged[name] = str(value)
