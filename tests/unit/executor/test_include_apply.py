"""``apply:`` of include_tasks/include_role (issue 15, item 9): the keywords reach every included
task as a block around them; ``notify`` on a block reaches its tasks that have none of their own;
fleet and ansible-playbook write the same files (local connection)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from fleet import api
from fleet.errors import InputError
from fleet.executor.options import RunOptions
from tests.conftest import REPO
from tests.unit.executor.twins import local_inventory, run_twins

FIXTURE = REPO / "tests" / "fixtures" / "include_apply"


def _both(fixture: Path, tmp_path: Path) -> dict[str, dict[str, str]]:
    """The files fleet and ansible-playbook write running ``fixture``'s site.yml."""
    twins = run_twins(fixture, tmp_path)
    return {tool: twins.outputs(tool) for tool in ("fleet", "ansible")}


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
        (site / "i.ini").write_text(local_inventory(tmp_path))
        api.prepare(site / "bad.yml", [site / "i.ini"], RunOptions())
    assert raised.value.location is not None and raised.value.location.line == 4


def test_notify_on_a_block_as_ansible(tmp_path: Path) -> None:
    outputs = _both(REPO / "tests" / "fixtures" / "block_notify", tmp_path)
    assert outputs["fleet"] == outputs["ansible"]
    assert outputs["fleet"] == {"one": "one\n", "two": "two\n", "block-handler": "block handler ran\n",
                                "own-handler": "own handler ran\n"}
