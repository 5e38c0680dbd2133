"""``include_tasks`` and ``include_role``: resolved per host at run time.

Each host may include a different file (a templated name) or the same file once per loop
item; the play runner groups hosts that include the same thing at the same position and runs
each group as an ordinary task list.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fleet.executor.dynamic import with_loop_control
from fleet.executor.outcome import item_vars, loop_items, loop_values
from fleet.executor.state import PlayContext
from fleet.playbook import Item, Task
from fleet.templating import confined
from fleet.vars import Final


@dataclass
class Inclusion:
    """One thing a host includes: a task file or a role (once per loop item)."""

    key: str  # what it is, for grouping hosts: the file path or the role and its options
    label: str  # for the report: the file, or the role name
    items: list[Item]
    params: dict[str, Any]  # variables the included tasks see (include params, loop vars)


def resolve(runner: PlayContext, task: Task, host: str, params: Mapping[str, Any] | None) -> list[Inclusion]:
    """What ``task`` includes on ``host``: one Inclusion per loop item whose ``when`` holds."""
    state = runner.state
    templar = runner.run.templar
    include_params = dict(params or {})
    for layer in task.vars_layers:
        if layer.kind == "task vars":  # block vars already reach the included tasks
            include_params.update(layer.values)
    variables = state.play_vars.for_task(host, task, include_params)
    scopes: list[tuple[Any, dict[str, Any]]] = [(variables, {})]
    if task.loop is not None:
        task = with_loop_control(templar, task, variables)
        items = loop_items(templar, task, variables, runner.run.playbook_dir)
        scopes = [(item_vars(task, variables, items, index), loop_values(task, items, index))
                  for index in range(len(items))]
    loader = runner.run.loader
    found: list[Inclusion] = []
    for scope, loop_vars in scopes:
        if task.when and not templar.truth(task.when, scope, task.location):
            continue
        args = templar.render(task.args, scope, task.location)
        within = (task.role.path if task.role else None, task.base_dir, runner.run.playbook_dir)
        for key in ("file", "_raw_params", "name", "tasks_from", "vars_from", "defaults_from", "handlers_from"):
            confined(args.get(key), f"{task.module} {key}", task.location, within)
        # loop items are data already rendered: the included tasks must not template them again
        host_params = {**include_params, **{name: Final(value) for name, value in loop_vars.items()}}
        apply = args.pop("apply", None)  # keywords for the included tasks, rendered with the include's args
        if task.module == "include_tasks":
            name = args.get("file") or args.get("_raw_params")
            path = loader.resolve_tasks_file(str(name), task.base_dir, task.role, task.location)
            items = loader.load_tasks(path, task.inherited, task.role, base_dir=task.base_dir,
                                      location=task.location, apply=apply)
            found.append(Inclusion(str(path), str(path), items, host_params))
        else:
            context, items, handlers = loader.load_role(str(args.get("name")), args, task.location,
                                                        inherited=task.inherited, parent=task.role, apply=apply)
            for handler in handlers:
                if not any(handler is known for known in runner.play.handlers):
                    runner.play.handlers.append(handler)
            key = f"role:{context.path}:{sorted(map(str, args.items()))!r}"
            found.append(Inclusion(key, context.name, items, host_params))
    return found
