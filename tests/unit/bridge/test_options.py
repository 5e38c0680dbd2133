"""The list of what Ansible documents that fleet ships (for runs without ansible-core) is what
the installed ansible-core says: regenerate it with ``python -m fleet.bridge.optionsgen``."""

from __future__ import annotations

import json

from fleet.bridge.options import DATA, Shipped, generate
from fleet.bridge.run import Bridge
from fleet.registry import MODULE_ALIASES, ModuleRegistry


def test_the_shipped_list_is_the_installed_ansible_cores(core) -> None:
    shipped = json.loads(DATA.read_text("utf-8"))
    assert shipped["ansible_core"].split(".")[:2] == core.version.split(".")[:2], \
        "ansible_names.json comes from another ansible-core: python -m fleet.bridge.optionsgen"
    registry = ModuleRegistry(use_entry_points=False)
    fresh = generate(Bridge(cache=False), [*registry.names(), *MODULE_ALIASES])
    for key in ("modules", "builtin", "routed"):
        assert fresh[key] == shipped[key], f"ansible_names.json is stale ({key}): python -m fleet.bridge.optionsgen"


def test_the_shipped_list_knows_ansibles_names_and_documented_parameters() -> None:
    shipped = Shipped()
    assert shipped.has("assemble") and shipped.has("ansible.builtin.unarchive") and shipped.has("ufw")
    assert shipped.has("yum")  # an action Ansible routes to dnf's
    assert shipped.has("community.general.ufw") and not shipped.has("community.general.ufv")
    assert not shipped.has("assembel")
    user = shipped.options("user")
    assert user is not None and {"generate_ssh_key", "ssh_key_comment", "umask", "createhome"} <= user
    package = shipped.options("package")
    assert package is not None and {"enablerepo", "update_cache", "use"} <= package  # apt's and dnf's too
    assert shipped.options("sshd_config") is None  # fleet's own: Ansible has no such module
