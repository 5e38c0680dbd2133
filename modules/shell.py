"""Run a command line through a shell on the host (``/bin/sh -c`` by default).

Behaves like ``ansible.builtin.shell``: like ``command`` but the text (``cmd``, the
free-form part of ``shell: ...``) is handed to the shell as is, so pipes, redirections,
globs and ``$VARS`` work. ``executable`` picks another shell (run as ``EXECUTABLE -c
CMD``). ``chdir``, ``creates``/``removes`` (with Ansible's ``Did not run command since
'/x' exists`` messages, also used in check mode), ``stdin``/``stdin_add_newline`` and
``strip_empty_ends`` work as for ``command``.

Returns ``rc``, ``stdout``, ``stderr``, ``stdout_lines``, ``stderr_lines``, ``cmd`` (the
text), ``start``, ``end``, ``delta`` and ``msg``; a non-zero ``rc`` fails the task with
``non-zero return code``; a run is always ``changed``.

Difference from Ansible: a shell that cannot be started fails with ``command not found``.
"""

from __future__ import annotations

from dataclasses import dataclass

from fleet.agent.commands import command_chdir, command_gate, command_result
from fleet.agent.contract import Outcome, param

ALIASES: dict = {}


@dataclass(frozen=True)
class Params:
    cmd: str | None = param("the command line, run by the shell", None)
    chdir: str | None = param("directory to run the command in", None)
    creates: str | None = param("skip the command when this path (or glob) exists", None)
    removes: str | None = param("run the command only when this path (or glob) exists", None)
    executable: str | None = param("the shell to use (default /bin/sh)", None)
    stdin: str | None = param("text fed to the command's standard input", None)
    stdin_add_newline: bool = param("end stdin with a newline", True)
    strip_empty_ends: bool = param("strip trailing line breaks from stdout and stderr", True)




def would_run(p: Params, reader) -> tuple:
    if not p.cmd or not p.cmd.strip():
        return None, ""  # run() fails it (check mode: not run; Ansible's module fails it first)
    return command_gate(p.creates, p.removes, command_chdir(p.chdir))


def run(p: Params, host, ctx: Outcome) -> None:
    if not p.cmd or not p.cmd.strip():  # fails where the task runs, as in Ansible (rc 256)
        ctx.report(rc=256, stdout="", stderr="", cmd=None, start=None, end=None, delta=None)
        ctx.changed = False
        ctx.fail("no command given")
        return
    argv = [p.executable or "/bin/sh", "-c", p.cmd]
    command_result(host, argv, p.cmd, command_chdir(p.chdir), p.stdin, p.stdin_add_newline,
                   p.strip_empty_ends, ctx)
