"""Connection guard: changes that can cut the management connection undo themselves unless
the controller proves, over a fresh connection, that it can still reach the host.

A module that declares ``CONNECTION_SENSITIVE = True`` (sshd_config, nftables, networkd)
provides ``snapshot(p, host) -> dict`` (read before apply) and ``revert(p, host, snapshot)``.
When such a call changes the host and the controller asked for a guard, the agent arms a
watchdog: a marker file, and a detached process (double fork, own session, so it outlives the
agent and its SSH session) that waits ``seconds`` and then reverts the change **if it can still
remove the marker**. Confirming or rolling back also starts by removing the marker, so exactly
one of the three (confirm, rollback, watchdog) wins, whatever the order.

Nobody listens to the watchdog (its fds 0-2 are /dev/null): when its revert fails, it says so
where an operator looks, the system log (``journalctl -t fleet-guard``) and a log file next to
the marker (``/run/fleet-revert-failed.log`` as root), with the module, the marker and the error.
"""

from __future__ import annotations

import os
import signal
import tempfile
import time
import traceback

from fleet.agent.hostio import HostWriter

MARKER_DIRS = ("/run", "/dev/shm")
FAILURE_LOG = "fleet-revert-failed.log"  # in the marker's directory


def _marker() -> str:
    for directory in (*MARKER_DIRS, tempfile.gettempdir()):
        if os.path.isdir(directory) and os.access(directory, os.W_OK):
            fd, path = tempfile.mkstemp(prefix="fleet-guard-", dir=directory)
            os.close(fd)
            return path
    raise OSError("no writable directory for the connection guard's marker")


def _take(marker: str) -> bool:
    """Remove the marker; True if this caller removed it (and so decides what happens)."""
    try:
        os.unlink(marker)
        return True
    except FileNotFoundError:
        return False


def arm(module, p, saved: dict, seconds: float, guards: dict) -> str:
    """Start the watchdog for one applied change; returns its marker path."""
    marker = _marker()
    guards[marker] = (module, p, saved)
    pid = os.fork()
    if pid == 0:  # first child: detach and leave at once, so the agent never has a zombie
        try:
            signal.setitimer(signal.ITIMER_REAL, 0)
            os.setsid()
            if os.fork() == 0:
                _watch(module, p, saved, seconds, marker)
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    return marker


def _watch(module, p, saved: dict, seconds: float, marker: str) -> None:
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    signal.signal(signal.SIGALRM, signal.SIG_DFL)
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    # Let go of the agent's channel (its frame output is a dup of stdout): holding it would keep
    # the SSH session open after the agent exits.
    os.closerange(3, min(os.sysconf("SC_OPEN_MAX"), 65536))
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not os.path.exists(marker):
            os._exit(0)  # confirmed or rolled back already
        time.sleep(min(0.5, max(deadline - time.monotonic(), 0.0)))
    if _take(marker):
        try:
            module.revert(p, HostWriter(), saved)
        except Exception as exc:  # nobody is listening: leave a trace for the operator
            _log_failure(module, marker, exc)
    os._exit(0)


def _log_failure(module, marker: str, exc: Exception) -> None:
    """Say that the watchdog's revert failed in the system log and in FAILURE_LOG."""
    what = (f"fleet guard: revert of {getattr(module, '__name__', 'a module')}'s unconfirmed change "
            f"(marker {marker}) failed: {type(exc).__name__}: {exc}")
    try:
        import syslog

        syslog.openlog("fleet-guard", syslog.LOG_PID, syslog.LOG_DAEMON)
        syslog.syslog(syslog.LOG_ERR, what)
    except Exception:  # no syslog here: the file below still tells
        pass
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    text = f"{stamp} {what}\n" + "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    try:
        fd = os.open(os.path.join(os.path.dirname(marker), FAILURE_LOG),
                     os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        try:
            os.write(fd, text.encode("utf-8", "replace"))
        finally:
            os.close(fd)
    except OSError:
        pass


def handle(request: dict, guards: dict) -> dict:
    """The ``guard`` op: ``confirm`` or ``rollback`` the given markers.

    Each marker's outcome: ``confirmed``; ``rolled back``; ``expired`` (the watchdog already
    reverted it); ``failed: ...`` (rolling back raised); ``unknown`` (rollback asked of an
    agent that did not arm it: only the arming agent holds the snapshot)."""
    action = request.get("action")
    outcomes = {}
    markers = list(request.get("markers") or [])
    if action == "rollback":
        markers.reverse()  # undo the latest change first
    for marker in markers:
        if action == "rollback" and marker not in guards:
            outcomes[marker] = "unknown"
        elif not _take(marker):
            outcomes[marker] = "expired"
        elif action == "confirm":
            outcomes[marker] = "confirmed"
        else:
            module, p, saved = guards[marker]
            try:
                module.revert(p, HostWriter(), saved)
                outcomes[marker] = "rolled back"
            except Exception as exc:
                outcomes[marker] = f"failed: {type(exc).__name__}: {exc}"
        guards.pop(marker, None)
    return {"id": request.get("id"), "guard": outcomes}
