"""What a state directory keeps of a run: without ``--diff``, no before/after values.

A drifted file's before/after is its content on the host, which may be a 0600 secret there.
The stored copy of a run keeps, for each drifted task, which fields drift and a digest of the
values (``hmac-sha256`` under a random key kept in the state directory, so a digest copied out
of it cannot be brute-forced back to a short secret), never the values or unified diffs; the
run report's per-task diffs keep their field names only. ``--diff`` keeps everything. The
reports written with ``--json/--junit/--prom/--html`` are complete either way.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
from typing import Any

# In a stored drift section: True when its values were left out, False when --diff kept them.
# Run reports stored by earlier fleets have neither, and held the values.
VALUES_OMITTED = "values_omitted"
DIGEST_PREFIX = "hmac-sha256:"


def drift_digest(key: bytes, item: dict[str, Any]) -> str:
    """The digest naming a drift's fields and values (its unified diffs follow from them)."""
    canonical = json.dumps({name: item.get(name) for name in ("fields", "before", "after")},
                           sort_keys=True, ensure_ascii=False, default=str, separators=(",", ":"))
    return DIGEST_PREFIX + hmac.new(key, canonical.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()


def _fields_only(diff: Any) -> Any:
    """A run report's task diff reduced to its field names (loop parts included)."""
    if not isinstance(diff, dict):
        return diff
    out: dict[str, Any] = {"fields": list(diff.get("fields") or [])}
    if diff.get("parts"):
        out["parts"] = [_fields_only(part) for part in diff["parts"]]
    return out


def without_values(report: dict[str, Any]) -> dict[str, Any]:
    """A copy of a run report (``--json`` document with its ``drift`` section) that keeps no
    before/after values and no unified diffs (see the module docstring)."""
    out = copy.deepcopy(report)
    for host in (out.get("hosts") or {}).values():
        for result in host.get("results") or []:
            if result.get("diff"):
                result["diff"] = _fields_only(result["diff"])
    drift = out.get("drift") or {}
    for host in (drift.get("hosts") or {}).values():
        for task in host.get("tasks") or []:
            item = task.get("drift")
            if item:
                item.update(before={}, after={}, unified={})
    drift[VALUES_OMITTED] = True
    return out


def for_state(report: dict[str, Any], keep_values: bool) -> dict[str, Any]:
    """The copy of ``report`` a state directory stores: all of it with ``--diff``, else
    ``without_values``."""
    if keep_values:
        return dict(report, drift=dict(report["drift"], **{VALUES_OMITTED: False}))
    return without_values(report)


def holds_values(report: Any) -> bool:
    """Whether a stored run report was written by an earlier fleet that kept every value."""
    drift = report.get("drift") if isinstance(report, dict) else None
    return isinstance(drift, dict) and VALUES_OMITTED not in drift
