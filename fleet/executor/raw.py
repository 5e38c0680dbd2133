"""``raw``: a command line run through the host's transport, without the agent or Python.

As Ansible's raw action: the free-form text goes to the connection as is (the login shell over
ssh, ``/bin/sh`` locally); ``executable`` runs it as ``EXECUTABLE -c 'TEXT'``; become wraps it
in ``sudo -H -S -n -u USER /bin/sh -c 'TEXT'``. The result has ``rc``, ``stdout``,
``stdout_lines``, ``stderr``, ``stderr_lines``; it is always changed, and a non-zero ``rc``
fails it with ``non-zero return code``. Check mode skips it (Ansible's raw does not run in
check mode); the ``environment`` keyword is ignored with Ansible's warning.
"""

from __future__ import annotations

import shlex
from dataclasses import replace
from typing import Any

from fleet.connection import run_raw, transport_spec
from fleet.errors import ConnectionFailed, InputError
from fleet.executor.hosttrust import ConnectionVars
from fleet.executor.plan import Unreachable

DEFAULT_TIMEOUT = 3600.0  # a raw command without the task's own timeout
NO_ENVIRONMENT = "raw module does not support the environment keyword"


def command_line(text: str, executable: str | None, become_user: str | None) -> str:
    """The shell command line Ansible's ``_low_level_execute_command`` makes of ``text``."""
    if become_user is not None:
        text = f"sudo -H -S -n -u {shlex.quote(become_user)} /bin/sh -c {shlex.quote(text)}"
    if executable:
        text = f"{executable} -c {shlex.quote(text)}"
    return text


async def raw(ctx: Any, state: Any) -> dict[str, Any]:
    """The raw action for ``ctx`` (an ActionContext) in ``state`` (the PlayState)."""
    text = ctx.args.get("cmd", ctx.args.get("_raw_params"))
    if not isinstance(text, str) or not text.strip():
        raise InputError(f"{ctx.where}: raw needs a command (free form)", ctx.location)
    task = ctx.task
    warnings = [NO_ENVIRONMENT] if task.environment else []
    if ctx.check:
        # registered as Ansible's: skipped, without a reason
        return {"status": "skipped", "changed": False, "msg": "", "warnings": warnings, "data": {"skipped": True},
                "exact": True}
    variables = ctx.variables
    become = state.become_user_for(task, variables)
    executable = ctx.args.get("executable") or None
    defaults = state.run.options.connection
    play = state.play
    if play.connection or play.remote_user:
        defaults = replace(defaults, connection=play.connection or defaults.connection,
                           user=play.remote_user or defaults.user)
    remote_user = state.remote_user_for(task, variables)
    if remote_user is not None:
        defaults = replace(defaults, user=remote_user)
    host = ctx.host
    timeout = float(state.options.timeout or DEFAULT_TIMEOUT)
    try:
        transport = transport_spec(host, ConnectionVars(variables, host), defaults).build()
        await transport.connect()
        try:
            code, out, err = await run_raw(transport, command_line(text, executable, become), timeout,
                                           host=host, what="running a raw command")
        finally:
            await transport.close()
    except ConnectionFailed as exc:
        raise Unreachable(exc.message) from None
    except OSError as exc:
        raise Unreachable(f"cannot connect: {type(exc).__name__}: {exc}") from None
    rc = 0 if code is None else code
    data = {"rc": rc, "stdout": out, "stdout_lines": out.splitlines(), "stderr": err,
            "stderr_lines": err.splitlines()}
    if rc != 0:
        return {"status": "failed", "changed": True, "msg": "non-zero return code", "warnings": warnings,
                "data": data}
    return {"status": "changed", "changed": True, "msg": "", "warnings": warnings, "data": data}
