"""What the agent keeps on the host between runs: the run lock, and the handlers that were
notified but have not run yet.

Where: root keeps its pending handlers in ``/var/lib/fleet/handlers.json`` and its lock in
``/run/fleet/lock`` (a lock belongs where the boot clears it); the login user of a run without
become keeps both in ``~/.local/state/fleet/``. A run may name one directory for both
(``fleet_host_state_dir``). Agents of other become users (``postgres``, ``nobody``) keep
nothing: the controller remembers their tasks' notifications through the login user's agent.

The directories are created 0700 and the files 0600; a directory that is a symlink, belongs
to another user or that group or others can write is refused, as are a lock or state file
that is not a regular file of this user: nobody else on the host can plant one.

The lock is an ``flock`` on ``lock``, held by the agent for the run, with the holder (run id,
controller, user, pid, since) written in it. Two agents of the same run (login user and
become root, or two inventory names of one machine) share it by run id.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import pwd
import stat
import time

ROOT_STATE = "/var/lib/fleet"
ROOT_LOCKS = "/run/fleet"
USER_STATE = (".local", "state", "fleet")
HANDLERS = "handlers.json"
LOCK = "lock"
POLL = 0.2  # seconds between tries of a held lock
NOTICE_AFTER = 1.0  # a holder that has not written its name yet is announced as unknown after this
# While it waits, the agent says so again this often: the controller's wait for an answer (the
# task timeout) restarts with every frame, so a long wait for the lock is not taken for a hang.
STILL_WAITING = 2.0
MAX_STATE = 16 * 1024 * 1024
MAX_RECORDS = 10000
CLOEXEC = getattr(os, "O_CLOEXEC", 0)


class StateError(Exception):
    """The lock or the state cannot be used (the message names the path and why)."""


def locations(override: str | None = None) -> tuple:
    """(state directory, lock directory) for this agent's user."""
    if override:
        return override, override
    if os.geteuid() == 0:
        return ROOT_STATE, ROOT_LOCKS if os.path.isdir("/run") else ROOT_STATE
    home = pwd.getpwuid(os.geteuid()).pw_dir
    state = os.path.join(home, *USER_STATE)
    return state, state


def open_dir(path: str) -> int:
    """A descriptor of the private directory ``path``, created 0700 if missing."""
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | CLOEXEC)
    except OSError as exc:
        raise StateError(f"cannot use {path}: {exc.strerror or exc}") from None
    info = os.fstat(fd)
    if info.st_uid != os.geteuid() or info.st_mode & 0o022:
        os.close(fd)
        raise StateError(f"{path} is not a private directory of uid {os.geteuid()} (owner uid {info.st_uid}, mode {stat.S_IMODE(info.st_mode):04o}): not used")
    return fd


def _own_file(fd: int, path: str) -> None:
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode) or info.st_uid != os.geteuid():
        os.close(fd)
        raise StateError(f"{path} is not a regular file of uid {os.geteuid()}: not used")


class RunLock:
    """The run's lock on this host (one ``flock``), while held."""

    def __init__(self) -> None:
        self.fd: int | None = None

    def acquire(self, directory: str, holder: dict, wait: float, stopped, notice) -> dict:
        """Take the lock, waiting up to ``wait`` seconds; ``notice(holder, again)`` when it has
        to wait (``again``: every :data:`STILL_WAITING` seconds after the first). Answers ``{"held": True}``, ``{"shared": True}`` (this run holds it through
        another agent), ``{"held_by": holder, "waited": s}`` or ``{"stopped": True}``."""
        self.release()
        path = os.path.join(directory, LOCK)
        dirfd = open_dir(directory)
        try:
            fd = os.open(LOCK, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | CLOEXEC, 0o600, dir_fd=dirfd)
        except OSError as exc:
            raise StateError(f"cannot open {path}: {exc.strerror or exc}") from None
        finally:
            os.close(dirfd)
        _own_file(fd, path)
        started, told = time.monotonic(), None
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    other = _holder(fd)
                    if other.get("id") == holder.get("id"):
                        os.close(fd)
                        return {"shared": True}
                    waited = time.monotonic() - started
                    if waited >= wait:
                        os.close(fd)
                        return {"held_by": other, "waited": round(waited, 1)}
                    if told is None and (other or waited >= NOTICE_AFTER):
                        notice(other, False)
                        told = waited
                    elif told is not None and waited - told >= STILL_WAITING:
                        notice(other, True)
                        told = waited
                    # another agent of this run may have just taken it and not yet written its
                    # name: look again soon at first
                    if stopped.wait(POLL if waited >= 0.1 else 0.02):
                        os.close(fd)
                        return {"stopped": True}
                    continue
                record = json.dumps(dict(holder, agent_pid=os.getpid()), sort_keys=True).encode("utf-8")
                os.ftruncate(fd, 0)
                os.pwrite(fd, record, 0)
                self.fd = fd
                return {"held": True, "waited": round(time.monotonic() - started, 1)}
        except OSError as exc:
            os.close(fd)
            raise StateError(f"cannot lock {path}: {exc.strerror or exc}") from None

    def release(self) -> None:
        """Let go of the lock (and blank the holder, so nobody names a run that has ended)."""
        fd, self.fd = self.fd, None
        if fd is None:
            return
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
        os.close(fd)


