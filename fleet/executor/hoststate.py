"""The run's side of what agents keep on the hosts (see :mod:`fleet.agent.hoststate`): who
this run is, the host's run lock taken when an agent starts working for the run, and a mirror
of the handlers pending on each host -- notified earlier and not run yet, or in this run.

Agents of root and of the login user keep state; an agent of another become user does not,
and the notifications of its tasks are remembered through the login user's agent.
"""

from __future__ import annotations

import getpass
import math
import os
import secrets
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fleet.errors import AgentError
from fleet.executor.options import RunOptions
from fleet.result import RunReport, when

STATE_DIR_VAR = "fleet_host_state_dir"  # inventory variable: lock and state directory on the host
KEEPERS = (None, "root")  # become users whose agents keep the lock and the pending handlers


class HostLocked(AgentError):
    """Another run holds the host's lock and did not let go within ``--lock-wait``."""


class Interrupted(Exception):
    """The run was interrupted (SIGINT, SIGTERM): nothing more is sent to this host."""


@dataclass(frozen=True)
class RunIdentity:
    """Who this run is, as the lock on a host shows it to other runs."""

    id: str
    user: str
    controller: str
    pid: int
    since: float
    command: str

    @classmethod
    def current(cls, command: str) -> RunIdentity:
        try:
            user = getpass.getuser()
        except (KeyError, OSError):
            user = str(os.getuid())
        return cls(secrets.token_hex(16), user, socket.gethostname(), os.getpid(), time.time(), command)

    @property
    def by(self) -> str:
        return f"{self.user}@{self.controller}"

    def wire(self) -> dict[str, Any]:
        return {"id": self.id, "user": self.user, "controller": self.controller, "pid": self.pid,
                "since": self.since, "command": self.command, "by": self.by}


def describe(holder: dict[str, Any]) -> str:
    """``ops@ctl1 pid 123 since 2025-06-01 12:00:03 +0200 (fleet apply)`` for a lock holder."""
    if not holder.get("user") and not holder.get("controller"):
        return "a fleet run that has not said who it is yet"
    text = f"{holder.get('user', '?')}@{holder.get('controller', '?')} pid {holder.get('pid', '?')} " \
           f"since {when(holder.get('since'))}"
    return text + (f" ({holder['command']})" if holder.get("command") else "")


@dataclass
class Opening:
    """The ``begin`` a new agent gets with its first request (see :class:`AgentSession`)."""

    message: dict[str, Any]
    notice: Callable[[dict[str, Any]], None]  # the agent waits for another run's lock (and still does)
    done: Callable[[dict[str, Any]], None]  # the agent's answer to it (raises HostLocked, Interrupted)


@dataclass
class Pending:
    """A handler notified on a host and not run yet."""

    play: str
    handler: str
    since: float
    task: str = ""
    by: str = ""
    earlier: bool = False  # notified by an earlier run (read from the host)
    kept: bool = True  # remembered on the host (never in check mode)
    holders: set[str | None] = field(default_factory=set)  # become users whose agents hold the record
    seeded: bool = False  # an earlier one, added to its play's notifications in this run

    def to_report(self) -> dict[str, Any]:
        entry: dict[str, Any] = {"play": self.play, "handler": self.handler, "since": self.since,
                                 "notified_by": self.task, "earlier_run": self.earlier, "kept_on_host": self.kept}
        if self.by:
            entry["by"] = self.by
        return entry


