"""SIGINT and SIGTERM during a run (the CLI's run commands).

The first signal stops the run: no task or handler starts any more on any host; every agent
working on a request is told to stop, finishes the task in flight, starts no other and
answers with what it did (:mod:`fleet.agent.inbox`). fleet waits for those answers up to
:data:`GRACE` seconds, then ends as any run ends: connections closed (kept agents let go of
their host's lock), the recap with the handlers notified but not run (they stay remembered on
the hosts), ``--json`` with ``interrupted: true``, exit 130 (SIGINT) or 143 (SIGTERM).

A second signal, or the grace running out, aborts at once: the recap and the report so far,
naming the tasks still in flight, then fleet exits without closing anything. The hosts still
finish the task in flight and start no other: an agent whose controller is gone (its stdin
closed, or the persistence daemon saying so) never starts another task.
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Callable
from typing import Any

from fleet.executor.run import run_playbook
from fleet.executor.state import RunState
from fleet.playbook import Playbook
from fleet.result import RunReport

GRACE = 30.0  # seconds the tasks in flight get to finish after the first signal
SIGNALS = (signal.SIGINT, signal.SIGTERM)


async def run_with_signals(state: RunState, playbook: Playbook, aborted: Callable[[RunReport], Any],
                           grace: float = GRACE) -> RunReport:
    """Run ``playbook`` with SIGINT/SIGTERM handled as the module says. ``aborted(report)`` is
    called with the report so far when the run is aborted; it must not return (the CLI prints,
    writes the report and exits)."""
    loop = asyncio.get_running_loop()
    started = time.perf_counter()
    timer: list[asyncio.TimerHandle] = []
    say = getattr(state.reporter, "notice", None) or (lambda host, text: None)

    def abort() -> None:
        state.report.duration_s = time.perf_counter() - started
        state.finish_report(playbook.plays)
        aborted(state.report)

    def too_long() -> None:
        say(None, f"the tasks in flight did not finish within {grace:g} s: stopping now")
        abort()

    def on_signal(signum: int) -> None:
        name = signal.Signals(signum).name
        if state.interrupted is None:
            state.interrupt(signum)
            busy = sorted(host for host, tasks in state.in_flight.items() if tasks)
            say(None, f"interrupted ({name}): no task starts from now on; " + (
                f"waiting up to {grace:g} s for the tasks in flight on {len(busy)} host(s) to finish "
                f"({'Ctrl-C' if signum == signal.SIGINT else 'the signal'} again to stop waiting)" if busy
                else "finishing"))
            timer.append(loop.call_later(grace, too_long))
            return
        say(None, f"{name} again: stopping now; the hosts finish the task in flight and start no other")
        abort()

    for number in SIGNALS:
        loop.add_signal_handler(number, on_signal, number)
    try:
        return await run_playbook(state, playbook)
    finally:
        for handle in timer:
            handle.cancel()
        for number in SIGNALS:
            loop.remove_signal_handler(number)
