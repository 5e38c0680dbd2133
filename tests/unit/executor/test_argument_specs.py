"""A role's argument spec (meta/argument_specs.yml, or argument_specs in meta/main.yml) is
checked before its tasks by the task Ansible adds, with Ansible's name, result and message
(tests/fixtures/argument_specs, run by fleet and by ansible-playbook)."""

from __future__ import annotations

import pytest

from tests.conftest import REPO
from tests.unit.executor.twins import Twins, run_twins

FIXTURE = REPO / "tests" / "fixtures" / "argument_specs"


@pytest.fixture(scope="module")
def twins(tmp_path_factory: pytest.TempPathFactory) -> Twins:
    return run_twins(FIXTURE, tmp_path_factory.mktemp("argspec"))


def test_the_same_files_as_ansible(twins: Twins) -> None:
    assert twins.outputs("fleet") == twins.outputs("ansible")
    assert twins.outputs("fleet")["greeting.txt"] == "hello from checked\n"  # ansible_role_name too
    assert twins.outputs("fleet")["level.txt"].strip() == "2"


def test_bad_arguments_fail_with_ansibles_message(twins: Twins) -> None:
    text = twins.outputs("fleet")["failed.txt"]
    assert text.startswith("Validation of arguments failed:\n")
    assert "value of colour must be one of: red, green, got: mauve" in text


def test_the_validation_task_is_named_and_counted_as_in_ansible(twins: Twins) -> None:
    results = twins.report.to_dict()["hosts"]["h1"]["results"]
    checks = [r for r in results if r["task"].startswith("checked : Validating arguments")]
    assert [r["task"] for r in checks] == [
        "checked : Validating arguments against arg spec 'main' - The checked role's entry point."] * 2
    assert [r["status"] for r in checks] == ["ok", "failed"]
    assert checks[0]["msg"] == "The arg spec validation passed"
    assert any(r["task"] == "main_meta : Validating arguments against arg spec 'other'" and r["status"] == "ok"
               for r in results)
    assert "Validating arguments against arg spec 'main' - The checked role's entry point." in twins.ansible.stdout


def test_without_ansible_core_nothing_is_checked_and_the_task_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys
    from types import SimpleNamespace

    from fleet.executor.argspec import validate_argument_spec

    monkeypatch.setitem(sys.modules, "ansible.module_utils.common.arg_spec", None)  # import fails
    ctx = SimpleNamespace(args={"argument_spec": {"x": {"type": "int"}}, "provided_arguments": {"x": "many"}},
                          variables={}, where="task 'r : check'", location=None)
    result = validate_argument_spec(ctx)
    assert result["status"] == "ok" and result["msg"] == "not validated: ansible-core is not installed"
    assert "pip install 'fleet[ansible]'" in result["warnings"][0]
