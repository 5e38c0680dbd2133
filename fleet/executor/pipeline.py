"""Which consecutive tasks may share one agent request (pipelining).

Tasks are sent together when nothing the controller decides between them can change what
the later ones do: they are plain module tasks whose results no later task in the group reads.
A group ends after a task that ``register``s, may set facts (``setup``, a fact module such as
``service_facts``, any module of Ansible's: later ``when``s read them) or has ``failed_when``
(its verdict is only known on the controller). Retries, paused loops, ``run_once``, includes,
meta and controller actions (``set_fact``, ``debug``...) are never grouped, and a task using a
lookup starts a new group (it is rendered after the tasks before it ran). Plays with
``any_errors_fatal`` or ``max_fail_percentage`` are not pipelined: they must stop every host
before the next task. On a host, the agent stops at the first failed task of a group, so a
host never runs a task it would not have reached one task at a time.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from fleet.executor.actions import CONTROL_ACTIONS, LOCAL
from fleet.playbook import Block, Item, Play, Task


def groupable(task: Task) -> bool:
    """May this task be sent in the same request as the tasks around it?"""
    return (
        task.module not in LOCAL
        and not task.dynamic_module  # it may render to a controller action
        and task.module not in CONTROL_ACTIONS
        and not task.run_once
        and not task.throttle  # its own limit on hosts at once
        and task.delegate_to is None  # its own connection (fleet.executor.delegation)
        and not task.until
        and task.retries is None
        and task.async_val in (None, "", 0)
        and task.loop_control.pause <= 0
        and task.any_errors_fatal is not True
        and not task.ignore_unreachable
    )


def ends_group(task: Task, sets_facts: Callable[[Task], bool]) -> bool:
    """Tasks after this one must wait for its result on the controller."""
    return bool(task.register) or task.failed_when is not None or sets_facts(task)


_LOOKUP = re.compile(r"\b(lookup|query|q)\s*\(")


def reads_controller(task: Task) -> bool:
    """Lookups read controller files when the task is rendered; a local-connection task before
    it may have just written them, so such a task is rendered only after the ones before it ran."""
    text = repr((task.args, task.when, task.loop, [layer.values for layer in task.vars_layers]))
    return bool(_LOOKUP.search(text))


def play_allows(play: Play) -> bool:
    return not play.any_errors_fatal and play.max_fail_percentage is None


def group_length(items: Sequence[Item], start: int, sets_facts: Callable[[Task], bool]) -> int:
    """How many items from ``start`` go in one request (1 = on its own); ``sets_facts``: may
    this task's module set facts."""
    first = items[start]
    if isinstance(first, Block) or not groupable(first) or ends_group(first, sets_facts):
        return 1
    end = start + 1
    while end < len(items):
        item = items[end]
        if isinstance(item, Block) or not groupable(item) or reads_controller(item):
            break
        end += 1
        if ends_group(item, sets_facts):
            break
    return end - start
