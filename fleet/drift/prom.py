"""``fleet drift --prom PATH``: the drift section for node-exporter's textfile collector.

Every metric is a gauge describing the last run. ``fleet_drift_tasks{host,role}`` has one
series for every host and role with at least one task result in the run, drifted or not:
clean pairs are written as 0, so a series drops to 0 when its drift is fixed instead of
vanishing (and ``fleet_drift_tasks > 0`` stays a complete alert). Hosts without task results
(unreachable, or failed before their first task) have no series there; they are counted by
``fleet_unreachable_hosts`` / ``fleet_drift_failed_hosts``. A task outside a role has
``role=""``. The host counts come from the section's summary.

``prometheus_client`` does the format's escaping (quotes, backslashes, newlines in label
values); the file is written atomically (temp file beside PATH, then rename) with the mode
asked for: node-exporter reads it as another user only with ``--report-mode prom=0644``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, Gauge, generate_latest

from fleet.report import write_atomic

# name, help, the summary key it reports
_RUN_GAUGES: tuple[tuple[str, str, str], ...] = (
    ("fleet_drift_hosts", "Hosts with at least one drifted task in the last fleet drift run.",
     "drifted"),
    ("fleet_drift_clean_hosts", "Hosts without drift in the last fleet drift run.", "clean"),
    ("fleet_unreachable_hosts", "Hosts fleet drift could not reach in its last run.",
     "unreachable"),
    ("fleet_drift_failed_hosts", "Hosts with a failed task in the last fleet drift run.",
     "failed"),
    ("fleet_drift_new_tasks", "Drifted tasks first seen in the last fleet drift run.", "new"),
    ("fleet_drift_resolved_tasks",
     "Tasks drifted in the previous fleet drift run and clean in the last one.", "resolved"),
)


def drift_tasks_by_host_role(drift: dict[str, Any]) -> dict[tuple[str, str], int]:
    """Drifted tasks per (host, role) for every pair with a task result; role None is ""."""
    counts: dict[tuple[str, str], int] = {}
    for host, report in (drift.get("hosts") or {}).items():
        for task in report.get("tasks") or []:
            key = (str(host), str(task.get("role") or ""))
            counts[key] = counts.get(key, 0) + (task.get("status") == "drift")
    return counts


def build_registry(drift: dict[str, Any]) -> CollectorRegistry:
    """A fresh registry holding the metrics of one drift section (see the module docstring)."""
    registry = CollectorRegistry(auto_describe=True)
    summary = drift.get("summary") or {}
    tasks = Gauge("fleet_drift_tasks", "Drifted tasks per host and role in the last fleet drift "
                  "run (0 for a host and role whose tasks were all clean).",
                  ["host", "role"], registry=registry)
    for (host, role), count in sorted(drift_tasks_by_host_role(drift).items()):
        tasks.labels(host=host, role=role).set(count)
    for name, text, key in _RUN_GAUGES:
        Gauge(name, text, registry=registry).set(float(summary.get(key) or 0))
    Gauge("fleet_drift_last_run_timestamp_seconds",
          "Start time of the last fleet drift run, in seconds since the epoch.",
          registry=registry).set(float(drift.get("started") or 0))
    Gauge("fleet_drift_run_duration_seconds", "How long the last fleet drift run took.",
          registry=registry).set(float(drift.get("duration_s") or 0))
    Gauge("fleet_drift_exit_code",
          "Exit code of the last fleet drift run: 0 no drift, 2 drift, 1 errors.",
          registry=registry).set(float(drift.get("exit_code") or 0))
    return registry


def write_prom(drift: dict[str, Any], path: str, mode: int | None = None) -> None:
    """Write the drift section's metrics to ``path`` in the textfile-collector format,
    atomically, with permissions ``mode`` (see ``write_atomic``).

    ``path`` should end in ``.prom`` (the collector reads nothing else); its folder is created
    when missing.
    """
    write_atomic(Path(path), generate_latest(build_registry(drift)), mode)
