"""Every ``with_*`` loop and the lookups roles use, run by fleet and by ansible-playbook on the
same playbook (tests/fixtures/lookups: a role with vars/, templates/ and files/, first_found in
include_vars, template and expressions, template lookup with ansible_managed), compared file by
file. ansible-core comes with the test extra; both run over the local connection."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from fleet import api
from fleet.executor.options import RunOptions
from tests.conftest import REPO

FIXTURE = REPO / "tests" / "fixtures" / "lookups"
ANSIBLE_PLAYBOOK = Path(sys.executable).parent / "ansible-playbook"


def _inventory(path: Path, out: Path) -> Path:
    path.write_text(
        "[web]\n"
        f"h1 ansible_connection=local out={out} ansible_python_interpreter={sys.executable}\n"
        "h2 ansible_connection=local\n"
        "[db]\n"
        "h3 ansible_connection=local\n")
    return path


def _outputs(out: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted(out.iterdir())}


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, str], dict[str, str]]:
    site = tmp_path_factory.mktemp("lookups") / "site"
    shutil.copytree(FIXTURE, site)
    fleet_out, ansible_out = site / "out-fleet", site / "out-ansible"
    fleet_out.mkdir()
    ansible_out.mkdir()
    prepared = api.prepare(site / "site.yml", [_inventory(site / "fleet.ini", fleet_out)], RunOptions())
    report = asyncio.run(api.apply_async(prepared))
    failed = [(r["task"], r["msg"]) for r in report.to_dict()["hosts"]["h1"]["results"] if r["status"] == "failed"]
    assert report.exit_code() == 0, failed
    done = subprocess.run([str(ANSIBLE_PLAYBOOK), "-i", str(_inventory(site / "ansible.ini", ansible_out)),
                           "site.yml"], cwd=site, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stdout[-3000:]
    return _outputs(fleet_out), _outputs(ansible_out)


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
