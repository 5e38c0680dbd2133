"""``set_fact`` in a loop accumulates as in Ansible: each item sees the facts the items before it
set. The build-a-list/dict forms public roles use (tests/fixtures/setfact_loops) run under fleet
and under ansible-playbook (local connection) and write the same JSON."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from fleet import api
from fleet.executor.options import RunOptions
from tests.conftest import REPO
from tests.unit.executor.twins import ANSIBLE_PLAYBOOK, run_twins

FIXTURE = REPO / "tests" / "fixtures" / "setfact_loops"


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], dict[str, Any], Any]:
    twins = run_twins(FIXTURE, tmp_path_factory.mktemp("setfact"))
    return (json.loads((twins.fleet_out / "facts.json").read_text()),
            json.loads((twins.ansible_out / "facts.json").read_text()), twins.report)


@pytest.mark.parametrize("name", ["from_nothing", "seen_before", "base", "by_name", "all_groups", "counted",
                                  "outputs", "joined", "built_facts", "built_changed", "echoed"])
def test_fact_as_ansible(name: str, both: tuple[dict[str, Any], dict[str, Any], Any]) -> None:
    fleet, ansible, _ = both
    assert fleet[name] == ansible[name]


def test_the_list_holds_every_item(both: tuple[dict[str, Any], dict[str, Any], Any]) -> None:
    fleet, ansible, _ = both
    assert fleet["from_nothing"] == ansible["from_nothing"] == ["a", "b", "c"]
    assert fleet["by_name"] == ansible["by_name"] == {"ann": ["adm", "sudo"], "bob": ["www"], "cy": []}


def test_a_condition_sees_what_earlier_items_set(both: tuple[dict[str, Any], dict[str, Any], Any]) -> None:
    report = both[2]
    task = next(r for r in report.to_dict()["hosts"]["h1"]["results"]
                if r["task"] == "nested loop var, unique and a condition on what earlier items set")
    assert [i["status"] for i in task["items"]] == ["ok", "ok", "skipped"]


CACHED = """- hosts: h1
  gather_facts: false
  tasks:
    - set_fact:
        seen: "{{ seen | default([]) + [item] }}"
        cacheable: true
      loop: [a, b, c]
"""


def test_cacheable_in_a_loop_caches_the_whole_list_as_ansible(site: Any, tmp_path: Path) -> None:
    from fleet.executor.factcache import FactCache

    site.run(CACHED, fact_cache=FactCache(tmp_path / "fleet-cache"))
    book = tmp_path / "cached.yml"
    book.write_text(CACHED)
    env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": str(tmp_path),
           "ANSIBLE_CACHE_PLUGIN": "jsonfile", "ANSIBLE_CACHE_PLUGIN_CONNECTION": str(tmp_path / "ansible-cache")}
    done = subprocess.run([str(ANSIBLE_PLAYBOOK), "-i", "h1,", "-c", "local", "-e",
                           f"ansible_python_interpreter={sys.executable}", str(book)],
                          capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    fleet = json.loads((tmp_path / "fleet-cache" / "h1").read_text())
    ansible = FactCache(tmp_path / "ansible-cache").load("h1")  # its tagged 2.19 layout, read by fleet
    assert ansible is not None
    assert fleet["seen"] == ansible["seen"] == ["a", "b", "c"]


RUN_ONCE = """- hosts: all
  gather_facts: false
  tasks:
    - set_fact:
        acc: "{{ acc | default([]) + [item] }}"
      loop: [a, b, c]
      run_once: true
    - copy:
        dest: "{{ out }}/{{ inventory_hostname }}"
        content: "{{ acc | default('undefined') | to_json }}"
"""


def test_run_once_in_a_loop_gives_every_host_the_facts_as_ansible(tmp_path: Path) -> None:
    book = tmp_path / "once.yml"
    book.write_text(RUN_ONCE)
    outs = {}
    for tool in ("fleet", "ansible"):
        out = outs[tool] = tmp_path / f"out-{tool}"
        out.mkdir()
        inventory = tmp_path / f"{tool}.ini"
        inventory.write_text("".join(f"{h} ansible_connection=local out={out} ansible_python_interpreter={sys.executable}\n"
                                     for h in ("h1", "h2")))
        if tool == "fleet":
            report = asyncio.run(api.apply_async(api.prepare(book, [inventory], RunOptions())))
            assert report.exit_code() == 0
        else:
            done = subprocess.run([str(ANSIBLE_PLAYBOOK), "-i", str(inventory), str(book)], cwd=tmp_path,
                                  capture_output=True, text=True, timeout=600, check=False)
            assert done.returncode == 0, done.stdout[-3000:]
    for host in ("h1", "h2"):
        fleet, ansible = (json.loads((outs[t] / host).read_text()) for t in ("fleet", "ansible"))
        assert fleet == ansible == ["a", "b", "c"], host
