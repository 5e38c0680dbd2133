"""``pause``: wait on the controller for some time or for the user, as Ansible's pause action.

It runs once per play (Ansible's ``BYPASS_HOST_LOOP``: the play runner treats it as
``run_once``), so every host waits for it. ``seconds``/``minutes`` sleep (under one second
counts as one, as Ansible rounds it); a ``prompt`` without a duration asks on the terminal and
the answer is ``user_input``. Without a terminal (CI, stdin not a tty) Ansible asks nothing: a
prompt without a duration goes on at once with its warning, a duration is slept. An interrupt
(SIGINT/SIGTERM, :mod:`fleet.executor.interrupt`) ends the wait at once: the task did not run.
"""

from __future__ import annotations

import asyncio
import datetime
import getpass
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from fleet.errors import InputError
from fleet.executor.hoststate import Interrupted

NO_TTY = "Not waiting for response to prompt as stdin is not interactive"
KNOWN = frozenset({"echo", "minutes", "seconds", "prompt"})
STEP = 0.1  # how often a wait looks at the run's interrupt flag


def _whole(value: Any, name: str, ctx: Any) -> int | None:
    """Ansible's ``int`` callable: 1.7 is 1, "2" is 2, "x" is an error."""
    if value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise InputError(f"{ctx.where}: pause: {name} must be a whole number, got {value!r:.40}",
                         ctx.location) from None


def _truth(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "yes", "true", "on", "y", "t")
    return bool(value)


async def _sleep(seconds: float, interrupted: Callable[[], bool]) -> None:
    end = time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        if interrupted():
            raise Interrupted()
        await asyncio.sleep(min(STEP, left))
    if interrupted():
        raise Interrupted()


def _settle(answer: asyncio.Future[str], text: str) -> None:
    if not answer.done():
        answer.set_result(text)


async def _ask(prompt: str, echo: bool, interrupted: Callable[[], bool]) -> str:
    """One line from the terminal, read in a daemon thread so an interrupt can end the wait
    (the thread is left blocked on the terminal; the process exits without waiting for it)."""
    loop = asyncio.get_running_loop()
    answer: asyncio.Future[str] = loop.create_future()

    def read() -> None:
        try:
            text = input(prompt) if echo else getpass.getpass(prompt)
        except (EOFError, OSError):
            text = ""
        loop.call_soon_threadsafe(_settle, answer, text)

    threading.Thread(target=read, name="fleet-pause", daemon=True).start()
    while not answer.done():
        if interrupted():
            raise Interrupted()
        await asyncio.wait([answer], timeout=STEP)
    return answer.result()


async def pause(ctx: Any, interrupted: Callable[[], bool], tty: bool | None = None,
                say: Callable[[str], Any] | None = None) -> dict[str, Any]:
    """The pause action for ``ctx`` (an :class:`~fleet.executor.actions.ActionContext`);
    ``interrupted`` says whether the run was interrupted; ``tty``: is stdin a terminal
    (asked of sys.stdin when None); ``say`` shows a line about the wait (the terminal's)."""
    args = ctx.args
    unknown = sorted(str(k) for k in args if str(k) not in KNOWN)
    if unknown:
        raise InputError(f"{ctx.where}: Unsupported parameters for (pause) module: {', '.join(unknown)}. "
                         f"Supported parameters include: {', '.join(sorted(KNOWN))}.", ctx.location)
    if args.get("minutes") is not None and args.get("seconds") is not None:
        return {"status": "failed", "changed": False, "msg": "parameters are mutually exclusive: minutes|seconds",
                "data": {}}
    echo = _truth(args.get("echo", True))
    minutes, seconds = _whole(args.get("minutes"), "minutes", ctx), _whole(args.get("seconds"), "seconds", ctx)
    unit = "minutes"
    if minutes is not None:
        seconds = minutes * 60
    elif seconds is not None:
        unit = "seconds"
    if tty is None:
        tty = sys.stdin.isatty()
    hidden = "" if echo else " (output is hidden)"
    text = args.get("prompt") or "Press enter to continue, Ctrl+C to interrupt"
    warnings: list[str] = []
    started, start = time.time(), str(datetime.datetime.now())
    user_input = ""
    if seconds is not None:
        if say is not None:  # Ansible's line, and how to stop early here
            say(f"[{ctx.task.display_name}] Pausing for {max(seconds, 1)} seconds (Ctrl-C ends the run)")
        await _sleep(max(seconds, 1), interrupted)  # input is ignored when a duration is given
    elif not tty:
        warnings.append(NO_TTY)
    else:
        user_input = await _ask(f"[{ctx.task.display_name}]\n{text}{hidden}:", echo, interrupted)
    duration = time.time() - started
    shown = round(duration / 60.0, 2) if unit == "minutes" else round(duration, 2)
    return {"status": "ok", "changed": False, "msg": "", "warnings": warnings, "data": {
        "rc": 0, "stderr": "", "stdout": f"Paused for {shown} {unit}", "start": start,
        "stop": str(datetime.datetime.now()), "delta": int(duration), "echo": echo,
        "user_input": user_input}}
