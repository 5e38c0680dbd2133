"""``meta`` tasks and handler flushing.

As in Ansible: ``flush_handlers`` always runs (whatever ``--tags`` says) and runs the notified
handlers in the order they are defined; ``end_host`` and ``end_role`` evaluate ``when`` per host;
``end_play``, ``end_batch``, ``clear_facts`` and ``clear_host_errors`` evaluate it on the first
host and act on the whole play. Handlers ignore tags.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import fleet.executor.handlers as lasting
from fleet.errors import InputError
from fleet.executor.handlernames import notified_handlers
from fleet.executor.state import PlayContext, first_implicit_flush
from fleet.executor.tags import selected
from fleet.playbook import Task
from fleet.result import TaskResult

#: The meta actions Ansible reports skipped where their ``when`` is false
SKIPPABLE = frozenset({"flush_handlers", "clear_facts", "clear_host_errors", "end_batch", "end_play", "end_host",
                       "end_role"})
META_ACTIONS = ("flush_handlers", "noop", "end_play", "end_host", "end_batch", "reset_connection",
                "clear_facts", "refresh_inventory", "clear_host_errors", "end_role")


def _when(runner: PlayContext, task: Task, host: str, params: Mapping[str, Mapping[str, Any]] | None) -> bool:
    if not task.when:
        return True
    variables = runner.state.play_vars.for_task(host, task, (params or {}).get(host))
    return bool(runner.run.templar.truth(task.when, variables, task.location))


def _holds(runner: PlayContext, task: Task, action: str, hosts: list[str],
           params: Mapping[str, Mapping[str, Any]] | None) -> list[str]:
    """The hosts whose ``when`` holds; the others get a skipped result, as Ansible reports a meta
    task whose condition is false."""
    holding = [h for h in hosts if _when(runner, task, h, params)]
    skipped = [h for h in hosts if h not in holding]
    if skipped and action in SKIPPABLE:
        runner.run.reporter.task_start(task, False)
        runner.record(task, [TaskResult(h, runner.play.name, task.display_name, task.module, "skipped",
                                        msg=f"{action} conditional evaluated to False", location=str(task.location),
                                        role=task.role.name if task.role else None) for h in skipped])
    return holding


async def run_meta(runner: PlayContext, task: Task, hosts: list[str],
                   params: Mapping[str, Mapping[str, Any]] | None, guarded: bool) -> list[str]:
    """Carry out a meta task on ``hosts``; return the hosts that failed (handlers can fail)."""
    state = runner.state
    action = str(task.args.get("_raw_params") or task.args.get("free_form") or "")
    if action not in META_ACTIONS:
        raise InputError(f"unknown meta action {action!r}", task.location)
    if action == "flush_handlers":
        first = first_implicit_flush(runner.play)
        if first is None or runner.play.tasks[first] is not task:
            state.wake()  # past the pre_tasks' flush: an earlier run's handlers may run
        return await flush_handlers(runner, _holds(runner, task, action, hosts, params), guarded)
    options = runner.run.options
    if not selected(task.tags | runner.play.tags, options.tags, options.skip_tags):
        return []
    if action == "end_host":
        state.active.difference_update(_holds(runner, task, action, hosts, params))
        return []
    if action == "end_role":
        if task.role is None:
            raise InputError("meta: end_role is only allowed inside a role", task.location)
        state.ended_roles.update((h, id(task.role)) for h in _holds(runner, task, action, hosts, params))
        return []
    if action == "reset_connection":
        await asyncio.gather(*(runner.run.close_host(h) for h in hosts))
        return []
    if not hosts or not _holds(runner, task, action, hosts[:1], params):
        return []
    if action in ("end_play", "end_batch"):
        state.ended = action == "end_play"
        state.active.clear()
    elif action == "clear_facts":
        for host in state.hosts:  # as Ansible, the fact cache's entry goes too
            runtime = runner.run.runtimes[host]
            runtime.facts.clear()
            runtime.cacheable.clear()
            runtime.gathered = False
            if runner.run.options.fact_cache is not None:
                runner.run.options.fact_cache.delete(host)
    elif action == "clear_host_errors":
        for host in state.hosts:
            if host in runner.run.failed_hosts:
                runner.run.failed_hosts.discard(host)
                runner.run.report.host(host).failed = False
                if host in state.batch and host not in runner.run.dead:
                    state.active.add(host)
        runner.refresh_hosts()
    return []


async def flush_handlers(runner: PlayContext, hosts: list[str], guarded: bool = False) -> list[str]:
    """Run every notified handler, in definition order, once, on the hosts that notified it.

    A handler notified (by a later handler) while the flush runs still runs in it when it comes
    later in the list, and at the next flush otherwise.
    """
    state = runner.state
    failed: list[str] = []
    await lasting.forget(runner, hosts)
    for handler in list(runner.play.handlers):
        if runner.run.interrupted is not None:  # an interrupted run starts no handler: they stay pending
            break
        _expand(runner, hosts)
        pending = state.pending.get(id(handler), set())
        targets = [h for h in hosts if h in pending and h in state.active and h not in failed]
        if not targets:
            continue
        pending.difference_update(targets)
        lasting.announce(runner, handler, targets)
        counts = {h: len(runner.run.report.host(h).results) for h in targets}
        newly = await runner.run_task(handler, targets, handler=True, guarded=guarded)
        failed.extend(newly)
        await lasting.ran(runner, handler, [h for h in targets if h not in newly], counts)
    return failed


def _expand(runner: PlayContext, hosts: list[str]) -> None:
    """Turn the hosts' notifications into pending (handler, host) pairs."""
    state = runner.state
    for host in hosts:
        names = state.notified.get(host)
        for name in names or ():
            for handler in notified_handlers(runner.play.handlers, name):
                state.pending.setdefault(id(handler), set()).add(host)
        if names:
            names.clear()
