"""Running commands on the target: timeouts that kill whole process groups, and the shared
logic of the command and shell modules (creates/removes, chdir, Ansible's result shape)."""

from __future__ import annotations

import contextlib
import os
import time

# glob, shlex, datetime and subprocess are imported where used: every import costs the
# agent's start time on every host, and many runs never need them.
from fleet.agent.errors import ModuleFailure


def expand_path(path: str) -> str:
    """Expand ``~`` and ``$VARS`` like Ansible does for parameters of type ``path``."""
    return os.path.expanduser(os.path.expandvars(path))


SYSTEM_DIRS = ("/usr/local/sbin", "/usr/sbin", "/sbin", "/usr/bin", "/bin")


def find_program(name: str) -> str | None:
    """``name`` on ``PATH``, else in the system's sbin/bin directories (an agent may run with a
    user's ``PATH``, without them), or None."""
    import shutil

    return shutil.which(name, path=os.pathsep.join([os.environ.get("PATH", os.defpath), *SYSTEM_DIRS]))


def substitute_path(command: str, path: str) -> list:
    """Split a ``validate`` command like Ansible (shlex) and put ``path`` where ``%s`` is."""
    import shlex

    if "%s" not in command:
        raise ModuleFailure(f"validate must contain %s: {command}")
    return [
        part.replace("%%", "\0").replace("%s", path).replace("\0", "%")
        for part in shlex.split(command)
    ]


def command_gate(creates, removes, chdir: str | None) -> tuple:
    """Ansible's ``creates``/``removes`` test (globs, relative to ``chdir``) for command/shell.

    Returns ``(should run, reason)`` with Ansible's messages; ``should run`` is None when
    neither is given (nothing to predict in check mode).
    """
    if not creates and not removes:
        return None, ""
    if creates:
        creates = expand_path(creates)
        if _glob_exists(creates, chdir):
            return False, f"Did not run command since '{creates}' exists"
    if removes:
        removes = expand_path(removes)
        if not _glob_exists(removes, chdir):
            return False, f"Did not run command since '{removes}' does not exist"
    return True, "Command would have run if not in check mode"


def _glob_exists(pattern: str, chdir: str | None) -> bool:
    import glob

    if chdir and not os.path.isabs(pattern):
        pattern = os.path.join(glob.escape(chdir), pattern)
    return bool(glob.glob(pattern))


def command_chdir(chdir: str | None) -> str | None:
    """The expanded ``chdir`` of command/shell; ModuleFailure if it is not a directory."""
    if not chdir:
        return None
    path = expand_path(chdir)
    if not os.path.isdir(path):
        error = "No such file or directory" if not os.path.exists(path) else "Not a directory"
        raise ModuleFailure(f"Unable to change directory before execution: {error}: '{path}'")
    return path


def command_result(host, argv, shown, chdir, stdin, add_newline: bool, strip: bool, outcome) -> None:
    """Run ``argv`` and report Ansible's command/shell result (rc, stdout, start, delta...) to
    the call's ``outcome`` (:class:`fleet.agent.contract.Outcome`); a non-zero rc fails it
    (``non-zero return code``)."""
    if stdin is not None and add_newline:
        stdin += "\n"
    import datetime

    start = datetime.datetime.now()
    rc, out, err = host.run(argv, cwd=chdir, stdin=stdin)
    end = datetime.datetime.now()
    if strip:
        out, err = out.rstrip("\r\n"), err.rstrip("\r\n")
    outcome.report(cmd=shown, rc=rc, stdout=out, stderr=err, stdout_lines=out.splitlines(),
                   stderr_lines=err.splitlines(), start=str(start), end=str(end), delta=str(end - start))
    if rc != 0:
        outcome.fail("non-zero return code")


@contextlib.contextmanager
def task_environment(env):
    """The task's ``environment`` in this process's environment while one module call runs,
    so the module and every program it starts see it (as Ansible's module process does);
    the agent's own environment is restored afterwards, whatever the call did."""
    if not env:
        yield
        return
    saved = dict(os.environ)
    try:
        os.environ.update({str(k): str(v) for k, v in env.items()})
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def run_command(argv, cwd, stdin, env, shell: bool, deadline: float | None):
    """Run a child in its own session (so a timeout kills its whole process group)."""
    import subprocess

    full_env = None
    if env:
        full_env = dict(os.environ)
        full_env.update({str(k): str(v) for k, v in env.items()})
    timeout = None
    if deadline is not None:
        timeout = max(deadline - time.monotonic(), 0.001)
    try:
        proc = subprocess.Popen(
            argv,
            cwd=cwd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=full_env,
            shell=shell,
            executable="/bin/sh" if shell else None,
            start_new_session=True,
        )
    except FileNotFoundError as exc:
        raise ModuleFailure("command not found: %s" % (exc.filename or argv)) from None
    except (NotADirectoryError, PermissionError) as exc:
        raise ModuleFailure(f"cannot start command: {exc}") from None
    try:
        out, err = proc.communicate((stdin or "").encode("utf-8"), timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        raise ModuleFailure(
            "command timed out after %.0f s and was killed" % (timeout or 0)
        ) from None
    return (
        proc.returncode,
        out.decode("utf-8", errors="replace"),
        err.decode("utf-8", errors="replace"),
    )


def _kill_group(proc) -> None:
    import subprocess

    with contextlib.suppress(OSError):
        os.killpg(proc.pid, 9)
    try:
        proc.communicate(timeout=0.5)
    except subprocess.TimeoutExpired:  # a process that left the group (setsid) holds the pipes
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            with contextlib.suppress(OSError):
                if stream is not None:
                    stream.close()
        proc.wait()
