"""``apply:`` of include_tasks/include_role (issue 15, item 9): the keywords reach every included
task as a block around them; ``notify`` on a block reaches its tasks that have none of their own;
fleet and ansible-playbook write the same files (local connection)."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from fleet import api
from fleet.errors import InputError
from fleet.executor.options import RunOptions
from tests.conftest import REPO

FIXTURE = REPO / "tests" / "fixtures" / "include_apply"
ANSIBLE_PLAYBOOK = Path(sys.executable).parent / "ansible-playbook"


def _inventory(path: Path, out: Path) -> Path:
    path.write_text(f"h1 ansible_connection=local out={out} ansible_python_interpreter={sys.executable}\n")
    return path


def _both(fixture: Path, tmp_path: Path) -> dict[str, dict[str, str]]:
    """The files fleet and ansible-playbook write running ``fixture``'s site.yml."""
    site = tmp_path / "site"
    shutil.copytree(fixture, site)
    outputs = {}
    for tool in ("fleet", "ansible"):
        out = site / f"out-{tool}"
        out.mkdir()
        inventory = _inventory(site / f"{tool}.ini", out)
        if tool == "fleet":
            report = asyncio.run(api.apply_async(api.prepare(site / "site.yml", [inventory], RunOptions())))
            assert report.exit_code() == 0
        else:
            done = subprocess.run([str(ANSIBLE_PLAYBOOK), "-i", str(inventory), "site.yml"], cwd=site,
                                  capture_output=True, text=True, timeout=600, check=False)
            assert done.returncode == 0, done.stdout[-3000:]
        outputs[tool] = {p.name: p.read_text() for p in sorted(out.iterdir())}
    return outputs


def test_apply_as_ansible(tmp_path: Path) -> None:
    outputs = _both(FIXTURE, tmp_path)
    assert outputs["fleet"] == outputs["ansible"]
    assert outputs["fleet"] == {"inc": "applied outer\n", "role": "role-applied\n", "looped-a": "item-a\n",
                                "looped-b": "item-b\n"}


@pytest.mark.parametrize(("task", "message"), [
    ("import_tasks: {file: inc.yml, apply: {tags: [x]}}", "'apply' is an option of include_tasks only"),
    ("include_tasks: {file: inc.yml, apply: {loop: [1]}}", "'loop' is not a keyword apply can set"),
    ("include_tasks: {file: inc.yml, apply: [tags]}", "apply must be a mapping of block keywords"),
    ("import_role: {name: r, apply: {tags: [x]}}", "'apply' is an option of include_role only"),
])
def test_bad_apply_is_one_error_naming_the_line(tmp_path: Path, task: str, message: str) -> None:
    site = tmp_path / "site"
    shutil.copytree(FIXTURE, site)
    (site / "bad.yml").write_text(f"- hosts: h1\n  gather_facts: false\n  tasks:\n    - {task}\n")
    with pytest.raises(InputError, match=message) as raised:
        api.prepare(site / "bad.yml", [_inventory(site / "i.ini", tmp_path)], RunOptions())
    assert raised.value.location is not None and raised.value.location.line == 4


def test_notify_on_a_block_as_ansible(tmp_path: Path) -> None:
    outputs = _both(REPO / "tests" / "fixtures" / "block_notify", tmp_path)
    assert outputs["fleet"] == outputs["ansible"]
    assert outputs["fleet"] == {"one": "one\n", "two": "two\n", "block-handler": "block handler ran\n",
                                "own-handler": "own handler ran\n"}
