"""The modules' ``check(p)`` hook: rules between parameters, refused on the controller before
anything connects (literal values at preflight, rendered ones before the call is sent) and
again by the host, which trusts no controller."""

from __future__ import annotations

from pathlib import Path

import pytest

from fleet.agent import contract
from fleet.errors import InputError, Location
from fleet.registry import ModuleSpec
from tests.conftest import fleet

from .conftest import MODULES_DIR, load_module, run_unchecked

WHERE = Location("site.yml", 12)
# one broken rule per module that has a check(p), with the words of its refusal
BROKEN = [
    ("lineinfile", {"path": "/x", "backrefs": True, "line": "y"}, "regexp is required with backrefs=true"),
    ("blockinfile", {"path": "/x", "insertafter": "a", "insertbefore": "b"}, "mutually exclusive"),
    ("sudoers", {"name": "x", "user": "a", "group": "b", "commands": "ALL"}, "mutually exclusive: user|group"),
    ("systemd", {"name": "web*", "state": "started"}, "glob patterns"),
    ("hostname", {"name": "two words"}, "invalid host name"),
    ("cron", {"name": "x", "job": "y", "special_time": "daily", "minute": "5"}, "special time"),
    ("command", {"cmd": "echo 'unclosed"}, "cannot split the command line"),
    ("user", {"name": "x", "password": "x:y"}, "must not contain"),
    ("group", {"name": "a:b"}, "invalid group name"),
    ("group", {"name": "foo", "non_unique": True}, "non_unique is True but all of the following are missing: gid"),
    ("hosts", {"hostnames": ["db"]}, "needs ip and at least one hostname"),
    ("pam_limits", {"domain": "*", "limit_type": "soft", "limit_item": "nofile", "value": "1",
                    "use_max": True, "use_min": True}, "Cannot use use_min and use_max"),
    ("mount", {"path": "/mnt/x", "state": "mounted"}, "missing: src, fstype"),
    ("apt", {}, "one of the following is required"),
    ("script", {"cmd": "s.sh", "chdir": "tmp"}, "must be an absolute path"),
]


def _spec(name: str) -> ModuleSpec:
    path = MODULES_DIR / f"{name}.py"
    return ModuleSpec(name, path, path.read_text("utf-8"))


def test_every_module_with_rules_between_parameters_is_covered() -> None:
    with_check = {p.stem for p in MODULES_DIR.glob("*.py") if contract.hook(load_module(p.stem), "check")}
    assert with_check == {name for name, _args, _msg in BROKEN}


@pytest.mark.parametrize(("name", "args", "message"), BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_rule_is_refused_before_connecting_and_on_the_host(name: str, args: dict, message: str) -> None:
    with pytest.raises(InputError) as literal:
        _spec(name).check_static(args, lambda v: False, "task 'x'", WHERE)
    assert str(literal.value.location) == "site.yml:12"
    assert f"task 'x': module {name}: " in str(literal.value) and message in str(literal.value)
    with pytest.raises(InputError, match=message):  # rendered from templates: refused before sending
        _spec(name).validate(args, "task 'x'", WHERE)
    result = run_unchecked(name, args, check=True)  # a controller that did not check
    assert result["status"] == "failed" and message in result["msg"], result


def test_rules_wait_for_templates_to_be_rendered() -> None:
    """A value still a template may satisfy the rule once rendered: preflight leaves it."""
    args = {"path": "/x", "backrefs": True, "line": "y", "regexp": "{{ pattern }}"}
    _spec("lineinfile").check_static(args, lambda v: "{{" in str(v), "t", WHERE)


def test_nothing_connects_when_a_task_breaks_a_rule(tmp_path: Path) -> None:
    marker = tmp_path / "applied"
    (tmp_path / "inv.yml").write_text("all:\n  hosts:\n    h1: {ansible_connection: local}\n")
    (tmp_path / "site.yml").write_text(
        "- hosts: all\n  gather_facts: false\n  tasks:\n"
        f"    - file: path={marker} state=touch\n"
        f"    - lineinfile: path={tmp_path}/f backrefs=true line=y\n")
    proc = fleet("apply", "--persist", "0", "-i", str(tmp_path / "inv.yml"), str(tmp_path / "site.yml"),
                 cwd=tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    errors = [line for line in (proc.stdout + proc.stderr).splitlines() if "regexp is required" in line]
    assert len(errors) == 1 and "site.yml:5" in errors[0], proc.stdout + proc.stderr
    assert not marker.exists(), "a task ran although the playbook was invalid"
