"""``script``: the controller's side of Ansible's script action (the host's is modules/script.py).

The script named first on the command line (free form, or ``cmd``) is found as Ansible finds
it (the role's ``files/``, the task's folder, the playbook's: :mod:`fleet.executor.files`) and
its content travels in the agent call; a name computed from host data may not leave those
folders. The agent's answer is shaped as Ansible's: a ``creates``/``removes`` that says no is
a skip, and check mode without them skips with Ansible's message.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fleet.errors import InputError
from fleet.executor.outcome import Outcome
from fleet.templating import confined

OPTIONS = frozenset({"cmd", "_raw_params", "creates", "removes", "chdir", "executable", "decrypt"})
NO_CHECK_MODE = "Check mode is not supported for this task."


def script_args(ctx: Any, read_b64: Callable[[Path, Any, bool], str], truthy: Callable[[Any], bool]
                ) -> dict[str, Any]:
    """The agent's ``script`` parameters for ``ctx`` (an ActionContext); ``read_b64`` reads a
    controller file (vault-decrypted when asked)."""
    args = ctx.args
    unknown = sorted(str(k) for k in args if str(k) not in OPTIONS)
    if unknown:
        raise InputError(f"{ctx.where}: Unsupported parameters for (script) module: {', '.join(unknown)}. "
                         f"Supported parameters include: {', '.join(sorted(OPTIONS - {'_raw_params'}))}.",
                         ctx.location)
    line = args.get("cmd", args.get("_raw_params"))
    if not isinstance(line, str) or not line.strip():
        raise InputError(f"{ctx.where}: one of the following is required: _raw_params, cmd", ctx.location)
    try:
        parts = shlex.split(line.strip())
    except ValueError as exc:
        raise InputError(f"{ctx.where}: script: cannot split {line!r:.80}: {exc}", ctx.location) from None
    source = parts[0]
    confined(source, "script", ctx.location, ctx.within)
    given = {k: str(args[k]) for k in ("creates", "removes", "chdir", "executable") if args.get(k)}
    try:
        path = ctx.files.find(source, ctx.task, "files")
        if not path.is_file():
            raise InputError(f"{ctx.where}: script {source!r} is not a file ({path})", ctx.location)
    except InputError as exc:
        if "creates" not in given and "removes" not in given:
            raise
        # as Ansible: creates/removes are asked first, so a skip wins over a missing script
        return {"missing": exc.message, "source": source, "cmd": line, **given}
    return {"content_b64": read_b64(path, ctx, truthy(args.get("decrypt", True))), "source": source,
            "cmd": line, **given}


def skip(msg: str) -> Outcome:
    """Ansible's AnsibleActionSkip as registered: ``skipped`` and ``msg``, no ``skip_reason``."""
    return Outcome("skipped", False, msg, {"skipped": True}, exact=True)


def shaped(outcome: Outcome) -> Outcome:
    """The agent's answer as Ansible's script action gives it."""
    if outcome.status == "ok" and outcome.msg.endswith(("matching creates option", "matching removes option")):
        return skip(outcome.msg)
    if outcome.status == "skipped":
        return skip(NO_CHECK_MODE)
    elif outcome.status == "changed" and not outcome.data:  # check mode, creates/removes said it would run
        outcome.msg = ""
    return outcome
