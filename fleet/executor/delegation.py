"""``delegate_to`` (and ``local_action``): a task that runs for one host on another's connection.

As Ansible: the task is templated with the ORIGINAL host's variables (``inventory_hostname``,
``ansible_host`` in templates stay the original's); the connection is the delegated host's,
made from that host's own variables (inventory, play and task vars) -- ``localhost`` is the
implicit local connection when the inventory does not name it. The result is reported and
registered under the original host; ``delegate_facts: true`` gives the facts the task sets to
the delegated host instead. ``delegate_to`` renders per host, and per item in a loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fleet.errors import InputError
from fleet.playbook import Task
from fleet.templating import contains_unsafe


@dataclass(frozen=True)
class Target:
    """Where a delegated task (or loop item) runs: the host's name and its variables, which
    give the connection settings (``ansible_host``, ``ansible_user``, ``ansible_become*``...)."""

    name: str
    variables: Any  # fleet.vars.HostVars of the delegated host


def target_for(state: Any, task: Task, variables: Any) -> Target | None:
    """The delegated host of ``task`` for the host (or loop item) whose view is ``variables``;
    None when the task is not delegated (or ``delegate_to`` renders empty, as in Ansible).
    ``state``: the :class:`~fleet.executor.state.PlayState`."""
    if task.delegate_to is None:
        return None
    rendered = state.templar.render(task.delegate_to, variables, task.location)
    if rendered is None or str(rendered).strip() == "":
        return None
    name = str(rendered).strip()
    known = state.run.inventory.get_host(name) is not None
    if contains_unsafe(rendered) and not known:
        # an inventory host's settings come from the inventory; any other name would be an
        # address chosen by data a host sent (fleet/executor/hosttrust.py)
        raise InputError(f"task {task.display_name!r}: delegate_to {name!r} comes from data a host sent "
                         f"(a registered result or a fact) and is not an inventory host; fleet never "
                         f"connects where a host says", task.location)
    return Target(name, state.play_vars.for_delegate(name, task))


def facts_host(task: Task, host: str, target: Target | None) -> str:
    """The host whose variables the facts a task sets (set_fact, a module's ansible_facts) go
    to: the delegated host with ``delegate_facts: true``, else the task's own host."""
    if target is not None and task.delegate_facts:
        return target.name
    return host
