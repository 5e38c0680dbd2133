"""What Ansible decides when a task runs and fleet's loader cannot: a module named by a template
(``action: "{{ ansible_facts.pkg_mgr }}"``) and templated ``loop_control`` names
(``loop_var: "{{ loop_var_name }}"``). Both are rendered per host with the task's variables, as
Ansible's post_validate renders them, and the host runs the concrete task they give.

A rendered name is checked as what it is: a module name (dotted identifiers; host data -- a fact
-- may name a module that runs on the host, never one of the controller's actions) or a variable
name (an identifier); anything else fails the task on that host.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from fleet.errors import FleetError, InputError
from fleet.executor.actions import CONTROL_ACTIONS, LOCAL
from fleet.playbook import Task, as_bool, check_module_args
from fleet.registry import short_name
from fleet.templating import is_template, is_unsafe

MODULE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")
MAX_NAME = 200


class ModuleNotFound(FleetError):
    """A rendered module name that no module has: the task fails on that host with Ansible's
    message (its normal action plugin's), and registers that failure."""

    def __init__(self, name: str) -> None:
        super().__init__(f"The module {name} was not found in configured module paths")


def with_loop_control(templar: Any, task: Task, variables: Any) -> Task:
    """``task`` with its templated ``loop_var``/``index_var``/``extended`` rendered (the task's
    variables, before any item, as Ansible renders loop_control); ``task`` itself when none is."""
    control = task.loop_control
    if not control.dynamic:
        return task
    where = f"task {task.display_name!r}"

    def name(value: str | None, what: str) -> str | None:
        if value is None or not is_template(value):
            return value
        rendered = templar.render(value, variables, task.location)
        if not isinstance(rendered, str) or not rendered.isidentifier():
            raise InputError(f"{where}: {what} {rendered!r:.80} (rendered from {value!r}) is not a valid "
                             "variable name", task.location)
        return str(rendered)

    extended = control.extended
    if isinstance(extended, str):
        extended = as_bool(templar.render(extended, variables, task.location), f"{where}: loop_control extended",
                           task.location)
    made = replace(control, loop_var=name(control.loop_var, "loop_var") or "item",
                   index_var=name(control.index_var, "index_var"), extended=extended)
    return replace(task, loop_control=made)


class DynamicTasks:
    """The concrete tasks made of templated ones, one per rendering (a play's executor keeps
    them: a concrete task keeps one identity, which routes and handlers are keyed by)."""

    def __init__(self, templar: Any, registry: Any, bridge: Any) -> None:
        self.templar, self.registry, self.bridge = templar, registry, bridge
        self._made: dict[tuple[int, str, Any], tuple[Task, Task]] = {}  # (task, module, loop_control)

    def loop_ready(self, task: Task, variables: Any) -> Task:
        """``task`` with its loop_control rendered for this host (see :func:`with_loop_control`)."""
        if not task.loop_control.dynamic:
            return task
        made = with_loop_control(self.templar, task, variables)
        return self._keep(task, task.module, made.loop_control, lambda: made)

    def with_module(self, task: Task, variables: Any) -> Task:
        """``task`` as the module its templated name renders to on this host; FleetError (the
        task fails on this host) when that is no module name or no module has it."""
        if not task.dynamic_module:
            return task
        module = self.module_name(task, variables)

        def make() -> Task:
            args = check_module_args(module, dict(task.args), task.location) if isinstance(task.args, dict) \
                else task.args
            return replace(task, module=module, args=args, name=task.name or task.module)
        return self._keep(task, module, task.loop_control, make)

    def module_name(self, task: Task, variables: Any) -> str:
        """The module the task's templated name renders to, as the task keeps it: fleet's by
        short name, Ansible's as written (the bridge resolves it with the task's collections)."""
        rendered = self.templar.render(task.module, variables, task.location)
        text = rendered.strip() if isinstance(rendered, str) else rendered
        where = f"task {task.display_name!r}"
        if not isinstance(text, str) or len(text) > MAX_NAME or not MODULE_NAME.fullmatch(text):
            raise InputError(f"{where}: the module name {task.module!r} rendered to {rendered!r:.80}, which is "
                             "not a module name", task.location)
        short = short_name(text)
        if short in CONTROL_ACTIONS:  # Ansible too decides these when it loads the task
            raise InputError(f"{where}: {short} cannot be named by a template (it is decided when the playbook "
                             "is loaded)", task.location)
        if short in LOCAL:
            if is_unsafe(rendered):
                raise InputError(f"{where}: the module name {task.module!r} was read from host data (facts, "
                                 f"registered results), which may name a module but not the controller's action "
                                 f"{short}", task.location)
            return short
        if self.registry.find(short) is not None:
            return short
        role = task.role.path if task.role else None
        if self.bridge is None or not self.bridge.exists(text, task.collections, role):
            raise ModuleNotFound(text)
        return text

    def _keep(self, task: Task, module: str, control: Any, make: Any) -> Task:
        key = (id(task), module, control)
        if key not in self._made:
            self._made[key] = (task, make())  # the original kept alive: its id stays its own
        return self._made[key][1]
