"""The run an agent works for: its ``begin`` (sent with the run's first request to the agent)
takes the host's run lock and reads the handlers still pending there, the tasks' notifications are remembered on the host as they happen,
``end`` lets go of the lock.

A task's notifications are remembered (see :mod:`fleet.agent.hoststate`) as soon as it has
finished -- before its result is sent -- when it changed something and none of its calls
failed, as the controller decides ``notify``; check mode never writes. So a handler notified
by a task whose result never reached the controller (interrupt, lost connection) still runs at
the next apply of its play.
"""

from __future__ import annotations

import time

from fleet.agent.hoststate import HandlerStore, RunLock, StateError, locations


class HostRun:
    """This agent's run: who it works for, its lock, where it remembers handlers."""

    def __init__(self) -> None:
        self.lock = RunLock()
        self.run: dict = {}
        self.host = ""
        self.store: HandlerStore | None = None

    def begin(self, request: dict, stopped, notice) -> dict:
        """Start working for the run in ``request``: lock (``lock: {"wait": s}``, or none) and
        the pending handlers of inventory host ``host`` (``keep``: this agent keeps state)."""
        self.end()
        answer: dict = {"pending": [], "warnings": []}
        run = request.get("run")
        self.run = run if isinstance(run, dict) else {}
        self.host = str(request.get("host") or "")
        if not request.get("keep"):
            return answer
        state_dir, lock_dir = locations(request.get("dir") or None)
        lock = request.get("lock")
        if isinstance(lock, dict):
            try:
                taken = self.lock.acquire(lock_dir, self.run, float(lock.get("wait") or 0), stopped, notice)
            except StateError as exc:
                answer["warnings"].append(f"no run lock on this host: {exc}")
            else:
                answer["lock"] = taken
                if "held_by" in taken or "stopped" in taken:
                    self.run = {}
                    return answer
        store = HandlerStore(state_dir)
        try:
            answer["pending"] = store.pending(self.host)
        except StateError as exc:
            answer["warnings"].append(f"pending handlers cannot be read or kept: {exc}")
        else:
            self.store = store
            answer["state"] = store.path
        return answer

    def end(self) -> None:
        """The run is over (``end``, the daemon's ``detach``, or a new ``begin``)."""
        self.lock.release()
        self.run, self.host, self.store = {}, "", None

    def remember(self, play: str, handlers: list, task: str) -> str:
        """Record that ``handlers`` of ``play`` were notified; a warning when that failed."""
        if self.store is None or not handlers:
            return ""
        now = time.time()
        records = [{"host": self.host, "play": play, "handler": name, "since": now, "task": task,
                    "by": self.run.get("by", "")} for name in handlers]
        try:
            self.store.add(records)
        except (StateError, OSError) as exc:
            return f"the notified handlers could not be remembered on the host: {exc}"
        return ""

    def handlers(self, request: dict) -> dict:
        """The ``handlers`` op: ``add`` records (notifications the controller decided) or
        ``clear`` (play, handler) pairs of handlers that ran."""
        answer: dict = {"id": request.get("id"), "kept": False}
        if self.store is None:  # an agent of another become user keeps nothing
            return answer
        try:
            if request.get("add"):
                self.store.add([dict(r, host=self.host, by=self.run.get("by", "")) for r in request["add"]
                                if isinstance(r, dict)])
            if request.get("clear"):
                self.store.clear(self.host, [tuple(pair) for pair in request["clear"]
                                             if isinstance(pair, list) and len(pair) == 2])
        except (StateError, OSError) as exc:
            answer["warning"] = f"pending handlers on the host: {exc}"
        else:
            answer["kept"] = True
        return answer


class TaskNotes:
    """The notifications of the task the agent is running: remembered when the task is done."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.play = ""
        self.task = ""
        self.handlers: list = []
        self.failed = False
        self.check = False

    def add(self, call: dict, result: dict, check: bool) -> None:
        """Fold in one finished call (its ``notify``: play, handlers, task name)."""
        notify = call.get("notify")
        self.failed = self.failed or result.get("status") == "failed"
        self.check = self.check or check
        if not isinstance(notify, dict) or not result.get("changed") or result.get("status") == "failed":
            return
        self.play, self.task = str(notify.get("play") or ""), str(notify.get("task") or "")
        for name in notify.get("handlers") or []:
            if isinstance(name, str) and name not in self.handlers:
                self.handlers.append(name)

    def done(self, run: HostRun) -> str:
        """The task is finished: remember its handlers; a warning when that failed."""
        warning = ""
        if self.handlers and not self.failed and not self.check:
            warning = run.remember(self.play, self.handlers, self.task)
        self.reset()
        return warning
