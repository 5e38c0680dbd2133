"""The drift section built from check-mode results: statuses, fields, classification, exit codes."""

from __future__ import annotations

import functools
from typing import Any

import pytest

from fleet.drift.model import build_drift, exit_code, known_after, run_id
from fleet.drift.stored import drift_digest
from fleet.result import REDACTED, RunReport, TaskResult

T0 = 1_764_300_000.0


def result(host: str, task: str, status: str = "ok", **kwargs: Any) -> TaskResult:
    kwargs.setdefault("module", "copy")
    return TaskResult(host=host, play="p", task=task, status=status, location=f"site.yml:{len(task)}", **kwargs)


def report(*results: TaskResult, started: float = T0, unreachable: tuple[str, ...] = ()) -> RunReport:
    run = RunReport(mode="check", started=started, duration_s=1.5)
    for res in results:
        host = run.host(res.host)
        host.results.append(res)
        host.failed = host.failed or (res.status == "failed" and not res.ignored)
    for name in unreachable:
        host = run.host(name)
        host.unreachable = True
        host.results.append(result(name, "Gathering Facts", "unreachable", msg="ssh: connection refused"))
    return run


CONTENT_DIFF = {"fields": ["content"], "before": {"content": "old\n"}, "after": {"content": "new\n"},
                "unified": {"content": "--- before\n+++ after\n-old\n+new\n"}}


def build(run: RunReport, known: dict[str, Any] | None = None, fail_on: str = "any") -> dict[str, Any]:
    return build_drift(run, known or {}, playbook="site.yml", inventory=["inv"], fail_on=fail_on)


def test_statuses_fields_and_summary() -> None:
    run = report(
        result("web1", "motd", "changed", diff=CONTENT_DIFF, role="base"),
        result("web1", "ntp", "ok", role="base"),
        result("web1", "restart ntp", "changed", handler=True),
        result("web2", "motd", "ok", role="base"),
        result("web2", "optional", "skipped"),
        result("db1", "motd", "failed", msg="cannot read /etc/motd"),
        unreachable=("db2",),
    )
    drift = build(run)
    hosts = drift["hosts"]
    assert {name: h["status"] for name, h in hosts.items()} == {
        "db1": "failed", "db2": "unreachable", "web1": "drifted", "web2": "clean"}
    motd = hosts["web1"]["tasks"][0]
    assert motd["status"] == "drift" and motd["role"] == "base" and motd["module"] == "copy"
    assert motd["drift"]["fields"] == ["content"]
    assert motd["drift"]["before"] == {"content": "old\n"} and motd["drift"]["after"] == {"content": "new\n"}
    assert motd["drift"]["state"] == "new" and motd["drift"]["first_seen"] == T0
    assert [t["task"] for t in hosts["web1"]["tasks"]] == ["motd", "ntp"]  # handlers are consequences
    assert hosts["db1"]["error"] == "motd: cannot read /etc/motd"
    assert "connection refused" in hosts["db2"]["error"]
    assert drift["summary"] == {"hosts": 4, "drifted": 1, "clean": 1, "unreachable": 1, "failed": 1,
                                "drifted_tasks": 1, "new": 1, "persisting": 0, "resolved": 0}
    assert drift["exit_code"] == 1  # errors win, and the drift is still reported


def test_exit_codes() -> None:
    clean = build(report(result("a", "t")))
    drifted = build(report(result("a", "t", "changed", diff=CONTENT_DIFF)))
    assert (clean["exit_code"], drifted["exit_code"]) == (0, 2)
    known = known_after(drifted, {})
    again = build(report(result("a", "t", "changed", diff=CONTENT_DIFF), started=T0 + 86400), known, "new")
    assert again["hosts"]["a"]["tasks"][0]["drift"]["state"] == "persisting"
    assert again["exit_code"] == 0 and exit_code(again, "any") == 2


def test_new_persisting_resolved_across_runs() -> None:
    first = build(report(result("a", "motd", "changed", diff=CONTENT_DIFF),
                         result("b", "motd", "changed", diff=CONTENT_DIFF)))
    known = known_after(first, {})
    second = build(report(result("a", "motd", "changed", diff=CONTENT_DIFF), result("a", "user", "changed"),
                          result("b", "motd"), started=T0 + 100), known)
    a_tasks = {t["task"]: t["drift"] for t in second["hosts"]["a"]["tasks"]}
    assert a_tasks["motd"]["state"] == "persisting" and a_tasks["motd"]["first_seen"] == T0
    assert a_tasks["user"]["state"] == "new" and a_tasks["user"]["first_seen"] == T0 + 100
    assert [(r["host"], r["task"], r["first_seen"]) for r in second["resolved"]] == [("b", "motd", T0)]
    assert second["summary"]["resolved"] == 1 and second["summary"]["persisting"] == 1