def _holder(fd: int) -> dict:
    try:
        data = json.loads(os.pread(fd, 4096, 0).decode("utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


class HandlerStore:
    """Pending handler records in ``directory/handlers.json``: written atomically, one agent
    at a time (an ``flock`` on the directory), removed when nothing is pending."""

    def __init__(self, directory: str) -> None:
        self.directory = directory
        self.path = os.path.join(directory, HANDLERS)

    def pending(self, host: str) -> list:
        """The records of inventory host ``host``."""
        if not os.path.lexists(self.path):
            return []
        dirfd = open_dir(self.directory)
        try:
            return [r for r in self._read(dirfd) if r["host"] == host]
        finally:
            os.close(dirfd)

    def add(self, records: list) -> None:
        """Remember ``records``; one already pending keeps its first ``since``."""
        def change(current: list) -> list:
            known = {_key(r) for r in current}
            fresh = [r for r in (_valid(r) for r in records) if r is not None and _key(r) not in known]
            if len(current) + len(fresh) > MAX_RECORDS:
                raise StateError(f"{self.path} already holds {len(current)} pending handlers: not adding more")
            return current + fresh

        self._update(change)

    def clear(self, host: str, keys: list) -> None:
        """Forget the records of ``host`` whose (play, handler) is in ``keys``."""
        gone = {(host, play, handler) for play, handler in keys}
        self._update(lambda current: [r for r in current if _key(r) not in gone])

    def _update(self, change) -> None:
        dirfd = open_dir(self.directory)
        try:
            fcntl.flock(dirfd, fcntl.LOCK_EX)
            current = self._read(dirfd)
            new = change(current)
            if new != current:
                self._write(dirfd, new)
        except OSError as exc:
            raise StateError(f"cannot update {self.path}: {exc.strerror or exc}") from None
        finally:
            os.close(dirfd)

    def _read(self, dirfd: int) -> list:
        try:
            fd = os.open(HANDLERS, os.O_RDONLY | os.O_NOFOLLOW | CLOEXEC, dir_fd=dirfd)
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise StateError(f"cannot read {self.path}: {exc.strerror or exc}") from None
        _own_file(fd, self.path)
        with os.fdopen(fd, "rb") as handle:
            text = handle.read(MAX_STATE + 1)
        try:
            data = json.loads(text.decode("utf-8")) if len(text) <= MAX_STATE else None
        except ValueError:
            data = None
        if not isinstance(data, dict) or not isinstance(data.get("pending"), list):
            raise StateError(f"{self.path} is not a fleet state file (move it away to start afresh)")
        return [r for r in (_valid(r) for r in data["pending"]) if r is not None]

    def _write(self, dirfd: int, records: list) -> None:
        if not records:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(HANDLERS, dir_fd=dirfd)
            os.fsync(dirfd)
            return
        temp = f".{HANDLERS}.{os.urandom(6).hex()}"
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | CLOEXEC, 0o600, dir_fd=dirfd)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(json.dumps({"version": 1, "pending": records}, indent=1, sort_keys=True).encode("utf-8"))
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, HANDLERS, src_dir_fd=dirfd, dst_dir_fd=dirfd)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp, dir_fd=dirfd)
            raise
        os.fsync(dirfd)


def _key(record: dict) -> tuple:
    return record["host"], record["play"], record["handler"]


def _valid(record) -> dict | None:
    """``record`` with exactly the known fields, or None if it is not a record."""
    if not isinstance(record, dict):
        return None
    if not all(isinstance(record.get(name), str) for name in ("host", "play", "handler")):
        return None
    since = record.get("since")
    return {"host": record["host"], "play": record["play"], "handler": record["handler"],
            "since": since if isinstance(since, (int, float)) and not isinstance(since, bool) else 0,
            "task": str(record.get("task") or ""), "by": str(record.get("by") or "")}
