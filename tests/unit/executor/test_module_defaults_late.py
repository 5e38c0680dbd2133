"""module_defaults on the host's turn (fleet.executor.defaults): template values, and the
defaults of the module Ansible's package/service actions hand the task to."""

from __future__ import annotations

from typing import Any

import pytest

from fleet.errors import InputError, Location
from fleet.executor.defaults import (
    ModuleFailed,
    defaults_pending,
    handed_to,
    late_args,
    package_use,
)
from fleet.playbook import Task


def task(module: str, defaults: dict[str, Any], late: list[Any] | None = None) -> Task:
    return Task(module=module, args={}, location=Location("site.yml", 4), module_defaults=defaults,
                late_defaults=late or [])


def render(value: Any) -> Any:
    return {"name": "rendered"} if value == "{{ d }}" else value


def no_groups(group: str) -> frozenset[str]:
    return frozenset()


def test_service_takes_the_service_managers_defaults() -> None:
    t = task("service", {"sysvinit": {"name": "no"}, "systemd": {"name": "ansible_test", "enabled": True}})
    assert defaults_pending(t)
    assert late_args(t, {}, {}, render, None, no_groups, True) == {"name": "ansible_test", "enabled": True}
    facts = {"ansible_facts": {"service_mgr": "sysvinit"}}
    assert late_args(t, {"enabled": False}, facts, render, None, no_groups, True) == {"name": "no", "enabled": False}


def test_package_takes_the_package_managers_defaults() -> None:
    t = task("package", {"dnf": {"name": "apt"}, "apt": {"name": "x"}})
    assert handed_to(t, {"use": "dnf"}, {}) == "dnf"
    assert handed_to(t, {}, {"ansible_facts": {"pkg_mgr": "apk"}}) == "apk"
    assert late_args(t, {"state": "present"}, {}, render, None, no_groups, True) == {"name": "x", "state": "present"}


def test_templates_and_a_bridged_modules_resolved_name() -> None:
    t = task("ini_file", {"community.general.ini_file": {"mode": "0600"}}, ["{{ d }}"])
    args = late_args(t, {"path": "/p"}, {}, render, "community.general.ini_file", no_groups, False)
    assert args == {"mode": "0600", "name": "rendered", "path": "/p"}
    assert not defaults_pending(task("file", {"file": {"mode": "0600"}}))


def test_a_template_giving_no_mapping_fails_the_task() -> None:
    t = task("file", {}, ["{{ x }}"])
    with pytest.raises(InputError, match="a template gave str, not a mapping"):
        late_args(t, {}, {}, lambda value: "text", None, no_groups, True)


def test_ansible_package_use_picks_the_manager_as_ansibles_package_action() -> None:
    t = task("package", {})
    def has(name: str) -> bool:
        return name == "zypper"

    assert package_use(t, {"name": "at"}, {"ansible_package_use": "dnf"}, has) == {"name": "at", "use": "dnf"}
    assert package_use(t, {"name": "at", "use": "apt"}, {"ansible_package_use": "dnf"}, has)["use"] == "apt"
    assert package_use(t, {"name": "at"}, {}, has) == {"name": "at"}
    with pytest.raises(ModuleFailed, match='Could not find a matching action for the "lola" package manager.'):
        package_use(t, {"name": "at"}, {"ansible_package_use": "lola"}, has)
    with pytest.raises(ModuleFailed, match="use Ansible's zypper module"):
        package_use(t, {"name": "at"}, {"ansible_package_use": "zypper"}, has)