def test_unreachable_host_keeps_its_known_drift() -> None:
    first = build(report(result("a", "motd", "changed", diff=CONTENT_DIFF)))
    known = known_after(first, {})
    dark = build(report(started=T0 + 100, unreachable=("a",)), known)
    assert dark["resolved"] == []  # not observed: neither resolved nor forgotten
    known = known_after(dark, known)
    back = build(report(result("a", "motd", "changed", diff=CONTENT_DIFF), started=T0 + 200), known)
    item = back["hosts"]["a"]["tasks"][0]["drift"]
    assert item["state"] == "persisting" and item["first_seen"] == T0


def test_task_identity_survives_moved_lines_and_repeated_names() -> None:
    one = result("a", "copy", "changed", diff=CONTENT_DIFF)
    two = result("a", "copy", "changed", diff=CONTENT_DIFF)
    first = build(report(one, two))
    keys = [t["key"] for t in first["hosts"]["a"]["tasks"]]
    assert len(set(keys)) == 2
    moved = result("a", "copy", "changed", diff=CONTENT_DIFF)
    moved.location = "site.yml:99"
    later = build(report(moved, started=T0 + 1), known_after(first, {}))
    assert later["hosts"]["a"]["tasks"][0]["drift"]["state"] == "persisting"
    assert len(later["resolved"]) == 1  # the second one of the same name is gone


def test_loops_no_log_and_ignored_failures() -> None:
    items = [TaskResult(host="a", play="p", task="pkgs", module="apt", status="changed", item_label="vim",
                        diff={"fields": ["state"], "before": {"state": "absent"}, "after": {"state": "present"}}),
             TaskResult(host="a", play="p", task="pkgs", module="apt", status="ok", item_label="curl")]
    loop = result("a", "pkgs", "changed", module="apt", items=items)
    secret = result("a", "token", "changed", no_log=True, msg="token=hunter2",
                    diff={"fields": ["content"], "before": {"content": "hunter2"}, "after": {"content": "x"}})
    ignored = result("a", "probe", "failed", ignored=True, msg="no such file")
    drift = build(report(loop, secret, ignored))
    tasks = {t["task"]: t for t in drift["hosts"]["a"]["tasks"]}
    assert tasks["pkgs"]["drift"]["fields"] == ["vim: state"]
    assert tasks["pkgs"]["drift"]["after"] == {"vim: state": "present"}
    assert tasks["token"]["drift"]["fields"] == [REDACTED] and "hunter2" not in repr(tasks["token"])
    assert tasks["probe"]["status"] == "skipped" and drift["hosts"]["a"]["status"] == "drifted"


@pytest.mark.parametrize("started", [T0, T0 + 0.5, T0 + 0.999999])
def test_run_ids_sort_by_time(started: float) -> None:
    assert run_id(started) < run_id(started + 0.001) < run_id(started + 1)


def test_a_digest_tells_the_same_drift_from_a_different_one() -> None:
    digest = functools.partial(drift_digest, b"k" * 32)
    first = build_drift(report(result("a", "motd", "changed", diff=CONTENT_DIFF)), {}, playbook="site.yml",
                        inventory=["inv"], digest=digest)
    known = known_after(first, {})
    assert known["a"][first["hosts"]["a"]["tasks"][0]["key"]]["digest"].startswith("hmac-sha256:")
    same = build_drift(report(result("a", "motd", "changed", diff=CONTENT_DIFF), started=T0 + 10), known,
                       playbook="site.yml", inventory=["inv"], digest=digest)
    assert same["hosts"]["a"]["tasks"][0]["drift"]["state"] == "persisting"
    other = dict(CONTENT_DIFF, before={"content": "edited again\n"})
    changed = build_drift(report(result("a", "motd", "changed", diff=other), started=T0 + 20), known,
                          playbook="site.yml", inventory=["inv"], digest=digest)
    item = changed["hosts"]["a"]["tasks"][0]["drift"]
    assert (item["state"], item["first_seen"], item["earlier_first_seen"]) == ("new", T0 + 20, T0)
    assert changed["resolved"] == [] and changed["summary"]["new"] == 1
    legacy = {"a": {key: {k: v for k, v in entry.items() if k != "digest"} for key, entry in known["a"].items()}}
    upgraded = build_drift(report(result("a", "motd", "changed", diff=other), started=T0 + 30), legacy,
                           playbook="site.yml", inventory=["inv"], digest=digest)
    assert upgraded["hosts"]["a"]["tasks"][0]["drift"]["state"] == "persisting"  # known before digests
