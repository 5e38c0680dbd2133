"""The host side (fleet/agent/ansiblehost.py + ansibleserver.py) driven by an in-process agent:
Ansible's modules run in forked children of the fork server."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.unit.bridge.helpers import Driver


@pytest.fixture
def driver(core, resolver) -> Driver:
    return Driver(core, resolver)


def test_getent_runs_and_the_payload_is_sent_once(driver: Driver, agent) -> None:
    first = driver.local(agent, [driver.call("getent", {"database": "passwd", "key": "root"})])[0]
    assert first["status"] == "ok", first
    assert first["data"]["ansible_facts"]["getent_passwd"]["root"][1] == "0"
    assert driver.sent[0]["blobs"] and driver.sent[0]["sources"]
    again = driver.local(agent, [driver.call("getent", {"database": "group", "key": "root"})])[0]
    assert again["status"] == "ok" and "getent_group" in again["data"]["ansible_facts"]
    assert driver.sent[1]["blobs"] == {} and driver.sent[1]["sources"] == {}
    assert again["ansible"]["cpu"]["module"] > 0


def test_check_mode_without_support_is_skipped_with_ansibles_message(driver: Driver, agent) -> None:
    result = driver.local(agent, [driver.call("ansible.builtin.tempfile", {}, check=True)], check=True)[0]
    shaped = driver.shape(result, "ansible.builtin.tempfile")
    assert shaped.status == "skipped"
    assert shaped.result["msg"] == "remote module (ansible.builtin.tempfile) does not support check mode"


def test_output_that_is_not_json_fails_in_ansibles_shape(driver: Driver, agent) -> None:
    result = driver.local(agent, [driver.call("fleet_test_junk", {"mode": "text"})])[0]
    assert result["status"] == "failed"
    shaped = driver.shape(result, "fleet_test_junk")
    assert shaped.result["module_stdout"] == "this is not JSON\n" and shaped.result["rc"] == 0
    junk = driver.shape(driver.local(agent, [driver.call("fleet_test_junk", {"mode": "junk"})])[0], "fleet_test_junk")
    assert junk.status == "ok" and junk.result["said"] == "hello"
    assert junk.warnings == ["Module invocation had junk after the JSON data: a banner after"]


def test_a_crash_and_an_rc_fail(driver: Driver, agent) -> None:
    crash, rc = driver.local(agent, [driver.call("fleet_test_junk", {"mode": "crash"}, task=1),
                                     driver.call("fleet_test_junk", {"mode": "rc"}, task=2)])
    assert crash["status"] == "failed"
    shaped = driver.shape(crash, "fleet_test_junk").result
    assert "module crashed on purpose" in json.dumps(shaped) and shaped["failed"] is True
    assert rc["status"] == "failed" and driver.shape(rc, "fleet_test_junk").result["stdout_lines"] == ["one", "two"]


def test_the_deadline_kills_the_module(driver: Driver, agent) -> None:
    started = time.monotonic()
    result = driver.local(agent, [driver.call("fleet_test_junk", {"mode": "sleep"})], timeout=1.5)[0]
    assert time.monotonic() - started < 20
    assert result["status"] == "failed" and result["msg"].startswith("timed out after")
    after = driver.local(agent, [driver.call("fleet_test_junk", {"mode": "junk"})])[0]
    assert after["status"] == "ok"  # the fork server is still there


def test_environment_and_no_log_values(driver: Driver, agent) -> None:
    result = driver.local(agent, [driver.call("fleet_test_junk", {"mode": "ok", "secret": "hunter2-value"},
                                              env={"FLEET_TEST": "from the task"})])[0]
    assert result["status"] == "changed"
    assert result["data"]["env"] == {"FLEET_TEST": "from the task"}
    assert "hunter2-value" not in json.dumps(result)  # basic masks no_log values everywhere
    if "invocation" in result["data"]:  # 2.21 returns it only when asked to (verbosity)
        assert result["data"]["invocation"]["module_args"]["secret"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"


def test_output_is_bounded(driver: Driver, agent) -> None:
    """A result past what the controller accepts per task fails it, as for native modules."""
    result = driver.local(agent, [driver.call("fleet_test_junk", {"mode": "junk"})], max_output=4200)[0]
    assert result["status"] == "failed" and "more than the controller accepts" in result["msg"]


def test_ini_file_apply_reapply_and_check(driver: Driver, agent, tmp_path: Path, collections_installed) -> None:
    target = tmp_path / "settings.ini"
    args = {"path": str(target), "section": "main", "option": "level", "value": "3"}
    call = driver.call("ini_file", args, collections=("community.general",))
    assert driver.local(agent, [call])[0]["status"] == "changed"
    written = target.read_text()
    assert "[main]\nlevel = 3\n" in written
    assert driver.local(agent, [driver.call("ini_file", args, collections=("community.general",))])[0]["status"] == "ok"
    before = target.stat().st_mtime_ns
    check = driver.call("ini_file", dict(args, value="4"), check=True, collections=("community.general",))
    result = driver.local(agent, [check], check=True)[0]
    assert result["status"] == "changed"
    assert target.read_text() == written and target.stat().st_mtime_ns == before


def test_the_agents_payload_cache_is_bounded_and_checked() -> None:
    import base64
    import hashlib

    from fleet.agent.ansiblehost import Blobs

    blobs = Blobs(limit=25)
    items = {name: bytes([n]) * 10 for n, name in enumerate("abc")}
    shas = {name: hashlib.sha256(data).hexdigest() for name, data in items.items()}
    assert blobs.add({shas[n]: base64.b64encode(d).decode() for n, d in items.items()}) == []
    assert blobs.get(shas["c"]) == items["c"]  # over the bound: the oldest ('a') goes
    assert blobs.get(shas["a"]) is None and blobs.get(shas["b"]) == items["b"]
    assert blobs.add({"0" * 64: base64.b64encode(b"tampered").decode()}) == ["0" * 64]
