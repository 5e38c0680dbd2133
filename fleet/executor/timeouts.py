"""The ``timeout`` keyword: the host kills a task's action after so many seconds (the agent's
per-call deadline, fleet.agent.main), and the task fails as Ansible's TaskExecutor fails it."""

from __future__ import annotations

import dataclasses
from typing import Any

from fleet.connection import ModuleCall
from fleet.errors import InputError
from fleet.executor.outcome import Outcome
from fleet.playbook import Task


def limited(templar: Any, task: Task, variables: Any, calls: list[ModuleCall]) -> list[ModuleCall]:
    """The calls with the task's ``timeout`` (rendered per host and item; 0: none)."""
    limit = seconds(templar.render(task.timeout, variables, task.location), task)
    return [dataclasses.replace(call, timeout=limit) for call in calls] if limit else calls


def seconds(value: Any, task: Task) -> int | None:
    """The rendered keyword as whole seconds (Ansible's ``int`` field), None for no limit."""
    if value is None or value == "":
        return None
    try:
        number = int(float(value)) if not isinstance(value, bool) else None
    except (TypeError, ValueError):
        number = None
    if number is None:
        raise InputError(f"task {task.display_name!r}: timeout must be a number of seconds, got {value!r:.60}",
                         task.location)
    return number if number > 0 else None


def outcome(task: Task, results: list[dict[str, Any]]) -> Outcome:
    """The failed task of a call the host killed at its ``timeout``: Ansible's message and
    ``timedout`` (``frame``: where Ansible's alarm struck; here, the call on the host)."""
    period = next(r["timedout"] for r in results if r.get("timedout"))
    msg = (f"The {task.module} action failed to execute in the expected time frame ({int(period)}) "
           "and was terminated")
    frame = f"Interrupted on the host: the {task.module} call was killed with the processes it started"
    done = Outcome("failed", False, msg, {"msg": msg, "timedout": {"frame": frame, "period": int(period)}})
    done.exact = True
    return done
