"""Names Ansible renders when a task runs (issue 15: the user, group, loops and file targets): a
module named by a template (``action: "{{ ansible_facts.pkg_mgr }}"``), templated ``loop_control``
names, and the file module's ``_diff_peek``. tests/fixtures/dynamic_names runs under fleet and
ansible-playbook (local connection) and writes the same files; the rest is fleet's own checking
of what such a name renders to."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.unit.executor.conftest import Site, play
from tests.unit.executor.twins import run_twins

FIXTURE = REPO / "tests" / "fixtures" / "dynamic_names"


def test_rendered_names_as_ansible(tmp_path: Path) -> None:
    twins = run_twins(FIXTURE, tmp_path)
    fleet, ansible = twins.outputs("fleet"), twins.outputs("ansible")
    assert fleet == ansible
    assert fleet["missing"] == "True True\n"
    assert fleet["loop-b"] == "b 1 thing 2\n"
    assert fleet["include-x"] == "x\n"
    assert fleet["fact-key"] == "from key\n"
    assert fleet["peek"] == "text False False False\nbinary True False False\n"
    assert {name: fleet[name] for name in ("by-var", "mapping", "by-host")} == {
        "by-var": "by var\n", "mapping": "mapping\n", "by-host": "by host\n"}
    results = twins.report.to_dict()["hosts"]["h1"]["results"]
    named = next(r for r in results if r["task"] == "a module named by a variable")
    assert named["module"] == "copy"
    missing = next(r for r in results if r["task"] == "a module no one has")
    assert missing["msg"] == "The module nosuchmodule was not found in configured module paths"  # ansible-core 2.18's


def test_preflight_keeps_what_it_can_check(site: Site) -> None:
    error = site.input_error(play("""
        - action: "{{ writer "
          args: {dest: /x, content: x}
    """))
    assert error.location is not None and error.location.line == 4
    error = site.input_error(play("""
        - debug: msg=x
          loop: [1]
          loop_control: {loop_var: "{{ name"}
    """))
    assert error.location is not None and error.location.line == 4
    assert site.prepare(play("""
        - action: "{{ writer }}"
          args: {dest: /x, content: x}
          vars: {writer: copy}
    """)).options.warnings == []


@pytest.mark.parametrize(("name", "message"), [
    ("'bad name/../x'", "rendered to 'bad name/../x', which is not a module name"),
    ("'include_tasks'", "include_tasks cannot be named by a template"),
    ("42", "rendered to 42, which is not a module name"),
])
def test_a_rendered_name_must_be_a_module_name(site: Site, name: str, message: str) -> None:
    run = site.run(play(f"""
        - name: named
          action: "{{{{ {name} }}}}"
          args: {{x: 1}}
          when: inventory_hostname == 'h1'
    """, hosts="h1"))
    result = run.result("h1", "named")
    assert result.status == "failed"
    assert message in result.msg


def test_host_data_names_a_module_not_a_controller_action(site: Site) -> None:
    run = site.run(play("""
        - command: echo {{ 'debug' if inventory_hostname == 'h1' else 'copy' }}
          register: said
        - name: named by the host
          action: "{{ said.stdout }}"
          args: {dest: "{{ root }}/written", content: "x"}
    """, hosts="web"))
    assert run.status("h2", "named by the host") == "changed"
    assert site.read("h2", "written") == "x"
    failed = run.result("h1", "named by the host")
    assert failed.status == "failed" and "was read from host data" in failed.msg
    assert "controller's action debug" in failed.msg


def test_each_host_renders_its_own_module(site: Site) -> None:
    site.host_vars = {"h1": {"how": "copy"}, "h2": {"how": "nosuchmodule"}}
    run = site.run(play("""
        - name: per host
          action: "{{ how }} dest={{ root }}/f content=x"
    """, hosts="web"))
    assert run.status("h1", "per host") == "changed"
    assert run.result("h2", "per host").msg == "The module nosuchmodule was not found in configured module paths"


def test_a_rendered_loop_var_must_be_a_variable_name(site: Site) -> None:
    site.host_vars = {"h1": {"name": "ok_name"}, "h2": {"name": "not valid"}}
    run = site.run(play("""
        - name: looped
          debug: msg="{{ lookup('vars', name) }}"
          loop: [1]
          loop_control: {loop_var: "{{ name }}"}
    """, hosts="web"))
    assert run.status("h1", "looped") == "ok"
    failed = run.result("h2", "looped")
    assert failed.status == "failed" and "loop_var 'not valid' (rendered from '{{ name }}') is not a valid" in failed.msg


def test_a_literal_bad_loop_var_is_still_a_load_error(site: Site) -> None:
    error = site.input_error(play("""
        - debug: msg=x
          loop: [1]
          loop_control: {index_var: "not valid"}
    """))
    assert "index_var 'not valid' is not a valid variable name" in error.message


def test_a_set_fact_key_renders_to_a_variable_name(site: Site) -> None:
    run = site.run(play("""
        - name: keyed
          set_fact: "{{ item.key }}={{ item.value }}"
          with_dict: {"not valid": x}
          ignore_errors: true
    """, hosts="h1"))
    assert "'not valid' is not a valid variable name" in run.result("h1", "keyed").msg
