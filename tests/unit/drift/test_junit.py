"""The ``--junit`` writer: JUnit XML that parses, counts right and fits the common schema."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import xmlschema

from fleet.drift.junit import write_junit
from tests.unit.drift.sample import SCRIPT, SECRET, clean_drift, sample_drift

SCHEMA = Path(__file__).with_name("junit.xsd")


@pytest.fixture(scope="module")
def schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(SCHEMA))


def written(tmp_path: Path, drift: dict | None = None) -> tuple[Path, ET.Element]:
    path = tmp_path / "reports" / "drift.xml"
    write_junit(sample_drift() if drift is None else drift, str(path))
    return path, ET.parse(path).getroot()


def cases(root: ET.Element, suite: str) -> dict[str, ET.Element]:
    found = root.find(f"testsuite[@name='{suite}']")
    assert found is not None, suite
    return {f"{case.get('classname')}/{case.get('name')}": case for case in found.iter("testcase")}


def test_counts_match_the_testcases(tmp_path: Path) -> None:
    _, root = written(tmp_path)
    assert root.tag == "testsuites" and root.get("name") == "fleet drift"
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for suite in root.findall("testsuite"):
        testcases = suite.findall("testcase")
        counted = {"tests": len(testcases),
                   "failures": sum(case.find("failure") is not None for case in testcases),
                   "errors": sum(case.find("error") is not None for case in testcases),
                   "skipped": sum(case.find("skipped") is not None for case in testcases)}
        assert {key: int(suite.get(key, "-1")) for key in counted} == counted, suite.get("name")
        assert float(suite.get("time", "-1")) == pytest.approx(
            sum(float(case.get("time", "0")) for case in testcases), abs=0.01)
        for key, value in counted.items():
            totals[key] += value
    assert {key: int(root.get(key, "-1")) for key in totals} == totals
    assert totals == {"tests": 13, "failures": 5, "errors": 2, "skipped": 1}
    assert root.get("time") == "12.345"
    assert root.get("timestamp") == "2025-11-28T11:16:00"
    assert [suite.get("name") for suite in root.findall("testsuite")] == [
        "web1", 'we"b\\2\n', "app1", "db1", "cache1"]


def test_testcases(tmp_path: Path) -> None:
    _, root = written(tmp_path)
    web1 = cases(root, "web1")
    assert list(web1) == ["web1.base/base : timezone", "web1.base/base : motd",
                          "web1.admins/admins : password", "web1/check banner",
                          "web1.base/base : packages", "web1.base/base : unattended upgrades"]
    timezone = web1["web1.base/base : timezone"]
    assert (timezone.get("time"), timezone.get("file"), timezone.get("line")) == (
        "0.012", "roles/base/tasks/main.yml", "12")
    failure = timezone.find("failure")
    assert failure is not None
    assert (failure.get("type"), failure.get("message")) == ("drift", "fields: timezone")
    assert 'before: "UTC"' in (failure.text or "") and 'after : "Europe/Berlin"' in (failure.text or "")
    assert "new drift, first seen 2025-11-28 11:16:00 UTC" in (failure.text or "")

    motd = web1["web1.base/base : motd"].find("failure")
    assert motd is not None and motd.get("message") == "fields: content, mode"
    body = motd.text or ""
    assert "persisting drift, first seen 2025-11-27 11:16:00 UTC" in body
    assert f"    {SCRIPT}\n" in body  # multi-line before value, indented
    assert "unified diff of content:\n--- before\n+++ after\n" in body and "+Grüße from fleet" in body
    password = web1["web1.admins/admins : password"].find("failure")
    assert password is not None and f'before: "{SECRET}"' in (password.text or "")

    assert web1["web1.base/base : packages"].find("*") is None  # passed: no child
    skipped = web1["web1.base/base : unattended upgrades"].find("skipped")
    assert skipped is not None and skipped.get("message") == "when: not in_container"

    db1 = cases(root, "db1")
    assert list(db1) == ["db1/connection"]
    error = db1["db1/connection"].find("error")
    assert error is not None and error.get("type") == "unreachable"
    assert error.get("message") == "db1: ssh connect to 10.0.0.9:22 failed: timed out"

    locale = cases(root, "cache1")["cache1.base/base : locale"].find("error")
    assert locale is not None and locale.get("type") == "failed"
    assert locale.get("message") == 'locale-gen: <missing> & "broken"\\x00'

    odd = cases(root, 'we"b\\2\n')
    assert 'we"b\\2\n.ro"le\\x\n/base : timezone' in odd


def test_fields_without_values(tmp_path: Path) -> None:
    """A drift known only by name lists the name; a side missing from before/after says so."""
    drift = sample_drift()
    tasks = drift["hosts"]["web1"]["tasks"]
    tasks[0]["drift"].update(fields=["(would run)"], before={}, after={}, unified={})
    tasks[1]["drift"]["before"].pop("mode")
    _, root = written(tmp_path, drift)
    web1 = cases(root, "web1")
    would_run = web1["web1.base/base : timezone"].find("failure")
    assert would_run is not None and would_run.get("message") == "fields: (would run)"
    assert (would_run.text or "").endswith("UTC\n\n(would run)\n")
    motd = web1["web1.base/base : motd"].find("failure")
    assert motd is not None and 'mode:\n  before: (absent)\n  after : "0640"\n' in (motd.text or "")


def test_failed_host_without_tasks_is_one_host_error(tmp_path: Path) -> None:
    drift = clean_drift()
    drift["hosts"]["app2"] = {"status": "failed", "error": "no python3 on app2", "tasks": []}
    _, root = written(tmp_path, drift)
    app2 = cases(root, "app2")
    assert list(app2) == ["app2/host"]
    error = app2["app2/host"].find("error")
    assert error is not None and (error.get("type"), error.get("message")) == ("failed", "no python3 on app2")


def test_escaping_and_forbidden_characters(tmp_path: Path) -> None:
    path, root = written(tmp_path)
    raw = path.read_bytes()
    assert raw.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    assert b"<script>" not in raw and b"&lt;script&gt;" in raw
    assert not any(byte < 0x20 and byte not in (0x09, 0x0A, 0x0D) for byte in raw)
    banner = cases(root, "web1")["web1/check banner"].find("failure")
    assert banner is not None and "-bell\\x07 escape\\x1b[0m form\\x0c" in (banner.text or "")
    assert "Grüße" in raw.decode("utf-8")
    # lone surrogates cannot be encoded at all: they must not break the file either
    drift = sample_drift()
    drift["hosts"]["web1"]["tasks"][0]["msg"] = "x\ud800y"
    drift["hosts"]["web1"]["tasks"][0]["status"] = "failed"
    _, again = written(tmp_path, drift)
    error = cases(again, "web1")["web1.base/base : timezone"].find("error")
    assert error is not None and error.get("message") == "x\\ud800y"


def test_valid_against_the_junit_schema(tmp_path: Path, schema: xmlschema.XMLSchema) -> None:
    for drift in (sample_drift(), clean_drift()):
        path, _ = written(tmp_path, drift)
        schema.validate(str(path))


@pytest.mark.parametrize("document", [
    '<testsuites><testsuite name="h" tests="1"><testcase classname="h"/></testsuite></testsuites>',
    '<testsuites><testsuite name="h" tests="-1"/></testsuites>',
    '<testsuites><testsuite name="h" tests="1"><failure message="x"/></testsuite></testsuites>',
    '<testsuites><testsuite name="h" tests="1"><testcase name="t"><failure/><error/></testcase>'
    '</testsuite></testsuites>',
    '<testsuites timestamp="2025-11-28 11:16"><testsuite name="h" tests="0"/></testsuites>',
    '<testsuites><testsuite name="h" tests="1"><testcase name="t" time="fast"/></testsuite></testsuites>',
], ids=["testcase-without-name", "negative-count", "failure-outside-testcase", "two-outcomes",
        "bad-timestamp", "bad-time"])
def test_schema_rejects_malformed_documents(schema: xmlschema.XMLSchema, document: str) -> None:
    assert schema.is_valid('<testsuites><testsuite name="h" tests="0"/></testsuites>')
    with pytest.raises(xmlschema.XMLSchemaValidationError):
        schema.validate(document)


def test_written_atomically(tmp_path: Path) -> None:
    path, _ = written(tmp_path)
    first = path.stat().st_ino
    path2, root = written(tmp_path, clean_drift())
    assert path2 == path and path.stat().st_ino != first  # replaced by a new file, not rewritten
    assert root.get("failures") == "0" and root.get("tests") == "4"
    assert sorted(p.name for p in path.parent.iterdir()) == ["drift.xml"]
    old = os.umask(0o022)
    try:
        written(tmp_path)
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o644  # the usual permissions, not a temp file's 0600
