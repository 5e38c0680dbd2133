"""Typed results: one TaskResult per task per host, a HostReport per host, one RunReport.

Counting follows Ansible's recap: a task that changed something counts as both ``ok`` and
``changed``; ``failed`` tasks whose error was ignored count as ``ok`` (and ``ignored``).
"""

from __future__ import annotations

import signal
import time
from dataclasses import dataclass, field
from typing import Any

STATUSES = ("ok", "changed", "skipped", "failed", "unreachable")
REDACTED = "********"
NO_LOG_MSG = "the output has been hidden due to the fact that 'no_log: true' was specified for this result"


@dataclass
class TaskResult:
    """What happened when one task ran on one host."""

    host: str
    play: str
    task: str
    module: str
    status: str
    msg: str = ""
    diff: dict[str, Any] | None = None
    duration_s: float = 0.0
    data: dict[str, Any] = field(default_factory=dict)
    location: str = ""
    role: str | None = None
    items: list[TaskResult] | None = None
    item_label: str | None = None
    ignored: bool = False
    rescued: bool = False
    warnings: list[str] = field(default_factory=list)
    no_log: bool = False
    exception: str | None = None
    handler: bool = False
    failed_changed: bool = False  # a failed task that changed something first (command rc != 0)
    earlier_run: dict[str, Any] | None = None  # a handler run for an earlier run's notification
    # How the task ran: "native" (fleet's module or action) or "ansible" (Ansible's own module
    # code through the bridge: its FQCN and the ansible-core that built it)
    via: str = "native"
    fqcn: str = ""
    ansible_core: str = ""
    delegated_to: str | None = None  # delegate_to/local_action: the host the task ran on

    @property
    def changed(self) -> bool:
        """As Ansible's ``changed``: also true for a failed task that changed something."""
        if self.status == "changed" or (self.status == "failed" and self.failed_changed):
            return True
        return bool(self.items and any(i.changed for i in self.items))

    @property
    def failed(self) -> bool:
        return self.status == "failed"

    def to_report(self) -> dict[str, Any]:
        """The run report's per-task entry (secrets and no_log content already removed)."""
        entry: dict[str, Any] = {
            "play": self.play,
            "task": self.task,
            "module": self.module,
            "status": self.status,
            "changed": self.changed,
            "msg": NO_LOG_MSG if self.no_log and self.msg else self.msg,
            "diff": None if self.no_log else self.diff,
            "duration_s": round(self.duration_s, 6),
            "location": self.location,
            "via": self.via,
        }
        if self.via == "ansible":
            entry["fqcn"] = self.fqcn
            entry["ansible_core"] = self.ansible_core
        if self.role:
            entry["role"] = self.role
        if self.delegated_to is not None:
            entry["delegated_to"] = self.delegated_to
        if self.ignored:
            entry["ignored"] = True
        if self.rescued:
            entry["rescued"] = True
        if self.warnings and not self.no_log:  # a warning may quote the arguments
            entry["warnings"] = list(self.warnings)
        if self.earlier_run is not None:
            entry["earlier_run"] = dict(self.earlier_run)
        if self.items is not None:
            entry["items"] = [
                {"item": REDACTED if self.no_log else i.item_label, "status": i.status,
                 "changed": i.changed, "msg": NO_LOG_MSG if self.no_log and i.msg else i.msg}
                for i in self.items
            ]
        return entry


@dataclass
class HostReport:
    """Everything one host did in a run."""

    name: str
    results: list[TaskResult] = field(default_factory=list)
    unreachable: bool = False
    failed: bool = False
    agent_requests: int = 0  # round trips to this host's agents
    ansible_payload_bytes: int = 0  # Ansible's module payloads sent to its agents (kept there by hash)
    # handlers notified and not run (kept on the host for the next apply of their play)
    pending_handlers: list[dict[str, Any]] = field(default_factory=list)
    in_flight: list[str] = field(default_factory=list)  # tasks still running when the run was aborted

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(("ok", "changed", "failed", "skipped", "unreachable", "ignored", "rescued"), 0)
        for result in self.results:
            if result.status == "unreachable" and not result.ignored:
                counts["unreachable"] += 1
            elif result.status == "failed" and not (result.ignored or result.rescued):
                counts["failed"] += 1
            elif result.status == "skipped":
                counts["skipped"] += 1
            elif result.rescued:
                counts["rescued"] += 1
            else:
                counts["ok"] += 1
                counts["changed"] += int(result.changed)
                counts["ignored"] += int(result.ignored)
        return counts

    @property
    def status(self) -> str:
        if self.unreachable:
            return "unreachable"
        if self.failed:
            return "failed"
        return "changed" if any(r.changed for r in self.results) else "ok"


@dataclass
class RunReport:
    """The whole run; ``to_dict`` is the documented ``--json`` format."""

    mode: str  # "apply" | "check"
    hosts: dict[str, HostReport] = field(default_factory=dict)
    started: float = field(default_factory=time.time)
    duration_s: float = 0.0
    warnings: list[str] = field(default_factory=list)  # about the run, not one task (key files)
    interrupted: str | None = None  # the signal that stopped the run (SIGINT, SIGTERM)

    def host(self, name: str) -> HostReport:
        report = self.hosts.get(name)
        if report is None:
            report = self.hosts[name] = HostReport(name)
        return report

    def summary(self) -> dict[str, int]:
        total = dict.fromkeys(("ok", "changed", "failed", "skipped", "unreachable"), 0)
        for host in self.hosts.values():
            for key, value in host.counts().items():
                if key in total:
                    total[key] += value
        return total

    @property
    def any_failed(self) -> bool:
        return any(h.failed or h.unreachable for h in self.hosts.values())

    @property
    def any_changed(self) -> bool:
        return any(r.changed for h in self.hosts.values() for r in h.results)

    def exit_code(self) -> int:
        """apply: 0 ok, 1 failures. check: 0 nothing to change, 2 changes pending, 1 errors.
        Interrupted: 128 + the signal (130 SIGINT, 143 SIGTERM), as a shell reports it."""
        if self.interrupted:
            return 128 + int(getattr(signal, self.interrupted, signal.SIGINT))
        if self.any_failed:
            return 1
        if self.mode == "check" and self.any_changed:
            return 2
        return 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "started": self.started,
            "duration_s": round(self.duration_s, 3),
            "summary": self.summary(),
            "agent_requests": sum(h.agent_requests for h in self.hosts.values()),
            "warnings": list(self.warnings),
            "interrupted": self.interrupted is not None,
            **({"signal": self.interrupted} if self.interrupted else {}),
            "hosts": {
                name: {
                    "status": host.status,
                    "counts": host.counts(),
                    "agent_requests": host.agent_requests,
                    **({"ansible_payload_bytes": host.ansible_payload_bytes}
                       if any(r.via == "ansible" for r in host.results) else {}),
                    "results": [r.to_report() for r in host.results],
                    "pending_handlers": [dict(p) for p in host.pending_handlers],
                    **({"in_flight": list(host.in_flight)} if host.in_flight else {}),
                }
                for name, host in self.hosts.items()
            },
        }


def when(seconds: Any) -> str:
    """A time stamp for people (the controller's local time), as reports show the ``since`` of
    pending handlers and run locks; "an unknown time" for anything that is not one."""
    if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or not seconds > 0:
        return "an unknown time"
    try:  # a host's record may say anything
        return time.strftime("%Y-%m-%d %H:%M:%S %z", time.localtime(seconds))
    except (OverflowError, OSError, ValueError):
        return "an unknown time"