class HostStates:
    """Per run: the opening of each agent that starts working for it, and the pending handlers."""

    def __init__(self, options: RunOptions, report: RunReport, notice: Any = None) -> None:
        self.options = options
        self.identity = RunIdentity.current(options.command or f"fleet {options.mode}")
        self.report = report
        self.notice = notice  # prints "waiting for the lock ..." (a reporter's notice, if it has one)
        self.pending: dict[str, dict[tuple[str, str], Pending]] = {}
        self.locked: dict[str, str] = {}  # host -> why it cannot run (lock held by another run)
        self.keeping: dict[str, set[str | None]] = {}  # host -> become users whose agents keep state
        self._warned: set[str] = set()

    # -- agents ------------------------------------------------------------------------------
    def keeps(self, host: str, become_user: str | None) -> bool:
        """Does the agent of ``become_user`` on ``host`` remember notifications itself?"""
        return become_user in self.keeping.get(host, set())

    def opening(self, host: str, become_user: str | None, variables: Any,
                opened: Callable[[], None]) -> Opening:
        """What a new agent is told with its first request: which run it works for; it takes the
        host's lock (waiting up to ``--lock-wait``) and reads the handlers pending there.
        ``opened`` runs once the agent has answered (the play takes up those handlers)."""
        if host in self.locked:
            raise HostLocked(self.locked[host])
        keep = self.options.host_state and become_user in KEEPERS
        directory = variables.get(STATE_DIR_VAR) if STATE_DIR_VAR in variables else None
        lock = keep and self.options.lock
        message = {"run": self.identity.wire(), "host": host, "keep": keep,
                   "dir": str(directory or self.options.host_state_dir or "") or None,
                   "lock": {"wait": self.options.lock_wait} if lock else None}
        waiting: list[dict[str, Any]] = []

        def told(notice: dict[str, Any]) -> None:
            holder = _mapping(notice.get("waiting"))
            waiting.append(holder)
            if self.notice is not None and not notice.get("again"):  # "again": still waiting
                self.notice(host, f"waiting for the lock on {host} held by {describe(holder)}, "
                                  f"up to {self.options.lock_wait:g} s (--lock-wait)")

        def done(answer: dict[str, Any]) -> None:
            self._opened(host, become_user, keep, answer, waiting)
            opened()

        return Opening(message, told, done)

    def _opened(self, host: str, become_user: str | None, keep: bool, answer: dict[str, Any],
                waiting: list[dict[str, Any]]) -> None:
        """The agent's answer to its opening: HostLocked when another run kept the lock,
        Interrupted when this run was interrupted while waiting for it."""
        lock = _mapping(answer.get("lock"))
        if lock.get("stopped"):
            raise Interrupted()
        if "held_by" in lock:
            holder = _mapping(lock["held_by"])
            self.locked[host] = (f"{host} is locked by another fleet run: {describe(holder)}; gave up after "
                                 f"{lock.get('waited', 0):.0f} s (--lock-wait SECONDS to wait longer, "
                                 f"--no-lock to run anyway)")
            raise HostLocked(self.locked[host])
        if waiting:
            self.warn(f"{host}: waited {lock.get('waited', 0):.0f} s for the run lock held by {describe(waiting[0])}")
        for warning in answer.get("warnings") or []:
            self.warn(f"{host} ({become_user or 'login user'}): {warning}")
        if keep and answer.get("state"):
            self.keeping.setdefault(host, set()).add(become_user)
        for record in answer.get("pending") or []:
            if isinstance(record, dict):
                self._earlier(host, become_user, record)

    def warn(self, text: str) -> None:
        if text not in self._warned:
            self._warned.add(text)
            self.report.warnings.append(text)

    def _earlier(self, host: str, become_user: str | None, record: dict[str, Any]) -> None:
        key = (str(record.get("play")), str(record.get("handler")))
        entry = self.pending.setdefault(host, {}).get(key)
        if entry is None:
            since = record.get("since")
            since = float(since) if isinstance(since, (int, float)) and math.isfinite(since) else 0.0
            entry = self.pending[host][key] = Pending(key[0], key[1], since, str(record.get("task", "")),
                                                      str(record.get("by", "")), earlier=True)
        entry.holders.add(become_user)

    # -- the play's handlers ----------------------------------------------------------------
    def notified(self, host: str, play: str, handlers: list[str], task: str, holder: str | None,
                 kept: bool) -> None:
        """Handlers of ``play`` notified on ``host`` by ``task`` in this run; ``holder``: the
        become user whose agent remembered them (when ``kept``)."""
        for handler in handlers:
            entry = self.pending.setdefault(host, {}).get((play, handler))
            if entry is None:
                entry = self.pending[host][(play, handler)] = Pending(play, handler, time.time(), task,
                                                                      self.identity.by, kept=kept)
            if kept:
                entry.kept = True
                entry.holders.add(holder)

    def earlier(self, host: str, play: str) -> list[Pending]:
        """Handlers of ``play`` pending on ``host`` since an earlier run, not yet taken up."""
        return [p for p in self.pending.get(host, {}).values() if p.play == play and p.earlier and not p.seeded]

    def ran(self, host: str, play: str, handler: str) -> set[str | None]:
        """The handler ran on the host: forget it; the become users whose agents must clear it."""
        if self.options.check:  # check mode changes nothing: an earlier record stays pending
            entry = self.pending.get(host, {}).get((play, handler))
            if entry is not None and not entry.earlier:
                del self.pending[host][(play, handler)]
            return set()
        entry = self.pending.get(host, {}).pop((play, handler), None)
        return set() if entry is None else set(entry.holders)

    def unrun(self, host: str, plays: set[str]) -> list[dict[str, Any]]:
        """What stays pending on ``host`` among the handlers of ``plays``, for the report."""
        entries = [p for p in self.pending.get(host, {}).values() if p.play in plays]
        return [p.to_report() for p in sorted(entries, key=lambda p: (p.since, p.play, p.handler))]


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
