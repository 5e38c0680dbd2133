"""Module resolution as ansible-core does it, with the real ansible-core and collections."""

from __future__ import annotations

from pathlib import Path

import pytest


def test_builtin_short_and_fqcn_names_resolve_to_runnable_python_modules(resolver) -> None:
    for name in ("getent", "ansible.builtin.getent", "ansible.legacy.getent"):
        found = resolver.resolve(name)
        assert found.runnable, found.refused
        assert found.fqcn == "ansible.builtin.getent"
        assert found.path.endswith("ansible/modules/getent.py")
    assert resolver.resolve("ansible.builtin.apt_repository").runnable


def test_short_names_go_through_the_task_collections(resolver, collections_installed) -> None:
    found = resolver.resolve("ini_file", ["community.general"])
    assert found.runnable and found.fqcn == "community.general.ini_file"
    assert "ansible_collections/community/general/plugins/modules/ini_file.py" in found.path
    # without collections: ansible.builtin's own routing sends it to community.general, as in Ansible
    routed = resolver.resolve("ini_file")
    assert routed.fqcn == "community.general.ini_file"
    assert routed.redirects == ("ini_file", "ansible.builtin.ini_file", "community.general.ini_file")


def test_redirects_are_followed_and_listed(resolver, collections_installed) -> None:
    found = resolver.resolve("community.general.docker_container")
    assert found.fqcn == "community.docker.docker_container"
    assert found.redirects[0] == "community.general.docker_container"
    assert found.redirects[-1] == "community.docker.docker_container"


def test_a_removed_module_is_refused_with_ansibles_message(resolver, collections_installed) -> None:
    found = resolver.resolve("community.general.ali_instance_facts")
    assert found.kind == "removed" and not found.runnable
    assert "has been removed" in found.refused and "ali_instance_info" in found.refused


def test_a_deprecated_module_runs_and_says_so(resolver, collections_installed) -> None:
    import importlib

    import yaml

    # one that this release of community.general deprecates (without moving it elsewhere)
    package = importlib.import_module("ansible_collections.community.general")
    routing = yaml.safe_load((Path(package.__path__[0]) / "meta" / "runtime.yml").read_text())["plugin_routing"]
    name = next(f"community.general.{module}" for module, how in routing["modules"].items()
                if set(how) == {"deprecation"})
    found = resolver.resolve(name)
    assert found.runnable, found.refused
    assert any("deprecated" in text for text in found.deprecations), found.deprecations


def test_a_module_whose_work_is_in_an_action_plugin_is_refused_naming_it(resolver, collections_installed) -> None:
    found = resolver.resolve("ansible.posix.synchronize")
    assert found.kind == "action"
    assert found.action == "ansible.posix.synchronize"
    assert "action plugin ansible.posix.synchronize" in found.refused
    builtin = resolver.resolve("ansible.builtin.template")
    assert builtin.kind == "action" and builtin.action == "ansible.builtin.template"


def test_an_implemented_action_lets_its_module_run(core) -> None:
    from fleet.bridge.resolve import Resolver

    allowing = Resolver(implemented_actions=frozenset({"ansible.builtin.uri"}), core=core)
    assert allowing.resolve("ansible.builtin.uri").runnable
    assert allowing.resolve("ansible.builtin.unarchive").kind == "action"


@pytest.mark.parametrize(("name", "kind", "words"), [
    ("ansible.windows.win_ping", "powershell", "PowerShell"),
])
def test_non_python_modules_are_refused_by_kind(resolver, collections_installed, name, kind, words) -> None:
    found = resolver.resolve(name)
    assert found.kind == kind and words in found.refused, found


def test_module_kinds_follow_module_common(tmp_path, core) -> None:
    from fleet.bridge.resolve import module_kind

    cases = {
        "new.py": "#!/usr/bin/python\nfrom ansible.module_utils.basic import AnsibleModule\n",
        "old.sh": "#!/bin/sh\necho '{\"changed\": false}'\n",
        "wj.sh": "#!/bin/sh\n# WANT_JSON\ncat \"$1\"\n",
        "mod.ps1": "#!powershell\n#AnsibleRequires -CSharpUtil Ansible.Basic\n",
    }
    for name, text in cases.items():
        (tmp_path / name).write_text(text)
    (tmp_path / "bin").write_bytes(b"\x7fELF\x02\x01\x01\x00\x00")
    kinds = {name: module_kind(tmp_path / name) for name in [*cases, "bin"]}
    assert kinds == {"new.py": "python", "old.sh": "old-style", "wj.sh": "want-json", "mod.ps1": "powershell",
                     "bin": "binary"}


def test_modules_from_a_module_dir_resolve_as_ansible_legacy(resolver) -> None:
    found = resolver.resolve("fleet_test_junk")
    assert found.runnable, found.refused
    assert found.path.endswith("library/fleet_test_junk.py")


def test_a_role_library_is_searched(tmp_path, core) -> None:
    from fleet.bridge.resolve import Resolver

    (tmp_path / "role" / "library").mkdir(parents=True)
    (tmp_path / "role" / "library" / "fleet_role_mod.py").write_text(
        "from ansible.module_utils.basic import AnsibleModule\nAnsibleModule({}).exit_json()\n")
    resolver = Resolver(core=core)
    assert not resolver.resolve("fleet_role_mod").runnable
    resolver.add_role(tmp_path / "role")
    assert resolver.resolve("fleet_role_mod").runnable


def test_unknown_modules_get_a_did_you_mean(resolver, collections_installed) -> None:
    missing = resolver.resolve("getnet")
    assert missing.kind == "missing" and "getnet" in missing.refused
    assert "getent" in resolver.suggest("getnet", ["copy", "file"])
    assert "lineinfile" in resolver.suggest("lineinfle", ["lineinfile", "copy"])
    assert "community.general.ini_file" in resolver.suggest("community.general.ini_fil", [])
