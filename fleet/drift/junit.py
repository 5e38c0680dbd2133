"""``fleet drift --junit PATH``: the drift section as JUnit XML for CI test reporters.

One ``<testsuite>`` per host, one ``<testcase>`` per host and task (classname ``HOST.ROLE``,
or ``HOST`` for a task outside a role). A drifted task is a ``<failure type="drift">`` whose
text lists before/after per field and the unified diffs; a failed or unreachable task is an
``<error>``; a skipped task is ``<skipped/>``. An unreachable or failed host without task
results gets one testcase, ``connection`` or ``host``, with an ``<error>`` saying why.

Only the drift dict is read (values already redacted by the producer), so a stored report can
be rendered again. Characters XML 1.0 forbids are written as ``\\xNN`` so the file always parses.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from typing import Any

from fleet.report import write_atomic

# Everything outside XML 1.0's Char production: C0 controls but tab/LF/CR, surrogates, U+FFFE/F.
_XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_safe(text: str) -> str:
    """``text`` with every character XML 1.0 cannot hold replaced by a visible ``\\xNN``/``\\uNNNN``."""
    def visible(match: re.Match[str]) -> str:
        code = ord(match.group())
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
    return _XML_FORBIDDEN.sub(visible, text)


def format_value(value: Any) -> str:
    """A before/after value for people: JSON, except that multi-line strings stay as text."""
    if isinstance(value, str) and "\n" in value:
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def utc_time(epoch: float | None) -> str:
    """``2026-11-28 11:16:00 UTC`` for epoch seconds, ``?`` when unknown."""
    if epoch is None:
        return "?"
    return datetime.fromtimestamp(float(epoch), UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _seconds(value: Any) -> str:
    return f"{float(value or 0):.3f}"


def _drift_text(task: dict[str, Any]) -> str:
    """The failure body: where, since when, each field's before and after, then the diffs."""
    drift = task.get("drift") or {}
    lines = [f"{task.get('task', '')}  ({task.get('location', '')})",
             f"module {task.get('module', '')}; {drift.get('state', 'new')} drift, "
             f"first seen {utc_time(drift.get('first_seen'))}", ""]
    before, after = drift.get("before") or {}, drift.get("after") or {}
    for field in drift.get("fields") or []:
        if field not in before and field not in after:  # e.g. "(would run)": a name only
            lines.append(str(field))
            continue
        lines.append(f"{field}:")
        for label, side in (("before", before), ("after ", after)):
            text = format_value(side[field]) if field in side else "(absent)"
            if "\n" in text:
                lines.append(f"  {label}: |")
                lines.extend("    " + line for line in text.rstrip("\n").split("\n"))
            else:
                lines.append(f"  {label}: {text}")
    for field, diff in (drift.get("unified") or {}).items():
        lines += ["", f"unified diff of {field}:", str(diff).rstrip("\n")]
    return "\n".join(lines) + "\n"


def _testcase(suite: ET.Element, host: str, task: dict[str, Any]) -> tuple[str, float]:
    """Add one task's testcase to ``suite``; return its outcome and duration."""
    role = task.get("role") or ""
    seconds = float(task.get("duration_s") or 0)
    case = ET.SubElement(suite, "testcase", {
        "classname": xml_safe(f"{host}.{role}" if role else host),
        "name": xml_safe(str(task.get("task", ""))), "time": _seconds(seconds)})
    location = str(task.get("location") or "")
    file, _, line = location.rpartition(":")
    if file and line.isdigit():
        case.set("file", xml_safe(file))
        case.set("line", line)
    status = task.get("status", "clean")
    if status == "drift":
        fields = (task.get("drift") or {}).get("fields") or []
        failure = ET.SubElement(case, "failure", {
            "type": "drift", "message": xml_safe("fields: " + ", ".join(map(str, fields)))})
        failure.text = xml_safe(_drift_text(task))
        return "failure", seconds
    if status in ("failed", "unreachable"):
        error = ET.SubElement(case, "error", {
            "type": status, "message": xml_safe(str(task.get("msg") or status))})
        error.text = xml_safe(str(task.get("msg") or ""))
        return "error", seconds
    if status == "skipped":
        ET.SubElement(case, "skipped", {"message": xml_safe(str(task.get("msg") or "skipped"))})
        return "skipped", seconds
    return "passed", seconds


def build_junit(drift: dict[str, Any]) -> ET.Element:
    """The ``<testsuites>`` element for a drift section (see the module docstring)."""
    timestamp = datetime.fromtimestamp(float(drift.get("started") or 0), UTC)
    stamp = timestamp.strftime("%Y-%m-%dT%H:%M:%S")  # UTC; the JUnit schema's pattern has no zone
    root = ET.Element("testsuites", {"name": "fleet drift"})
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for index, (host, report) in enumerate((drift.get("hosts") or {}).items()):
        suite = ET.SubElement(root, "testsuite", {
            "name": xml_safe(host), "id": str(index), "hostname": xml_safe(host),
            "timestamp": stamp})
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        seconds = 0.0
        tasks = list(report.get("tasks") or [])
        if not tasks and report.get("status") in ("unreachable", "failed"):
            unreachable = report["status"] == "unreachable"
            tasks = [{"task": "connection" if unreachable else "host", "role": None,
                      "status": report["status"], "msg": report.get("error") or report["status"]}]
        for task in tasks:
            outcome, took = _testcase(suite, host, task)
            counts["tests"] += 1
            seconds += took
            if outcome != "passed":
                counts[{"failure": "failures", "error": "errors"}.get(outcome, outcome)] += 1
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
        suite.set("time", _seconds(seconds))
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("time", _seconds(drift.get("duration_s")))
    root.set("timestamp", stamp)
    return root


def write_junit(drift: dict[str, Any], path: str, mode: int | None = None) -> None:
    """Write the drift section as JUnit XML to ``path``, atomically, with permissions ``mode``
    (see ``write_atomic``)."""
    root = build_junit(drift)
    ET.indent(root)
    write_atomic(path, ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n", mode)
