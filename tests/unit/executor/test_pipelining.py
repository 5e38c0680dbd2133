"""Pipelining: consecutive independent tasks share one agent request, with the same outcome."""

from __future__ import annotations

import pytest

from fleet.errors import Location
from fleet.executor.pipeline import group_length
from fleet.playbook.models import Block, LoopControl, Task
from tests.unit.executor.conftest import Site, play

LOC = Location("site.yml", 1)


def _t(module: str = "copy", **keywords: object) -> Task:
    return Task(module=module, args={}, location=LOC, **keywords)  # type: ignore[arg-type]


ItemList = list[Task | Block]


@pytest.mark.parametrize(
    ("items", "lengths"),
    [
        ([_t(), _t(), _t()], [3]),
        ([_t(), _t(register="r"), _t()], [2, 1]),
        ([_t(), _t("set_fact"), _t()], [1, 1, 1]),
        ([_t(), _t("debug"), _t(), _t()], [1, 1, 2]),
        ([_t(), _t(until=["x"]), _t()], [1, 1, 1]),
        ([_t(), _t(failed_when=["x"]), _t()], [2, 1]),
        ([_t("setup"), _t()], [1, 1]),
        ([_t(), _t("setup"), _t()], [2, 1]),
        ([_t(), _t(run_once=True), _t()], [1, 1, 1]),
        ([_t(), Block(block=[_t()], location=LOC), _t()], [1, 1, 1]),
        ([_t(), _t("include_tasks"), _t()], [1, 1, 1]),
        ([_t(), _t(loop_control=LoopControl(pause=1.0))], [1, 1]),
        ([_t(), Task(module="copy", args={"content": "{{ lookup('file', 'x') }}"}, location=LOC), _t()], [1, 2]),
        ([_t(), _t("service_facts"), _t(), _t()], [2, 2]),  # later whens read what it set
        ([_t("hostname"), _t()], [1, 1]),
    ],
)
def test_group_boundaries(items: ItemList, lengths: list[int]) -> None:
    found, index = [], 0
    while index < len(items):
        length = group_length(items, index, lambda t: t.module in ("setup", "service_facts", "hostname"))
        found.append(length)
        index += length
    assert found == lengths


FIVE = """
    - copy: dest={{ root }}/a content=a
    - file: path={{ root }}/d state=directory
    - copy: dest={{ root }}/d/b content=b
    - lineinfile: path={{ root }}/d/c line=c create=true
    - command: touch {{ root }}/e creates={{ root }}/e
"""


def test_five_independent_tasks_take_one_round_trip_per_host(site: Site) -> None:
    run = site.run(play(FIVE))
    assert run.exit_code == 0
    for host in ("h1", "h2", "h3"):
        assert site.read(host, "d/b") == "b" and site.read(host, "d/c") == "c\n"
        assert run.json["hosts"][host]["agent_requests"] == 1
        assert run.counts(host)["changed"] == 5
    again = site.run(play(FIVE))
    assert again.json["summary"]["changed"] == 0

    serial = site.run(play(FIVE), pipelining=False)
    assert serial.json["summary"]["changed"] == 0
    assert serial.json["hosts"]["h1"]["agent_requests"] == 5


def test_a_fact_module_ends_its_group_so_the_next_condition_sees_its_facts(site: Site) -> None:
    run = site.run(play("""
        - copy: dest={{ root }}/before content=b
        - service_facts:
        - copy: dest={{ root }}/after content=a
          when: services is defined
    """))
    assert run.exit_code == 0, run.json
    assert site.exists("h1", "after")
    assert run.json["hosts"]["h1"]["agent_requests"] == 2


def test_a_failure_in_a_group_stops_that_host_only(site: Site) -> None:
    run = site.run(play("""
        - copy: dest={{ root }}/one content=1
        - command: "{{ 'false' if inventory_hostname == 'h2' else 'true' }}"
        - copy: dest={{ root }}/three content=3
    """))
    assert run.exit_code == 1
    assert site.exists("h1", "three") and site.exists("h3", "three")
    assert site.exists("h2", "one") and not site.exists("h2", "three")
    assert run.tasks("h2") == ["copy", "command"]
    assert run.status("h2", "command") == "failed"


def test_ignored_failure_in_a_group_lets_the_next_tasks_run(site: Site) -> None:
    run = site.run(play("""
        - command: "false"
          ignore_errors: true
        - copy: dest={{ root }}/after content=x
    """, hosts="h1"))
    assert run.exit_code == 0
    assert site.exists("h1", "after")
    assert run.counts("h1")["ignored"] == 1


def test_per_task_check_mode_inside_a_group(site: Site) -> None:
    run = site.run(play("""
        - copy: dest={{ root }}/real content=x
        - copy: dest={{ root }}/dry content=x
          check_mode: true
        - copy: dest={{ root }}/real2 content=x
    """, hosts="h1"))
    assert run.json["hosts"]["h1"]["agent_requests"] == 1
    assert site.exists("h1", "real") and site.exists("h1", "real2") and not site.exists("h1", "dry")
    assert run.status("h1", "copy") == "changed"


def test_registered_results_are_seen_by_the_next_task(site: Site) -> None:
    run = site.run(play("""
        - copy: dest={{ root }}/x content=1
        - stat: path={{ root }}/x
          register: st
        - copy: dest={{ root }}/seen content="{{ st.stat.exists }}"
    """, hosts="h1"))
    assert site.read("h1", "seen") == "True"
    assert run.json["hosts"]["h1"]["agent_requests"] == 2

