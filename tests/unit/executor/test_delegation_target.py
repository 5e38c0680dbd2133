"""Where a delegated task connects (fleet.executor.delegation): the delegated host's own
connection settings, while the task keeps the original host's variables."""

from __future__ import annotations

from typing import Any

import pytest

from fleet.connection import ConnectionDefaults, transport_spec
from fleet.errors import InputError
from fleet.executor.delegation import facts_host, target_for
from fleet.executor.hosttrust import ConnectionVars
from fleet.executor.play import PlayRunner
from fleet.templating import wrap
from fleet.vars import Layer
from tests.unit.executor.conftest import Site, play


def _runner(site: Site, delegate_to: str, **task: Any) -> tuple[PlayRunner, Any]:
    site.host_vars["h3"] = {"ansible_connection": "ssh", "ansible_host": "10.0.0.3", "ansible_port": 2203,
                            "ansible_user": "deploy", "ansible_become": True, "ansible_become_user": "svc"}
    extra = "".join(f"\n          {key}: {value}" for key, value in task.items())
    prepared = site.prepare(play(f"""
        - name: delegated
          command: "true"
          delegate_to: "{delegate_to}"{extra}
    """, hosts="h1"))
    runner = PlayRunner(prepared.state(), prepared.playbook.plays[0])
    task = next(t for t in prepared.playbook.plays[0].tasks if t.name == "delegated")
    return runner, task


def _spec(target: Any) -> dict[str, Any]:
    spec = transport_spec(target.name, ConnectionVars(target.variables, target.name), ConnectionDefaults())
    return {"kind": spec.kind, **{k: spec.params.get(k) for k in ("host", "port", "user")}}


def test_an_inventory_host_connects_with_its_own_variables(site: Site) -> None:
    runner, task = _runner(site, "h3")
    variables = runner.state.play_vars.for_task("h1", task)
    target = target_for(runner.state, task, variables)
    assert target is not None and target.name == "h3"
    assert _spec(target) == {"kind": "ssh", "host": "10.0.0.3", "port": 2203, "user": "deploy"}
    assert runner.state.become_user_for(task, target.variables) == "svc"  # its ansible_become*
    assert runner.state.become_user_for(task, variables) is None
    assert variables["inventory_hostname"] == "h1"  # templating keeps the original host's view


def test_localhost_outside_the_inventory_is_the_local_connection(site: Site) -> None:
    runner, task = _runner(site, "localhost")
    target = target_for(runner.state, task, runner.state.play_vars.for_task("h1", task))
    assert target is not None and _spec(target)["kind"] == "local"


def test_a_name_outside_the_inventory_is_connected_to_by_ssh(site: Site) -> None:
    runner, task = _runner(site, "db.example")
    target = target_for(runner.state, task, runner.state.play_vars.for_task("h1", task))
    assert target is not None
    assert _spec(target) == {"kind": "ssh", "host": "db.example", "port": None, "user": None}


def test_delegate_to_renders_per_host_and_empty_means_not_delegated(site: Site) -> None:
    runner, task = _runner(site, "{{ peer | default('') }}")
    state = runner.state
    assert target_for(state, task, state.play_vars.for_task("h1", task)) is None
    scoped = state.play_vars.for_task("h1", task).push(Layer("task vars", "test", {"peer": "h2"}))
    target = target_for(state, task, scoped)
    assert target is not None and target.name == "h2"


def test_host_data_may_name_an_inventory_host_only(site: Site) -> None:
    runner, task = _runner(site, "{{ peer }}")
    state = runner.state
    base = state.play_vars.for_task("h1", task)
    inventory_host = base.push(Layer("set_fact / register", "register", {"peer": wrap("h3")}))
    target = target_for(state, task, inventory_host)
    assert target is not None and target.name == "h3"
    elsewhere = base.push(Layer("set_fact / register", "register", {"peer": wrap("evil.example")}))
    with pytest.raises(InputError, match="comes from data a host sent"):
        target_for(state, task, elsewhere)


def test_facts_go_to_the_delegated_host_only_with_delegate_facts(site: Site) -> None:
    runner, task = _runner(site, "h3", delegate_facts="true")
    target = target_for(runner.state, task, runner.state.play_vars.for_task("h1", task))
    assert facts_host(task, "h1", target) == "h3"
    runner, task = _runner(site, "h3")
    target = target_for(runner.state, task, runner.state.play_vars.for_task("h1", task))
    assert facts_host(task, "h1", target) == "h1"
    assert facts_host(task, "h1", None) == "h1"
