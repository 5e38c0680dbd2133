"""Registered results carry the warnings Ansible's modules give, as Ansible registers them: on
the result, gathered on top for a loop (its items keep none), in check mode too; the terminal
prints each as ``[WARNING]: TEXT`` under its task. tests/fixtures/warnings runs under fleet and
under ansible-playbook (local connection) and writes the same JSON."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO

FIXTURE = REPO / "tests" / "fixtures" / "warnings"
BIN = Path(sys.executable).parent
EMPTY_REGEXP = ("The regular expression is an empty string, which will match every line in the file. This may "
                "have unintended consequences, such as replacing the last line in the file rather than appending."
                " If this is desired, use '^' to match every line in the file and avoid this warning.")


def _inventory(path: Path, out: Path) -> Path:
    path.write_text(f"h1 ansible_connection=local out={out} ansible_python_interpreter={sys.executable}\n")
    return path


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], dict[str, Any], str]:
    site = tmp_path_factory.mktemp("warnings") / "site"
    shutil.copytree(FIXTURE, site)
    runs = {}
    for tool, argv in (("fleet", [str(BIN / "fleet"), "apply"]), ("ansible", [str(BIN / "ansible-playbook")])):
        out = site / f"out-{tool}"
        out.mkdir()
        done = subprocess.run([*argv, "-i", str(_inventory(site / f"{tool}.ini", out)), "site.yml"], cwd=site,
                              capture_output=True, text=True, timeout=600, check=False,
                              env={"PATH": f"{BIN}:/usr/bin:/bin", "HOME": str(site), "COLUMNS": "400",
                                   "NO_COLOR": "1", "FLEET_PERSIST": "0"})
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        runs[tool] = (json.loads((out / "warnings.json").read_text()), done.stdout)
    return runs["fleet"][0], runs["ansible"][0], runs["fleet"][1]


@pytest.mark.parametrize("name", ["empty_regexp", "empty_search", "quiet", "looped", "looped_items", "checked",
                                  "checked_changed"])
def test_registered_as_ansible(name: str, both: tuple[dict[str, Any], dict[str, Any], str]) -> None:
    fleet, ansible, _ = both
    assert fleet[name] == ansible[name]


def test_ansible_words(both: tuple[dict[str, Any], dict[str, Any], str]) -> None:
    fleet, ansible, _ = both
    assert fleet["empty_regexp"] == ansible["empty_regexp"] == [EMPTY_REGEXP]
    assert fleet["looped"] == [EMPTY_REGEXP] * 2 and fleet["looped_items"] == [[], []]


def test_printed_once_per_task(both: tuple[dict[str, Any], dict[str, Any], str]) -> None:
    output = both[2]
    assert output.count(f"[WARNING]: {EMPTY_REGEXP} — h1") == 3  # the single task, the loop, check mode
    assert output.count("[WARNING]: The search string is an empty string") == 1
