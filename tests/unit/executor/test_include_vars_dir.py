"""``include_vars`` with ``dir`` and its options, ``hash_behaviour`` and a missing file, as
Ansible's include_vars action does them: the fixture (tests/fixtures/include_vars_dir) runs under
fleet and under ansible-playbook (local connection) and writes the same JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO
from tests.unit.executor.twins import Twins, run_twins

FIXTURE = REPO / "tests" / "fixtures" / "include_vars_dir"


@pytest.fixture(scope="module")
def twins(tmp_path_factory: pytest.TempPathFactory) -> Twins:
    return run_twins(FIXTURE, tmp_path_factory.mktemp("include_vars_dir"))


def _read(out: Path, name: str) -> dict[str, Any]:
    return json.loads((out / name).read_text())


@pytest.mark.parametrize("key", ["d1", "d2", "d3", "d4", "d5", "d6", "d7", "seen"])
def test_role_dir_as_ansible(key: str, twins: Twins) -> None:
    assert _read(twins.fleet_out, "role.json")[key] == _read(twins.ansible_out, "role.json")[key]


def test_playbook_dir_as_ansible(twins: Twins) -> None:
    assert twins.outputs("fleet")["play.json"] == twins.outputs("ansible")["play.json"]


def test_what_the_fixture_exercises(twins: Twins) -> None:
    role = _read(twins.fleet_out, "role.json")
    assert [Path(p).name for p in role["d1"][1]] == ["a.yml", "b.yml", "c.json", "skip.yml"]
    assert [Path(p).name for p in role["d2"][1]] == ["a.yml", "b.yml", "noext", "c.yml", "d.yaml"]
    assert role["d4"][0] is True and "does not have a valid extension" in role["d4"][1]
    assert role["d6"][1] == {"k1": 1, "k2": 2, "n": {"a": 1, "b": 2}}
