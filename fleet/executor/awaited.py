"""Controller actions that wait (``pause``) or reach the host without the agent (``raw``):
awaited by the task executor, where the synchronous actions of :mod:`fleet.executor.actions`
are called."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fleet.executor.actions import ActionContext
from fleet.executor.fetch import finish
from fleet.executor.outcome import Outcome
from fleet.executor.pause import pause
from fleet.executor.raw import raw
from fleet.executor.script import shaped


async def run_awaited(ctx: ActionContext, state: Any) -> dict[str, Any]:
    """Run the awaited action ``ctx.task.module`` for ``ctx`` in ``state`` (the PlayState)."""
    if ctx.task.module == "pause":
        notice = getattr(state.run.reporter, "notice", None)
        return await pause(ctx, lambda: state.run.interrupted is not None,
                           say=(lambda text: notice(None, text)) if notice is not None else None)
    return await raw(ctx, state)


def _script(ctx: ActionContext, outcome: Outcome) -> Outcome:
    return shaped(outcome)


# controller actions whose host part is an agent call: their answer finished on the controller
FINISHED: dict[str, Callable[[ActionContext, Outcome], Outcome]] = {"script": _script, "fetch": finish}
