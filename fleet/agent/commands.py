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
    neither is given (nothing to predict: check mode skips the command).
    """
    if not creates and not removes:  # check mode skips it, with Ansible's words
        return None, "Command would have run if not in check mode"
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
    try:
        rc, out, err = host.run(argv, cwd=chdir, stdin=stdin)
    except CommandNotFound as exc:  # Ansible's run_command: the OSError's errno and words
        outcome.report(cmd=shown, rc=2, stdout="", stderr="", stdout_lines=[], stderr_lines=[])
        outcome.changed = False
        outcome.fail(f"[Errno 2] No such file or directory: b'{exc.name}'")
        return
    end = datetime.datetime.now()
    if strip:
        out, err = out.rstrip("\r\n"), err.rstrip("\r\n")
    outcome.report(cmd=shown, rc=rc, stdout=out, stderr=err, stdout_lines=out.splitlines(),
                   stderr_lines=err.splitlines(), start=str(start), end=str(end), delta=str(end - start))
    if rc != 0:
        outcome.fail("non-zero return code")


class CommandNotFound(ModuleFailure):
    """The program to run does not exist."""

    def __init__(self, name) -> None:
        super().__init__(f"command not found: {name}")
        self.name = name


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
        raise CommandNotFound(exc.filename or (argv if shell else argv[0])) from None
    except (NotADirectoryError, PermissionError) as exc:
        raise ModuleFailure(f"cannot start command: {exc}") from None
    try:
        out, err = _collect(proc, (stdin or "").encode("utf-8"), deadline)
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


#: After the command exits, how long its pipes may stay silent before they are no longer read
#: (Ansible's run_command: a process it started in the background keeps them open).
QUIET_AFTER_EXIT = 1.0


def _collect(proc, data: bytes, deadline):
    """The command's stdout and stderr, read as Ansible's ``run_command`` reads them: until both
    close, or until the command has exited and nothing came for :data:`QUIET_AFTER_EXIT`
    (``cmd &`` returns at once, the background job keeps running). TimeoutExpired at
    ``deadline``."""
    import selectors
    import subprocess
    import threading

    feeder = None
    if data:
        def feed():
            with contextlib.suppress(OSError):
                proc.stdin.write(data)
            with contextlib.suppress(OSError):
                proc.stdin.close()

        feeder = threading.Thread(target=feed, daemon=True)
        feeder.start()
    else:
        with contextlib.suppress(OSError):
            proc.stdin.close()
    out_fd, err_fd = proc.stdout.fileno(), proc.stderr.fileno()
    chunks: dict = {out_fd: [], err_fd: []}
    with selectors.DefaultSelector() as selector:
        for stream in (proc.stdout, proc.stderr):
            os.set_blocking(stream.fileno(), False)
            selector.register(stream, selectors.EVENT_READ)
        while True:
            wait = QUIET_AFTER_EXIT
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise subprocess.TimeoutExpired(proc.args, 0)
                wait = min(wait, left)
            events = selector.select(wait)
            for key, _mask in events:
                try:
                    chunk = os.read(key.fd, 65536)
                except BlockingIOError:
                    continue
                if chunk:
                    chunks[key.fd].append(chunk)
                else:
                    selector.unregister(key.fileobj)
            if (not events or not selector.get_map()) and proc.poll() is not None:
                break
            if not selector.get_map():
                left = None if deadline is None else max(deadline - time.monotonic(), 0.001)
                proc.wait(timeout=left)
                break
    for stream in (proc.stdout, proc.stderr):
        with contextlib.suppress(OSError):
            stream.close()
    if feeder is not None:
        feeder.join(0.1)
    return b"".join(chunks[out_fd]), b"".join(chunks[err_fd])


def _kill_group(proc) -> None:
    """Kill the command's whole process group; its pipes are closed unread (a process that left
    the group with setsid may still hold them)."""
    with contextlib.suppress(OSError):
        os.killpg(proc.pid, 9)
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        with contextlib.suppress(OSError):
            if stream is not None:
                stream.close()
    proc.wait()
