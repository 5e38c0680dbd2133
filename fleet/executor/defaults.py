"""``module_defaults`` when a task runs: what the loader could not lay under the task's arguments.

The loader folds the mapping defaults of the task's own module into ``Task.args``
(:mod:`fleet.playbook.moduledefaults`). Left for the host's turn: defaults given as templates
(``ping: "{{ ping_defaults }}"``) and the defaults of the module an action hands the task to --
Ansible's ``package`` action looks up those of the package manager it picks (``apt``...),
``service`` those of the service manager (``systemd``...), and a module reached through a
redirect or a ``collections`` search answers to its resolved FQCN too. All lie under the
task's own arguments (and its module's own defaults), as in Ansible.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from fleet.errors import FleetError, InputError
from fleet.playbook import Task, applicable, lay_under, normalize, task_names


class ModuleFailed(FleetError):
    """The task fails on this host with this message (as its module would have failed it)."""


#: fleet's native modules that stand for an action handing the task on: the fact naming the
#: module Ansible's action picks, and what fleet's module itself does without it
HANDS_ON = {"package": ("pkg_mgr", "apt"), "service": ("service_mgr", "systemd")}


def defaults_pending(task: Task) -> bool:
    """May ``module_defaults`` add to the task's arguments when it runs (so that they cannot be
    checked before)?"""
    return bool(task.late_defaults) or (task.module in HANDS_ON and bool(task.module_defaults))


def handed_to(task: Task, args: Mapping[str, Any], variables: Mapping[str, Any]) -> str | None:
    """The module Ansible's ``package``/``service`` action would run for this task (``use``,
    else the host's fact, else what fleet's own module does), None for other tasks."""
    if task.module not in HANDS_ON:
        return None
    fact, fallback = HANDS_ON[task.module]
    use = args.get("use")
    if isinstance(use, str) and use and use != "auto":
        return use
    facts = variables.get("ansible_facts")
    found = facts.get(fact) if isinstance(facts, Mapping) else None
    return found if isinstance(found, str) and found and found != "auto" else fallback


#: the package managers fleet's ``package`` module drives itself
PACKAGE_MANAGERS = ("apt", "dnf", "apk")


def host_args(task: Task, args: dict[str, Any], variables: Any, templar: Any, bridge: Any,
              resolved: str | None) -> dict[str, Any]:
    """The task's rendered ``args`` as its module gets them on this host: over the defaults
    known only now (:func:`late_args`), with package's ``use`` (:func:`package_use`).
    ``resolved``: a bridged task's module FQCN (None for fleet's modules)."""

    def members(group: str) -> frozenset[str]:
        if bridge is None:
            raise InputError(f"module_defaults: cannot resolve group/{group} without Ansible", task.location)
        return frozenset(bridge.action_group(group, task.location))

    def render(value: Any) -> Any:
        return templar.render(value, variables, task.location)

    if task.module_defaults:
        args = late_args(task, args, variables, render, resolved, members, resolved is None)
    if resolved is None:
        args = package_use(task, args, variables, lambda name: bridge is not None and bridge.exists(name))
    return args


def package_use(task: Task, args: dict[str, Any], variables: Mapping[str, Any],
                ansible_has: Callable[[str], bool]) -> dict[str, Any]:
    """fleet's ``package`` task's ``use`` as Ansible's package action decides it: the
    ``ansible_package_use`` variable when the task says none (or ``auto``); a manager no module
    answers to fails the task with Ansible's message (``ansible_has(name)``: Ansible has one)."""
    if task.module != "package" or args.get("use") not in (None, "auto"):
        return args
    wanted = variables.get("ansible_package_use")
    if not wanted or wanted == "auto":
        return args
    name = str(wanted)
    if name not in PACKAGE_MANAGERS:
        if not ansible_has(name):
            raise ModuleFailed(f'Could not find a matching action for the "{name}" package manager.')
        raise ModuleFailed(f'ansible_package_use: {name}: fleet\'s package module drives {", ".join(PACKAGE_MANAGERS)}; '
                           f"use Ansible's {name} module in the task instead")
    return {**args, "use": name}


def late_args(task: Task, args: dict[str, Any], variables: Mapping[str, Any], render: Callable[[Any], Any],
              resolved: str | None, members: Callable[[str], Iterable[str]], native: bool) -> dict[str, Any]:
    """``args`` (rendered) over the defaults known only now: the task's template defaults, then
    those of the module it is handed to or resolved as (``resolved``: a bridged task's FQCN)."""
    extra: set[str] = set()
    other = handed_to(task, args, variables)
    if other is not None:
        extra.add(normalize(other))
    if resolved:
        extra.add(normalize(resolved))
    extra -= task_names(task.module, native, task.collections)
    under = applicable(task.module_defaults, frozenset(extra),
                       lambda group: frozenset(normalize(n) for n in members(group))) if extra else []
    if not under and not task.late_defaults:
        return args
    return lay_under([render(value) for value in under + task.late_defaults], args, task.location)
