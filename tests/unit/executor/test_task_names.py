"""Task names with templates are shown as Ansible shows them (tests/fixtures/task_names):
rendered with the host's variables when the task starts, so that an included file's tasks carry
their include's loop variable; a loop's own item and an undefined variable stay as written.
Compared with the ``TASK [...]`` lines of ansible-playbook on the same fixture: ansible-core 2.19
shows an undefined part as ``<< error 1 - 'x' is undefined >>`` where 2.18 and fleet keep the
name as written, so both forms compare as one placeholder."""

from __future__ import annotations

import re

import pytest

from tests.conftest import REPO
from tests.unit.executor.twins import Twins, run_twins

FIXTURE = REPO / "tests" / "fixtures" / "task_names"


@pytest.fixture(scope="module")
def twins(tmp_path_factory: pytest.TempPathFactory) -> Twins:
    return run_twins(FIXTURE, tmp_path_factory.mktemp("names"))


UNRENDERED = re.compile(r"\{\{.*?\}\}|<< error \d+ - .*? >>")


def _fleet_names(twins: Twins) -> list[str]:
    return [r["task"] for r in twins.report.to_dict()["hosts"]["h1"]["results"]]


def _ansible_names(twins: Twins) -> list[str]:
    return re.findall(r"^TASK \[(.*)\] \**$", twins.ansible.stdout, re.M)


def test_names_as_ansible_shows_them(twins: Twins) -> None:
    def same(names: list[str]) -> list[str]:
        return [UNRENDERED.sub("?", name) for name in names]

    assert same(_fleet_names(twins)) == same(_ansible_names(twins))


def test_an_included_task_carries_its_include_loop_variable(twins: Twins) -> None:
    names = _fleet_names(twins)
    assert "format tar (plain)" in names and "format zip (plain)" in names
    assert "include for {{ fmt }}" in names  # the include's own loop variable is its item
    assert "own item {{ item }} stays" in names
    assert "undefined {{ not_defined_anywhere }} stays" in names
    assert "named : role says inside" in names
    assert "after set_fact set-later" in names
