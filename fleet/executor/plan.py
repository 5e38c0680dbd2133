"""One task on one host as prepared before anything is sent, and the host-lost error."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fleet.connection import ModuleCall
from fleet.executor.delegation import Target
from fleet.executor.outcome import Outcome
from fleet.playbook import Task
from fleet.result import TaskResult


class Unreachable(Exception):
    """The host cannot be reached; the task result is 'unreachable'.

    ``partial``: results the agent had already streamed for the request that was lost.
    """

    def __init__(self, message: str, partial: list | None = None) -> None:
        super().__init__(message)
        self.partial = partial or []


@dataclass
class Plan:
    """One task on one host, prepared before anything is sent to the agent."""

    task: Task
    result: TaskResult
    started: float
    variables: Any = None
    outcome: Outcome | None = None  # decided on the controller: skipped, a local action, an error
    calls: list[ModuleCall] = field(default_factory=list)  # a single task's agent calls
    items: list[Any] | None = None  # a loop's items ...
    outcomes: list[Outcome] | None = None  # ... their outcomes (status "pending": sent to the agent)
    pending: list[tuple[int, Any, list[ModuleCall]]] = field(default_factory=list)
    error: BaseException | None = None
    become_user: str | None = None
    target: Target | None = None  # delegate_to: where the calls go (the same for every item)
    targets: dict[int, Target | None] = field(default_factory=dict)  # a loop's, per item
    split: bool = False  # a loop's items go to different hosts: one round trip per item
    ignore_errors: bool = False
    notify_sent: bool = False  # the calls carry what the task notifies (fleet.executor.handlers.attach)
    notified: list[str] = field(default_factory=list)  # notify names, once finish decided them
    original: Task | None = None  # set when ``task`` was replaced by its concrete form
    paused: list[int] = field(default_factory=list)  # a controller action's items run after a pause
    # a single controller action run in run(), at the task's turn: pause/raw (fleet.executor.awaited),
    # wait_for_connection/reboot (fleet.executor.reboot)
    awaited: bool = False

    @property
    def given(self) -> Task:
        """The task as the play holds it (``task`` may be the concrete task its templated names
        rendered to on this host: fleet.executor.dynamic)."""
        return self.original or self.task

    @property
    def agent_calls(self) -> list[ModuleCall]:
        if self.error is not None or self.outcome is not None:
            return []
        if self.outcomes is not None:
            return [call for _, _, calls in self.pending for call in calls]
        return self.calls

    @property
    def guarded(self) -> bool:
        """Can this task cut the management connection? Its change is confirmed before the
        tasks after it are sent."""
        return any(call.sensitive for call in self.agent_calls)

    @property
    def stops_here(self) -> bool:
        """Decided on the controller as a failure that ends the host's run of tasks."""
        failed = self.error is not None or (self.outcome is not None and self.outcome.status == "failed")
        return failed and not self.ignore_errors
