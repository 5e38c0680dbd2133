"""``module_defaults`` and ``timeout``: the same playbook (tests/fixtures/keywords: play, block
and task levels, templates, omit, a controller action, Ansible's module code; a killed
command, a background job, a block's timeout with rescue) run by fleet and by
ansible-playbook over the local connection, compared file by file."""

from __future__ import annotations

import os

import pytest

from fleet.result import RunReport
from tests.conftest import REPO
from tests.unit.executor.twins import run_twins

FIXTURE = REPO / "tests" / "fixtures" / "keywords"


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, str], dict[str, str], RunReport]:
    base = tmp_path_factory.mktemp("keywords")
    env = dict(os.environ, ANSIBLE_HOME=str(base / "site" / "ansible-home"),
               ANSIBLE_LOCAL_TEMP=str(base / "site" / "ansible-local"),
               ANSIBLE_REMOTE_TMP=str(base / "site" / "ansible-remote"))
    twins = run_twins(FIXTURE, base, env=env)
    # Ansible interrupts its action on the controller and may leave the module's process running;
    # fleet kills the command with what it started: ansible-playbook's run, after fleet's, lasts
    # longer than the command would have, had it lived on
    assert not (twins.fleet_out.parent / "out-fleet.late").exists()
    return twins.outputs("fleet"), twins.outputs("ansible"), twins.report


def test_the_files_are_ansibles(both: tuple[dict[str, str], dict[str, str], RunReport]) -> None:
    fleet, ansible, _ = both
    assert fleet == ansible
    assert fleet["play"] == "play default\n" and fleet["own"] == "own\n"
    assert fleet["block"] == "BLOCK default\n" and fleet["task"] == "task default\n"
    assert fleet["template"] == "from a template default\n"
    assert fleet["timedout"] == "True 2 False debug default\n" and fleet["rescued"] == "1"
    assert fleet["after"] == "True 0\n" and fleet["where"] == "in out\n"


def test_the_statuses_are_ansibles(both: tuple[dict[str, str], dict[str, str], RunReport]) -> None:
    _, _, report = both
    results = {r.task: r for r in report.host("h1").results}
    assert results["a command killed at its timeout"].status == "failed"
    assert results["a command killed at its timeout"].ignored
    assert results["too slow"].status == "failed"
    assert results["rescued, with its own timeout (the block one applies to it too)"].status == "changed"
    # ansible-core 2.18's words (the compatibility harness runs 2.18; 2.19 says "Timed out after 2 second(s).")
    assert results["a command killed at its timeout"].msg == (
        "The shell action failed to execute in the expected time frame (2) and was terminated")
    assert results["a background job does not hold the task until its timeout"].status == "changed"
    assert results["a background job does not hold the task until its timeout"].duration_s < 3
