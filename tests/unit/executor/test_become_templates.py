"""``become`` and ``become_user`` given as templates (5 of 83 public roles write
``become: "{{ x }}"``): rendered with each host's variables, as Ansible does."""

from __future__ import annotations

from fleet.executor.play import PlayRunner
from tests.unit.executor.conftest import Site, play


def test_become_and_become_user_templates_are_rendered_per_host(site: Site) -> None:
    site.host_vars["h1"] = {"use_sudo": True, "svc": "app"}
    site.host_vars["h2"] = {"use_sudo": "no", "svc": "other"}
    prepared = site.prepare(play("""
        - name: templated
          command: "true"
          become: "{{ use_sudo }}"
          become_user: "{{ svc }}"
    """, hosts="h1,h2"))
    runner = PlayRunner(prepared.state(), prepared.playbook.plays[0])
    task = next(t for t in prepared.playbook.plays[0].tasks if t.name == "templated")
    state = runner.state
    assert state.become_user_for(task, state.play_vars.for_task("h1", task)) == "app"
    assert state.become_user_for(task, state.play_vars.for_task("h2", task)) is None
