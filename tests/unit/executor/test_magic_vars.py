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
