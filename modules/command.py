"""Run a command on the host, without a shell.

Behaves like ``ansible.builtin.command``:

* ``cmd`` (the free-form text, ``command: touch /x``) is split like a shell would
  (``shlex``) but never goes through one: no pipes, redirections or globs. ``argv`` gives
  the arguments as a list instead; one of the two is required.
* ``$VARS`` and ``~`` in the arguments are expanded unless ``expand_argument_vars: false``.
* ``chdir`` runs the command in that directory.
* ``creates``/``removes`` (globs, relative to ``chdir``) skip the command when the path
  exists / does not exist: ``Did not run command since '/x' exists``. They also decide the
  outcome in check mode; otherwise check mode skips the command.
* ``stdin`` is fed to the command (with a newline added unless ``stdin_add_newline:
  false``); trailing newlines are stripped from the output unless ``strip_empty_ends:
  false``.
* Returns ``rc``, ``stdout``, ``stderr``, ``stdout_lines``, ``stderr_lines``, ``cmd``,
  ``start``, ``end``, ``delta`` and ``msg``. A non-zero ``rc`` fails the task with
  ``non-zero return code``; a run is always ``changed`` (use ``changed_when``).

``executable`` is ignored with Ansible's warning (its command module dropped it in 2.4).

A command that cannot be started fails with ``rc: 2`` and Ansible's words (``[Errno 2] No
such file or directory: b'NAME'``).

Differences from Ansible: a skipped run (creates/removes) returns only ``msg``.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from fleet.agent.commands import command_chdir, command_gate, command_result, expand_path
from fleet.agent.contract import Outcome, param
from fleet.agent.errors import ModuleFailure

ALIASES: dict = {}


@dataclass(frozen=True)
class Params:
    cmd: str | None = param(
        "the command, split into arguments like a shell would (no shell runs)", None)
    argv: list[str] | None = param("the command as a list of arguments (instead of cmd)", None)
    chdir: str | None = param("directory to run the command in", None)
    creates: str | None = param("skip the command when this path (or glob) exists", None)
    removes: str | None = param("run the command only when this path (or glob) exists", None)
    stdin: str | None = param("text fed to the command's standard input", None)
    stdin_add_newline: bool = param("end stdin with a newline", True)
    strip_empty_ends: bool = param("strip trailing line breaks from stdout and stderr", True)
    expand_argument_vars: bool = param("expand $VARIABLES and ~ in the arguments", True)
    executable: str | None = param(
        "accepted for Ansible, which ignores it with a warning (use shell)", None)


def warnings(p: Params, check: bool) -> list:
    """Ansible's warning for ``executable``, which its command module ignores since 2.4."""
    if not p.executable:
        return []
    return ["As of Ansible 2.4, the parameter 'executable' is no longer supported with the "
            f"'command' module. Not using '{p.executable}'."]


def check(p: Params) -> None:
    """A cmd that splits (no command, or both cmd and argv, fail where the task runs, as in
    Ansible: see ``refused``)."""
    if p.cmd and p.cmd.strip() and not p.argv:
        _args(p)


def refused(p: Params, ctx: Outcome) -> bool:
    """Ansible's failures (rc 256) for no command and for both a command line and argv, on the
    host that reaches the task, as Ansible's module fails it (the command_shell target asserts
    on them)."""
    has_cmd = bool(p.cmd and p.cmd.strip())
    if has_cmd and p.argv:
        ctx.report(rc=256)
        ctx.fail("only command or argv can be given, not both")
    elif not has_cmd and not p.argv:
        ctx.report(rc=256, stdout="", stderr="", cmd=None, start=None, end=None, delta=None)
        ctx.fail("no command given")
    else:
        return False
    ctx.changed = False
    return True


def _args(p: Params) -> list:
    if not (p.cmd and p.cmd.strip()):
        return [str(a) for a in p.argv]
    try:
        return shlex.split(p.cmd)
    except ValueError as exc:
        raise ModuleFailure(f"cannot split the command line {p.cmd!r}: {exc}") from None


def would_run(p: Params, reader) -> tuple:
    if bool(p.cmd and p.cmd.strip()) == bool(p.argv):
        return None, ""  # run() fails it (check mode: not run; Ansible's module fails it first)
    return command_gate(p.creates, p.removes, command_chdir(p.chdir))


def run(p: Params, host, ctx: Outcome) -> None:
    if refused(p, ctx):
        return
    args = _args(p)
    argv = [expand_path(a) for a in args] if p.expand_argument_vars else args
    command_result(host, argv, args, command_chdir(p.chdir), p.stdin, p.stdin_add_newline,
                   p.strip_empty_ends, ctx)
