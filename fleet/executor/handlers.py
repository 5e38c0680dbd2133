"""Handlers that outlive a run: a notification is remembered on the host until the handler
has run there, so a run that ends before its handlers (an interrupt, a later task failing, a
lost connection) leaves them for the next apply of the play, which runs them and says so.

A play is known on the hosts by its file's name and its name (or hosts pattern); a handler by
its role and name (or its ``listen`` topics). Tasks carry what they notify to the agent, which
remembers it as soon as the task is done (:mod:`fleet.agent.hostrun`); notifications the
controller decides (``changed_when``, ``failed_when``, retries, paused loops) or made through an
agent that keeps no state are sent afterwards with a ``handlers`` request. Check mode never
writes: it reports what is pending and runs those handlers in check mode.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

from fleet.errors import FleetError
from fleet.executor.handlernames import handler_key, handler_keys, play_key
from fleet.executor.hoststate import Interrupted, Pending
from fleet.executor.outcome import Outcome, item_vars
from fleet.executor.plan import Plan
from fleet.executor.state import PlayContext, PlayState
from fleet.playbook import Task
from fleet.result import when
from fleet.templating import is_template


def attach(state: PlayState, plan: Plan) -> None:
    """Send what the task notifies with its calls, so the agent remembers it on the host.

    Only where the agent's answer alone decides the notification: no ``changed_when`` /
    ``failed_when`` (decided here), no retries or paused loops (one request per attempt)."""
    task = plan.task
    if (not task.notify or task.changed_when or task.failed_when or task.until or task.retries is not None
            or task.loop_control.pause > 0 or not state.options.host_state or state.check_for(task)):
        return
    try:
        if plan.outcomes is None:
            spec = _spec(state, task, plan.variables)
            plan.calls = [replace(call, notify=spec) for call in plan.calls]
        else:
            plan.pending = [(index, scope, [replace(call, notify=_spec(state, task, scope)) for call in calls])
                            for index, scope, calls in plan.pending]
    except FleetError:  # a notify name that does not render: the task fails when it is finished
        return
    plan.notify_sent = True


def _spec(state: PlayState, task: Task, variables: Any) -> dict[str, Any]:
    names = [str(state.templar.render(name, variables, task.location)) if is_template(name) else name
             for name in task.notify]
    return {"play": play_key(state.play), "handlers": handler_keys(state.play, names), "task": task.display_name}


async def notified(state: PlayState, plan: Plan, host: str, names: list[str]) -> None:
    """The task notified ``names`` on ``host``: mirror it, and have it remembered on the host
    when its agent did not do so already."""
    hoststates = state.run.hoststates
    keys = handler_keys(state.play, names)
    if not keys:
        return
    key, task = play_key(state.play), plan.task.display_name
    check = state.check_for(plan.task)
    if plan.notify_sent and hoststates.keeps(host, plan.become_user):
        hoststates.notified(host, key, keys, task, plan.become_user, kept=True)
        return
    hoststates.notified(host, key, keys, task, None, kept=False)
    if check or not state.options.host_state or host in state.run.dead:
        return  # (a host that went away may still have remembered it: its agent does so first)
    holder = plan.become_user if hoststates.keeps(host, plan.become_user) else None
    records = [{"play": key, "handler": k, "since": time.time(), "task": task} for k in keys]
    if await _request(state, host, plan.variables, holder, {"op": "handlers", "add": records}):
        hoststates.notified(host, key, keys, task, holder, kept=True)


async def _request(state: PlayState, host: str, variables: Any, become_user: str | None,
                   message: dict[str, Any]) -> bool:
    """Send a ``handlers`` request to the agent of ``become_user``; False (and a warning in the
    report) when it could not be done."""
    hoststates = state.run.hoststates
    what = "remember" if message.get("add") else "forget"
    try:
        session = await state.session(host, variables, become_user)
        answer = await session.request(message, timeout=60.0)
    except (FleetError, Interrupted, OSError) as exc:
        hoststates.warn(f"{host}: could not {what} pending handlers on the host: {exc or 'interrupted'}")
        return False
    if answer.get("warning"):
        hoststates.warn(f"{host}: {answer['warning']}")
    return bool(answer.get("kept"))


def earlier_note(entry: Pending) -> dict[str, Any]:
    """What a handler's result says about the earlier notification it runs for."""
    return {"since": entry.since, "notified_by": entry.task, "by": entry.by}


def announce(runner: PlayContext, handler: Task, hosts: list[str]) -> None:
    """Say which hosts run ``handler`` for an earlier run's notification."""
    notice = getattr(runner.run.reporter, "notice", None)
    for host in hosts:
        entry = runner.state.earlier.get((host, id(handler)))
        if entry is not None and notice is not None:
            notice(host, f"[{host}] running handler {handler.display_name} notified by an earlier run (since "
                         f"{when(entry.since)}, by task '{entry.task}'{f' of {entry.by}' if entry.by else ''})")


async def ran(runner: PlayContext, handler: Task, hosts: list[str], counts: dict[str, int]) -> None:
    """``handler`` ran (its failure, if any, did not fail the host) on the hosts whose report
    grew past ``counts``: forget its notification there."""
    state = runner.state
    key = play_key(state.play)
    for host in hosts:
        results = runner.run.report.host(host).results
        if len(results) <= counts.get(host, 0) or host in runner.run.failed_hosts or host in runner.run.dead:
            continue
        state.earlier.pop((host, id(handler)), None)
        for holder in sorted(state.run.hoststates.ran(host, key, handler_key(handler)), key=str):
            variables = state.play_vars.for_task(host, handler, None)
            await _request(state, host, variables, holder, {"op": "handlers", "clear": [[key, handler_key(handler)]]})


async def forget(runner: PlayContext, hosts: list[str]) -> None:
    """Clear the records of handlers that are no longer in the play (they were warned about)."""
    state = runner.state
    for host in hosts:
        for entry in state.forgotten.pop(host, []):
            for holder in sorted(state.run.hoststates.ran(host, entry.play, entry.handler), key=str):
                variables = state.play_vars.for_task(host, None)
                await _request(state, host, variables, holder, {"op": "handlers", "clear": [[entry.play, entry.handler]]})


def notify_names(templar: Any, task: Task, variables: Any, outcomes: list[Outcome] | None) -> list[str]:
    """``notify`` names, rendered per changed item in a loop (``notify: restart {{ item }}``)."""
    if not any(is_template(name) for name in task.notify):
        return list(task.notify)
    if outcomes is None:
        return [str(templar.render(name, variables, task.location)) for name in task.notify]
    items = [o.item for o in outcomes]
    names: list[str] = []
    for index, outcome in enumerate(outcomes):
        if outcome.changed and outcome.status != "failed":
            scope = item_vars(task, variables, items, index)
            names += [str(templar.render(name, scope, task.location)) for name in task.notify]
    return names
