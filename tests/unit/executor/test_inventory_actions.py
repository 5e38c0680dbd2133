"""``group_by`` and ``add_host`` (issue 15): the groups and hosts they make last for the run
(later plays' patterns, ``groups``, ``group_names``, ``hostvars``); what they register and
report is ansible-playbook's (tests/fixtures/dynamic_inventory); a new host's name or
connection setting never comes from a host's reply."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, require
from tests.unit.executor.conftest import Site, play
from tests.unit.executor.twins import Twins, run_twins

FIXTURE = REPO / "tests" / "fixtures" / "dynamic_inventory"


def _two_hosts(out: Path) -> str:
    return (f"h1 kind=a\nh2 kind=b\n[all:vars]\nansible_connection=local\nout={out}\n"
            f"ansible_python_interpreter={sys.executable}\n")


@pytest.fixture(scope="module")
def twins(tmp_path_factory: pytest.TempPathFactory) -> Twins:
    require(importlib.util.find_spec("ansible") is not None, "ansible-core is not installed (the test extra)")
    return run_twins(FIXTURE, tmp_path_factory.mktemp("dyninv"), _two_hosts)


def _written(twins: Twins, tool: str) -> dict[str, object]:
    written = {name: json.loads(text) for name, text in twins.outputs(tool).items()}
    # ansible-core adds hosts to a group in the order their results arrive: h1 and h2 may swap
    for seen in written.values():
        groups = seen.get("groups") or {}  # type: ignore[union-attr]
        for mapping in (groups, seen):
            for key, members in mapping.items():  # type: ignore[union-attr]
                if isinstance(members, list) and key not in ("gn", "seen_now"):
                    mapping[key] = _unraced(members)  # type: ignore[index]
    return written


def _unraced(members: list[str]) -> list[str]:
    """``members`` with h1 and h2 in that order where they stand."""
    racing = iter(sorted(m for m in members if m in ("h1", "h2")))
    return [next(racing) if m in ("h1", "h2") else m for m in members]


def test_registered_values_groups_and_later_plays_as_ansible(twins: Twins) -> None:
    ours, theirs = _written(twins, "fleet"), _written(twins, "ansible")
    assert ours == theirs
    assert sorted(ours) == ["h1.json", "h2.json", "p2-h1.json", "p2-n1.json", "p2-n2.json"]
    h1 = ours["h1.json"]
    assert h1["gb"]["changed"] is True and h1["gb2"]["parent_groups"] == ["kinds", "all-kinds"]  # type: ignore[index]
    assert h1["ah"]["changed"] is True and h1["ah2"]["changed"] is False  # type: ignore[index]
    assert h1["ah"]["add_host"]["host_vars"]["ansible_ssh_port"] == 2222  # type: ignore[index]
    assert ours["h2.json"]["ah"] == "U"  # add_host ran on the first host only, its result stays there
    assert h1["seen_now"] == ["all-kinds", "kind_a", "kinds"]  # the next task sees the new groups


def test_statuses_as_ansible(twins: Twins) -> None:
    assert [r.status for r in twins.report.host("h1").results if r.task == "add_host"] == ["changed", "ok", "changed"]
    assert [r.status for r in twins.report.host("h2").results if r.task == "add_host"] == []
    assert "ok: [h1]" in twins.ansible.stdout and "changed: [h1] => (item=1)" in twins.ansible.stdout
    assert twins.report.host("n1").counts()["changed"] == 1


def test_no_warning_for_groups_made_at_run_time(site: Site) -> None:
    run = site.run(play("- group_by: {key: 'made_{{ inventory_hostname }}'}", hosts="web") +
                   play("- {name: later, debug: {msg: x}}", hosts="made_h1:never_made"))
    assert run.exit_code == 0, run.json
    assert run.tasks("h1")[-1] == "later" and "later" not in run.tasks("h2")
    assert run.report.warnings == ["Could not match supplied host pattern, ignoring: never_made"]


def test_added_host_runs_later_plays_with_its_variables(site: Site) -> None:
    root = site.dir / "hosts" / "added"
    root.mkdir(parents=True)
    run = site.run(play(f"""
        - add_host:
            name: added
            groups: [fresh]
            root: {root}
        """, hosts="db") + play("- {name: write, copy: {content: '{{ group_names }}', dest: '{{ root }}/g'}}",
                                hosts="fresh"))
    assert run.exit_code == 0, [(r["task"], r["msg"]) for h in run.json["hosts"].values() for r in h["results"]]
    assert (root / "g").read_text() == '["fresh"]'


def test_host_data_never_names_or_connects_a_new_host(site: Site) -> None:
    run = site.run(play("""
        - {name: reply, command: echo 10.9.9.9, register: out}
        - {name: address, add_host: {name: web9, ansible_host: "{{ out.stdout }}"}, ignore_errors: true}
        - {name: name, add_host: {name: "{{ out.stdout }}:22"}, ignore_errors: true}
        - {name: user, add_host: {name: web9, ansible_become_user: "{{ out.stdout }}"}, ignore_errors: true}
        - {name: data, add_host: {name: h1, note: "{{ out.stdout }}"}}
        """, hosts="db"))
    assert run.exit_code == 0, run.json
    address, name = run.result("h3", "address"), run.result("h3", "name")
    assert address.status == "failed" and "site.yml:" in address.msg
    assert "ansible_host comes from data a host sent" in address.msg
    assert name.status == "failed" and "'10.9.9.9' comes from data a host sent" in name.msg
    assert run.status("h3", "user") == "failed"
    assert run.status("h3", "data") == "changed"
    assert "web9" not in run.report.hosts


def test_group_by_needs_a_key(site: Site) -> None:
    run = site.run(play("- {group_by: {parents: x}, ignore_errors: true}", hosts="h1"))
    assert run.result("h1", "group_by").msg == "the 'key' param is required when using group_by"
