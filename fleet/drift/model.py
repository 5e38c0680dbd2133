"""The drift section of a ``fleet drift`` report, built from a check-mode :class:`RunReport`.

A task drifts on a host when check mode finds its observed state differs from the desired
one (the task "would change"). Every task a host ran is listed with its status (``clean``,
``drift``, ``failed``, ``unreachable``, ``skipped``) so reports can show what was checked;
hosts are ``drifted``, ``clean``, ``failed`` (an observation failed) or ``unreachable``.
Failed and unreachable hosts never count as clean.

Classification against what earlier runs knew (:mod:`fleet.drift.history`): drift is ``new``
(not known before) or ``persisting`` (with the ``first_seen`` of the first run that saw it);
known drift gone from a host checked now is ``resolved``. With a state directory each drift
carries a ``digest`` of its fields and before/after values (a keyed hash: the state keeps no
values without ``--diff``); a task that drifts differently from the drift known for it (another
digest) is ``new`` again, with the earlier drift's start as ``earlier_first_seen``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from fleet.result import REDACTED, HostReport, RunReport, TaskResult

VERSION = 1
EXIT_CLEAN, EXIT_ERROR, EXIT_DRIFT = 0, 1, 2
FAIL_ON = ("any", "new")

# known[host][key] = {"task", "role", "module", "location", "fields", "first_seen", "digest"}
Known = dict[str, dict[str, dict[str, Any]]]
# A drift item ({fields, before, after, ...}) -> a digest naming its values (see history.py)
Digest = Callable[[dict[str, Any]], str]


def run_id(started: float) -> str:
    """A sortable id for a run: its UTC start time to the microsecond."""
    micro = int(round(started % 1, 6) * 1_000_000) % 1_000_000
    return time.strftime("%Y%m%dT%H%M%S", time.gmtime(started)) + f".{micro:06d}Z"


def task_key(result: TaskResult, seen: dict[str, int]) -> str:
    """What identifies a task across runs: its name, role and module (not its line, which moves
    when the playbook is edited); repeated names on a host get ``#2``, ``#3``..."""
    base = f"{result.role or ''}\x1f{result.task}\x1f{result.module}"
    seen[base] = seen.get(base, 0) + 1
    return base if seen[base] == 1 else f"{base}#{seen[base]}"


def _flatten(diff: dict[str, Any] | None, prefix: str = "") -> dict[str, Any]:
    """A module diff (or a loop's ``parts``) as one ``{fields, before, after, unified}``."""
    out: dict[str, Any] = {"fields": [], "before": {}, "after": {}, "unified": {}}
    if not diff:
        return out
    for part in diff.get("parts", ()):
        sub = _flatten(part, prefix)
        for name in ("before", "after", "unified"):
            out[name].update(sub[name])
        out["fields"].extend(f for f in sub["fields"] if f not in out["fields"])
    for name in diff.get("fields", ()):
        label = prefix + name
        if label not in out["fields"]:
            out["fields"].append(label)
        for side in ("before", "after", "unified"):
            if name in (diff.get(side) or {}):
                out[side][label] = diff[side][name]
    return out


def drift_of(result: TaskResult) -> dict[str, Any]:
    """Fields, before/after and unified diffs of a task that would change (items prefixed)."""
    if result.no_log:
        return {"fields": [REDACTED], "before": {}, "after": {}, "unified": {}}
    if result.items:
        merged: dict[str, Any] = {"fields": [], "before": {}, "after": {}, "unified": {}}
        for item in result.items:
            if item.status != "changed":
                continue
            sub = _flatten(item.diff, f"{item.item_label}: ")
            if not sub["fields"]:
                sub["fields"] = [f"{item.item_label}"]
            for name in ("before", "after", "unified"):
                merged[name].update(sub[name])
            merged["fields"].extend(sub["fields"])
        return merged
    flat = _flatten(result.diff)
    if not flat["fields"]:
        flat["fields"] = ["(would run)"] if result.msg else ["(would change)"]
    return flat


def task_status(result: TaskResult) -> str:
    if result.status == "unreachable" and not result.ignored:
        return "unreachable"
    if result.status == "failed" and not (result.ignored or result.rescued):
        return "failed"
    if result.status in ("skipped", "failed", "unreachable"):  # failures the playbook ignores
        return "skipped"
    return "drift" if result.changed else "clean"


def _classified(item: dict[str, Any], earlier: dict[str, Any] | None, now: float,
                digest: Digest | None) -> dict[str, Any]:
    """``item`` with its state: persisting when the same drift was known (same digest; an entry
    from before digests existed matches any), new otherwise."""
    fingerprint = digest(item) if digest else None
    same = earlier is not None and (fingerprint is None or earlier.get("digest") in (None, fingerprint))
    out = dict(item, state="persisting" if same else "new",
               first_seen=earlier["first_seen"] if same and earlier else now)
    if fingerprint is not None:
        out["digest"] = fingerprint
    if earlier is not None and not same:
        out["earlier_first_seen"] = earlier["first_seen"]
    return out


