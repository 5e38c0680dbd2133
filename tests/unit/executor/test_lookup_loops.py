"""Every ``with_*`` loop and the lookups roles use, run by fleet and by ansible-playbook on the
same playbook (tests/fixtures/lookups: a role with vars/, templates/ and files/, first_found in
include_vars, template and expressions, template lookup with ansible_managed), compared file by
file. ansible-core comes with the test extra; both run over the local connection."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.unit.executor.twins import run_twins

FIXTURE = REPO / "tests" / "fixtures" / "lookups"


def _inventory(out: Path) -> str:
    return ("[web]\n"
            f"h1 ansible_connection=local out={out} ansible_python_interpreter={sys.executable}\n"
            "h2 ansible_connection=local\n"
            "[db]\n"
            "h3 ansible_connection=local\n")


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, str], dict[str, str]]:
    twins = run_twins(FIXTURE, tmp_path_factory.mktemp("lookups"), _inventory)
    return twins.outputs("fleet"), twins.outputs("ansible")


def test_the_same_files_are_written(both: tuple[dict[str, str], dict[str, str]]) -> None:
    fleet, ansible = both
    assert sorted(fleet) == sorted(ansible) == ["ff-climb", "ff-include", "ff-skip", "ff-template", "found-vars",
                                                "lookups", "loops", "role-files", "template-lookup"]


@pytest.mark.parametrize("name", ["ff-climb", "ff-include", "ff-skip", "ff-template", "found-vars", "lookups", "loops", "role-files",
                                  "template-lookup"])
def test_content_as_ansible(name: str, both: tuple[dict[str, str], dict[str, str]]) -> None:
    fleet, ansible = both
    assert fleet[name] == ansible[name]


def test_ansible_managed_heads_the_template(both: tuple[dict[str, str], dict[str, str]]) -> None:
    assert both[0]["ff-template"].startswith("#\n# Ansible managed\n#\n")
