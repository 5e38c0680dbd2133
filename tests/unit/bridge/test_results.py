"""Module output shaped as Ansible shapes it."""

from __future__ import annotations

import json


def _host(stdout: str, rc: int = 0, stderr: str = "") -> dict:
    """An agent result whose output was not clean JSON (the agent then sends it raw)."""
    return {"status": "failed", "changed": False, "data": {}, "msg": "", "ansible": {"rc": rc, "stdout": stdout,
                                                                                    "stderr": stderr}}


def test_clean_json_keeps_the_module_keys_and_gets_ansibles_defaults(core) -> None:
    from fleet.bridge.results import shape

    data = {"changed": True, "diff": {"before": "a", "after": "b"}, "warnings": ["w"], "path": "/x",
            "invocation": {"module_args": {"path": "/x"}}}
    shaped = shape(core, {"status": "changed", "changed": True, "data": data, "msg": "", "ansible": {"rc": 0}}, "m")
    assert shaped.status == "changed"
    assert shaped.result["diff"] == {"before": "a", "after": "b"} and shaped.result["warnings"] == ["w"]
    assert shaped.result["failed"] is False and shaped.result["invocation"] == {"module_args": {"path": "/x"}}
    registered = shaped.registered()
    assert "invocation" not in registered and not any(k.startswith("_ansible_") for k in registered)
    assert registered["path"] == "/x" and registered["changed"] is True


def test_junk_after_the_json_is_ansibles_warning(core) -> None:
    from fleet.bridge.results import shape

    shaped = shape(core, _host('banner\n{"changed": false, "x": 1}\ntrailing words\n'), "m")
    assert shaped.status == "ok" and shaped.result["x"] == 1
    assert shaped.warnings == ["Module invocation had junk after the JSON data: trailing words"]


def test_no_json_is_ansibles_module_failure(core) -> None:
    from fleet.bridge.results import shape

    shaped = shape(core, _host("not json at all\n", rc=1, stderr="boom\n"), "m")
    result = shaped.result
    assert shaped.status == "failed" and result["failed"] is True
    assert result["module_stdout"] == "not json at all\n" and result["module_stderr"] == "boom\n" and result["rc"] == 1
    assert ("Module result deserialization failed" if core.profiles else "MODULE FAILURE") in result["msg"]
    json.dumps(shaped.shown())  # plain data: printable and writable


def test_a_nonzero_rc_without_failed_fails(core) -> None:
    from fleet.bridge.results import shape

    shaped = shape(core, {"status": "failed", "changed": False, "data": {"rc": 2, "stdout": "a\nb"}, "msg": "",
                          "ansible": {"rc": 0}}, "m")
    assert shaped.status == "failed" and shaped.result["stdout_lines"] == ["a", "b"]


def test_internal_keys_from_a_module_are_removed_with_a_warning(core) -> None:
    from fleet.bridge.results import shape

    shaped = shape(core, {"status": "ok", "changed": False, "data": {"_ansible_evil": 1, "ok": 1}, "msg": "",
                          "ansible": {"rc": 0}}, "m")
    assert "_ansible_evil" not in shaped.result and shaped.result["ok"] == 1
    if core.release < (2, 21):  # 2.21's UnifiedTaskResult drops them itself (ansible-core warns)
        assert shaped.warnings == ["Removed unexpected internal key in module return: _ansible_evil = 1"]


def test_no_log_shows_ansibles_censored_result(core) -> None:
    from fleet.bridge.results import CENSORED, shape

    data = {"changed": True, "secret": "s3cret", "invocation": {"module_args": {"password": "s3cret"}},
            "warnings": ["careful"]}
    shaped = shape(core, {"status": "changed", "changed": True, "data": data, "msg": "", "ansible": {"rc": 0}},
                   "m", no_log=True)
    shown = shaped.shown()
    assert shown == {"changed": True, "warnings": ["careful"], "censored": CENSORED}
    assert "s3cret" not in json.dumps(shown)
    assert shaped.registered()["secret"] == "s3cret"  # register keeps the real values, as Ansible