def _host_entry(host: HostReport, known: dict[str, dict[str, Any]], now: float,
                digest: Digest | None = None) -> dict[str, Any]:
    tasks: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for result in host.results:
        if result.handler:  # a handler runs because a task would change: a consequence, not drift
            continue
        status = task_status(result)
        entry: dict[str, Any] = {
            "key": task_key(result, seen), "task": result.task, "role": result.role,
            "module": result.module, "location": result.location, "status": status,
            "msg": "" if result.no_log else result.msg, "duration_s": round(result.duration_s, 6),
        }
        if status == "drift":
            entry["drift"] = _classified(drift_of(result), known.get(entry["key"]), now, digest)
        tasks.append(entry)
    errors = [t for t in tasks if t["status"] in ("failed", "unreachable")]
    if host.unreachable:
        status = "unreachable"
    elif host.failed or errors:
        status = "failed"
    else:
        status = "drifted" if any(t["status"] == "drift" for t in tasks) else "clean"
    error = next((f"{t['task']}: {t['msg']}" for t in errors), "")
    return {"status": status, "error": error, "tasks": tasks}


def build_drift(report: RunReport, known: Known, *, playbook: str, inventory: list[str],
                fail_on: str = "any", digest: Digest | None = None) -> dict[str, Any]:
    """The drift section for ``report`` (a check-mode run), classified against ``known``;
    ``digest`` (the state directory's) fingerprints each drift's values."""
    now = report.started
    hosts = {name: _host_entry(host, known.get(name, {}), now, digest)
             for name, host in sorted(report.hosts.items())}
    resolved = []
    for name, entry in hosts.items():
        if entry["status"] not in ("drifted", "clean"):
            continue  # not fully observed: known drift there is neither resolved nor gone
        drifting = {t["key"] for t in entry["tasks"] if t["status"] == "drift"}
        for key, item in sorted(known.get(name, {}).items()):
            if key not in drifting:
                resolved.append(dict(item, host=name, key=key))
    drift = {
        "version": VERSION,
        "run_id": run_id(report.started),
        "started": report.started,
        "duration_s": round(report.duration_s, 3),
        "playbook": playbook,
        "inventory": list(inventory),
        "fail_on": fail_on,
        "hosts": hosts,
        "resolved": resolved,
    }
    drift["summary"] = summarize(drift)
    drift["exit_code"] = exit_code(drift, fail_on)
    return drift


def drifted_tasks(drift: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """``(host, task entry)`` for every drifted task, in host order."""
    return [(name, task) for name, host in drift["hosts"].items() for task in host["tasks"]
            if task["status"] == "drift"]


def summarize(drift: dict[str, Any]) -> dict[str, int]:
    statuses = [host["status"] for host in drift["hosts"].values()]
    items = [task["drift"] for _, task in drifted_tasks(drift)]
    return {
        "hosts": len(statuses),
        **{status: statuses.count(status) for status in ("drifted", "clean", "unreachable", "failed")},
        "drifted_tasks": len(items),
        "new": sum(item["state"] == "new" for item in items),
        "persisting": sum(item["state"] == "persisting" for item in items),
        "resolved": len(drift["resolved"]),
    }


def exit_code(drift: dict[str, Any], fail_on: str = "any") -> int:
    """1 when any host failed or was unreachable (drift is still reported), else 2 when there
    is drift (``fail_on='new'``: new drift only), else 0."""
    summary = drift["summary"]
    if summary["unreachable"] or summary["failed"]:
        return EXIT_ERROR
    counted = summary["new"] if fail_on == "new" else summary["drifted_tasks"]
    return EXIT_DRIFT if counted else EXIT_CLEAN


def known_after(drift: dict[str, Any], known: Known) -> Known:
    """What the next run compares with: this run's drift for hosts it observed fully, the
    earlier knowledge for hosts it could not (unreachable, failed, not in this run)."""
    updated = {name: dict(items) for name, items in known.items()}
    for name, host in drift["hosts"].items():
        if host["status"] not in ("drifted", "clean"):
            continue
        updated[name] = {
            task["key"]: {"task": task["task"], "role": task["role"], "module": task["module"],
                          "location": task["location"], "fields": task["drift"]["fields"],
                          "first_seen": task["drift"]["first_seen"],
                          **({"digest": task["drift"]["digest"]} if "digest" in task["drift"] else {})}
            for task in host["tasks"] if task["status"] == "drift"
        }
        if not updated[name]:
            del updated[name]
    return updated
