"""The variables Ansible makes of its options and of itself (ansible_verbosity, ansible_version
with its parts, ansible_forks, ansible_limit when given, ansible_inventory_sources,
ansible_playbook_python, an absolute playbook_dir), compared with ansible-playbook's
(tests/fixtures/magic_vars)."""

from __future__ import annotations

import json

import pytest

from tests.conftest import REPO
from tests.unit.executor.twins import Twins, run_twins

FIXTURE = REPO / "tests" / "fixtures" / "magic_vars"


@pytest.fixture(scope="module")
def twins(tmp_path_factory: pytest.TempPathFactory) -> Twins:
    return run_twins(FIXTURE, tmp_path_factory.mktemp("magic"))


def _seen(twins: Twins, tool: str) -> dict[str, object]:
    seen = json.loads(twins.outputs(tool)["magic.json"])
    seen["sources"] = ["inventory" for _ in seen["sources"]]  # fleet.ini and ansible.ini
    return seen


def test_the_same_values_as_ansible(twins: Twins) -> None:
    assert _seen(twins, "fleet") == _seen(twins, "ansible")


def test_values_a_role_relies_on(twins: Twins) -> None:
    seen = json.loads(twins.outputs("fleet")["magic.json"])
    assert seen["verbosity"] == 0 and seen["quiet"] is True
    assert seen["recent"] is True and seen["major"] == 2
    assert seen["playbook_dir_absolute"] is True and seen["playbook_dir"] == "site"
    assert seen["limit"] == "no limit" and seen["sources"] == ["fleet"]


def test_without_ansible_core_the_version_is_the_one_fleet_follows(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from fleet.executor.state import FOLLOWS_ANSIBLE, ansible_version

    monkeypatch.setitem(sys.modules, "ansible.release", None)
    assert ansible_version() == {"string": FOLLOWS_ANSIBLE, "full": FOLLOWS_ANSIBLE, "major": 2, "minor": 19,
                                 "revision": 0}


def test_play_context_names_the_connection_and_address_where_nothing_sets_them(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """As Ansible's PlayContext.update_vars (willshersystems.sshd: ``when: ansible_connection ==
    'chroot'``): the play's connection and the host's name, below every variable that sets them;
    never read back as connection settings."""
    import sys

    from fleet import api
    from fleet.executor.hosttrust import ConnectionVars

    (tmp_path / "hosts").write_text(f"h1\nh2 ansible_host=127.0.0.1\n[all:vars]\nansible_python_interpreter={sys.executable}\n")
    (tmp_path / "site.yml").write_text(
        "- hosts: all\n  connection: local\n  gather_facts: false\n  tasks:\n"
        "    - copy:\n        dest: '" + str(tmp_path) + "/{{ inventory_hostname }}.json'\n"
        "        content: \"{{ {'connection': ansible_connection, 'host': ansible_host} | to_json }}\"\n"
        "      when: ansible_connection != 'chroot'\n")
    report = api.apply(tmp_path / "site.yml", [str(tmp_path / "hosts")], api.RunOptions(persist=0))
    assert report.exit_code() == 0, [(r.task, r.msg) for h in report.hosts.values() for r in h.results]
    assert json.loads((tmp_path / "h1.json").read_text()) == {"connection": "local", "host": "h1"}
    assert json.loads((tmp_path / "h2.json").read_text()) == {"connection": "local", "host": "127.0.0.1"}

    from fleet.templating import Templar
    from fleet.vars import HostVars, Layer

    seen = HostVars([Layer("play context", "play context", {"ansible_host": "h1", "ansible_connection": "ssh"})],
                    Templar())
    assert "ansible_host" in seen and "ansible_host" not in ConnectionVars(seen, "h1")
