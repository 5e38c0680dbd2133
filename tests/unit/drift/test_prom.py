"""The ``--prom`` writer: textfile-collector metrics, read back with prometheus_client's parser."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from fleet.drift.prom import write_prom
from tests.unit.drift.sample import STARTED, clean_drift, sample_drift

METRICS = ("fleet_drift_tasks", "fleet_drift_hosts", "fleet_unreachable_hosts",
           "fleet_drift_failed_hosts", "fleet_drift_clean_hosts", "fleet_drift_new_tasks",
           "fleet_drift_resolved_tasks", "fleet_drift_last_run_timestamp_seconds",
           "fleet_drift_run_duration_seconds", "fleet_drift_exit_code")


def metrics(tmp_path: Path, drift: dict[str, Any]) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    """Write ``drift`` and parse it back: metric name -> sorted label items -> value."""
    path = tmp_path / "textfile" / "fleet_drift.prom"
    write_prom(drift, str(path))
    parsed: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(path.read_text(encoding="utf-8")):
        assert family.type == "gauge", family.name
        assert family.documentation, family.name
        for sample in family.samples:
            parsed.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return parsed


def tasks(host: str, role: str) -> tuple[tuple[str, str], ...]:
    return (("host", host), ("role", role))


def test_values(tmp_path: Path) -> None:
    parsed = metrics(tmp_path, sample_drift())
    assert sorted(parsed) == sorted(METRICS)
    assert parsed["fleet_drift_tasks"] == {
        tasks("web1", "base"): 2, tasks("web1", "admins"): 1, tasks("web1", ""): 1,
        tasks('we"b\\2\n', 'ro"le\\x\n'): 1, tasks('we"b\\2\n', "security"): 0,
        tasks("app1", "base"): 0, tasks("app1", ""): 0,
        tasks("cache1", "base"): 0,  # its failed task is an error, not drift
    }  # db1, unreachable without task results: no series
    plain = {name: values[()] for name, values in parsed.items() if name != "fleet_drift_tasks"}
    assert plain == {"fleet_drift_hosts": 2, "fleet_drift_clean_hosts": 1,
                     "fleet_unreachable_hosts": 1, "fleet_drift_failed_hosts": 1,
                     "fleet_drift_new_tasks": 3, "fleet_drift_resolved_tasks": 1,
                     "fleet_drift_last_run_timestamp_seconds": STARTED,
                     "fleet_drift_run_duration_seconds": 12.345, "fleet_drift_exit_code": 1}


def test_clean_run(tmp_path: Path) -> None:
    parsed = metrics(tmp_path, clean_drift())
    assert parsed["fleet_drift_tasks"] == {tasks(host, role): 0 for host in ("app1", "app2")
                                           for role in ("base", "")}
    assert parsed["fleet_drift_hosts"][()] == 0 and parsed["fleet_drift_exit_code"][()] == 0
    assert parsed["fleet_drift_clean_hosts"][()] == 2


def test_label_values_round_trip(tmp_path: Path) -> None:
    drift = clean_drift()
    odd = 'a "quoted" \\ back\\slash\nnew line, ünïcode'
    drift["hosts"] = {odd: {"status": "drifted", "error": "", "tasks": [
        {"task": "t", "role": odd + "\\n", "module": "copy", "location": "x.yml:1",
         "status": "drift", "msg": "", "duration_s": 0,
         "drift": {"fields": [], "before": {}, "after": {}, "unified": {}, "state": "new",
                   "first_seen": STARTED}}]}}
    parsed = metrics(tmp_path, drift)
    assert parsed["fleet_drift_tasks"] == {tasks(odd, odd + "\\n"): 1}
    raw = (tmp_path / "textfile" / "fleet_drift.prom").read_text(encoding="utf-8")
    assert '\\"quoted\\" \\\\ back\\\\slash\\nnew line' in raw  # escaped by the library


def test_written_atomically(tmp_path: Path) -> None:
    path = tmp_path / "textfile" / "fleet_drift.prom"
    metrics(tmp_path, sample_drift())
    first = path.stat().st_ino
    metrics(tmp_path, clean_drift())
    assert path.stat().st_ino != first  # a new file renamed over the old one
    assert [p.name for p in path.parent.iterdir()] == ["fleet_drift.prom"]  # no temp files left
    assert "fleet_drift_exit_code 0.0" in path.read_text()
