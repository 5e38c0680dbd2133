"""The bridge's classification of a module fleet lacks: runnable, known to Ansible but not
runnable here (the task then fails only where reached), or unknown (a preflight error)."""

from __future__ import annotations

import pytest

from fleet.bridge import AnsibleMissing, Bridge
from fleet.errors import InputError


def test_ansibles_modules_are_runnable_or_deferred_and_typos_are_errors(core, collections_installed) -> None:
    bridge = Bridge(cache=False)
    assert bridge.deferred("ansible.builtin.getent") == ""
    assert "action plugin ansible.builtin.assemble" in bridge.deferred("assemble")
    assert "action plugin ansible.builtin.dnf" in bridge.deferred("yum")  # an action Ansible routes to dnf's
    with pytest.raises(InputError, match="unknown module 'assembel' \\(did you mean 'assemble'"):
        bridge.deferred("assembel")
    if collections_installed:
        assert "PowerShell" in bridge.deferred("ansible.windows.win_ping")
        with pytest.raises(InputError, match="has been removed"):
            bridge.deferred("community.general.ali_instance_facts")


def test_without_ansible_core_ansibles_names_are_deferred_and_others_are_errors() -> None:
    bridge = Bridge(cache=False, native=lambda: ["lineinfile", "copy"])
    bridge._missing = AnsibleMissing("hidden")  # as when ansible-core is not importable
    for name in ("assemble", "ansible.builtin.fetch", "ufw", "community.general.ufw"):
        assert "ansible-core is not installed" in bridge.deferred(name), name
    with pytest.raises(InputError, match="unknown module 'linefile' \\(did you mean 'lineinfile'"):
        bridge.deferred("linefile")
    with pytest.raises(InputError, match="did you mean 'unarchive'"):
        bridge.deferred("unarchve")
