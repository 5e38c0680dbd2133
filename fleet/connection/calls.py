"""The controller's side of the agent's ``run`` request: module calls as the agent reads them.

The frames themselves are :mod:`fleet.agent.wire`; what a ``run`` request holds is read by
``fleet.agent.main`` (``Agent.run``). Each call carries its own check and diff flags, once:
the request has none, so the agent has nothing to choose between (pipelined calls of several
tasks in one request may differ, ``check_mode: true`` on one task).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fleet.connection.agentstart import compiled


@dataclass(frozen=True)
class ModuleCall:
    """One module invocation: which module (name, source, hash) and its validated params."""

    name: str
    source: str
    sha: str
    params: dict
    compiled: Callable[[], str] | None = None  # bytecode for this controller's Python, cached by the caller
    # Which task of the request the call belongs to (pipelining puts several tasks in one
    # request; a loop's items share one), and whether a failure stops the tasks after it.
    task: int = 0
    stop: bool = False
    # The task's modes: a check call changes nothing; a diff call reports before/after.
    check: bool = False
    diff: bool = False
    # Connection guard (fleet.agent.guard): the module can cut the management connection
    # (``sensitive``); ``guard`` is how long the host waits for confirmation before reverting.
    sensitive: bool = False
    guard: float | None = None
    # What the task notifies when it changes something (play key, handler keys, task name):
    # the agent remembers it on the host as soon as the task is done (fleet.agent.hostrun).
    notify: dict | None = None
    # One of Ansible's own modules (a fleet.bridge.BridgedCall): the session's bridge channel
    # writes its entry and the payloads the agent lacks (fleet.bridge.Channel.attach).
    bridged: Any = None
    # The task's ``environment`` keyword, rendered: what the module's process (and every program
    # it starts) has in its environment, for this call only.
    env: dict | None = None
    # The task's ``timeout`` keyword (seconds): the host kills the call after it (and what it started).
    timeout: float | None = None
    # The ``async`` keyword: run detached on the host ({"limit": seconds, "dir": async_dir});
    # the agent answers with the job's id at once (fleet.agent.asyncjob).
    job: dict | None = None

    def wire(self) -> dict:
        """The call as the agent reads it."""
        entry: dict = {"module": self.name, "sha": self.sha, "params": self.params, "check": self.check,
                       "diff": self.diff}
        if self.task:
            entry["task"] = self.task
        if self.stop:
            entry["stop"] = True
        if self.guard:
            entry["guard"] = self.guard
        if self.notify:
            entry["notify"] = self.notify
        if self.env:
            entry["env"] = self.env
        if self.timeout:
            entry["timeout"] = self.timeout
        if self.job:
            entry["async"] = self.job
        return entry

    def code(self) -> str:
        """The module's bytecode for this controller's Python (base64 of marshal data)."""
        if self.compiled is not None:
            return self.compiled()
        return compiled(self.source, f"<fleet module {self.name}>")


def run_request(calls: list[ModuleCall], sources: dict[str, str], codes: dict[str, str],
                timeout: float | None, max_output: int) -> dict:
    """The ``run`` request for ``calls``: module ``sources`` (or bytecode, ``codes``) the agent
    lacks ride along; ``timeout`` is per task, ``max_output`` what the controller accepts per
    task (the agent fails a task whose output would not fit)."""
    message = {
        "op": "run",
        "timeout": timeout,
        "calls": [c.wire() for c in calls],
        "sources": sources,
        "codes": codes,
        "max_output": max_output,
    }
    if len({c.task for c in calls}) > 1:
        message["stream"] = True  # pipelined tasks: report each one as it finishes
    return message


def request_wait(calls: list[ModuleCall], timeout: float | None) -> float | None:
    """How long the controller waits for the answer to ``calls``: the agent enforces ``timeout``
    per task and each call's own ``timeout``; this is the bound past those, for a host or
    connection that stops answering (None: no bound)."""
    tasks = len({c.task for c in calls})
    overall = None if timeout is None else timeout * tasks + 5.0
    if not calls or not all(c.timeout for c in calls):
        return overall
    # each call may take its limit, the kill and the agent's grace (fleet.agent.runner.OVERDUE_GRACE)
    own = sum(float(c.timeout or 0) + 3.0 for c in calls) + 5.0
    return own if overall is None else min(own, overall)


def source_hash(source: str) -> str:
    """The hash a module's source is known by (the agent caches modules by it)."""
    return hashlib.sha1(source.encode("utf-8")).hexdigest()
