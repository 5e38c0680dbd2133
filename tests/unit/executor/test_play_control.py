"""serial, max_fail_percentage, any_errors_fatal, run_once, strategies, meta end_host/end_play."""

from __future__ import annotations

import sys

import pytest

from tests.unit.executor.conftest import HOSTS, Site, play


def _serial_play(extra: str, tasks: str) -> str:
    return f"""
        - hosts: all
          gather_facts: false
          {extra}
          tasks:
{tasks}
    """


APPEND = """            - name: step1
              shell: echo "{{ inventory_hostname }} {{ ansible_play_batch | join(',') }}" >> {{ playbook_dir }}/batches
            - name: step2
              shell: echo "{{ inventory_hostname }}-2" >> {{ playbook_dir }}/batches
"""


def _lines(site: Site) -> list[str]:
    path = site.dir / "batches"
    return path.read_text().splitlines() if path.exists() else []


def test_serial_runs_batches_in_order(site: Site) -> None:
    """Without pipelining, linear is strict lockstep: every host ends a task before the next."""
    run = site.run(_serial_play("serial: [1, 2]", APPEND), pipelining=False)
    lines = _lines(site)
    assert lines[:2] == ["h1 h1", "h1-2"]
    assert sorted(lines[2:4]) == ["h2 h2,h3", "h3 h2,h3"]
    assert sorted(lines[4:]) == ["h2-2", "h3-2"]
    assert run.exit_code == 0


def test_serial_batches_in_order_with_pipelining(site: Site) -> None:
    """With pipelining (the default) batches still run in order and each host runs its tasks in
    order; within a batch, one host may start step2 before another finished step1."""
    run = site.run(_serial_play("serial: [1, 2]", APPEND))
    lines = _lines(site)
    assert lines[:2] == ["h1 h1", "h1-2"]
    assert sorted(lines[2:]) == ["h2 h2,h3", "h2-2", "h3 h2,h3", "h3-2"]
    for host in ("h2", "h3"):
        assert lines.index(f"{host} h2,h3") < lines.index(f"{host}-2")
    assert run.exit_code == 0


def test_serial_batch_that_fails_entirely_stops_the_play(site: Site) -> None:
    tasks = """            - command: "false"
              when: inventory_hostname == 'h1'
""" + APPEND
    run = site.run(_serial_play("serial: 1", tasks))
    assert _lines(site) == []
    assert run.json["hosts"]["h1"]["status"] == "failed"
    assert "h2" not in run.report.hosts or not run.results("h2")
    assert run.exit_code == 1


@pytest.mark.parametrize(("percent", "later_batches_run"), [(49, False), (50, True)])
def test_max_fail_percentage_of_the_batch(site: Site, percent: int, later_batches_run: bool) -> None:
    site.group_vars = {"all": {"fails": False}}
    site.host_vars = {"h1": {"fails": True}}
    tasks = """            - command: "{{ 'false' if fails else 'true' }}"
""" + APPEND
    site.run(_serial_play(f"serial: 2\n          max_fail_percentage: {percent}", tasks))
    ran = {line.split()[0] for line in _lines(site)}
    assert ran == ({"h2", "h2-2", "h3", "h3-2"} if later_batches_run else set())


def test_any_errors_fatal_stops_every_host(site: Site) -> None:
    tasks = """            - command: "{{ 'false' if inventory_hostname == 'h2' else 'true' }}"
""" + APPEND
    run = site.run(_serial_play("any_errors_fatal: true", tasks) + """
        - hosts: all
          gather_facts: false
          tasks:
            - shell: echo next-play >> {{ playbook_dir }}/batches
    """)
    assert _lines(site) == []
    assert run.exit_code == 1


def test_any_errors_fatal_does_not_fire_for_a_rescued_failure(site: Site) -> None:
    tasks = """            - block:
                - command: "{{ 'false' if inventory_hostname == 'h2' else 'true' }}"
              rescue:
                - debug: msg=rescued
""" + APPEND
    run = site.run(_serial_play("any_errors_fatal: true", tasks))
    assert len(_lines(site)) == 6
    assert run.exit_code == 0


def test_failed_host_is_left_out_of_later_plays(site: Site) -> None:
    run = site.run("""
        - hosts: all
          gather_facts: false
          tasks:
            - command: "{{ 'false' if inventory_hostname == 'h1' else 'true' }}"
        - hosts: all
          gather_facts: false
          tasks:
            - name: second play
              copy: dest={{ root }}/second content=x
    """)
    assert [site.exists(h, "second") for h in HOSTS] == [False, True, True]
    assert run.tasks("h1") == ["command"]


def test_run_once_runs_on_first_host_and_shares_register_and_facts(site: Site) -> None:
    run = site.run(_serial_play("", """            - name: once
              shell: echo {{ inventory_hostname }} >> {{ playbook_dir }}/once
              register: r
              run_once: true
            - set_fact: picked={{ inventory_hostname }}
              run_once: true
            - copy: dest={{ root }}/seen content="{{ r.cmd }} {{ picked }}"
"""))
    assert (site.dir / "once").read_text() == "h1\n"
    assert [site.read(h, "seen").split()[-1] for h in HOSTS] == ["h1", "h1", "h1"]
    assert run.counts("h1")["changed"] == 2 and run.counts("h2")["changed"] == 1
    assert "once" not in run.tasks("h2")


def test_run_once_failure_fails_every_host(site: Site) -> None:
    run = site.run(_serial_play("", """            - command: "false"
              run_once: true
            - shell: echo after >> {{ playbook_dir }}/batches
"""))
    assert _lines(site) == []
    assert {name: data["status"] for name, data in run.json["hosts"].items()} == \
        {"h1": "failed", "h2": "failed", "h3": "failed"}
    assert run.exit_code == 1


TREE = """
            - file: path={{ root }}/d state=directory
            - copy: dest={{ root }}/d/{{ item }} content={{ item }}-{{ inventory_hostname }}
              loop: [a, b]
            - command: "sleep 0.{{ groups['all'].index(inventory_hostname) }}"
            - lineinfile: path={{ root }}/d/a line=tail
              notify: done
            - command: "false"
              when: inventory_hostname == 'h3'
            - copy: dest={{ root }}/d/c content=c
          handlers:
            - name: done
              copy: dest={{ root }}/d/handled content=yes
"""


def _tree(site: Site) -> dict[str, dict[str, str]]:
    return {h: {p.name: p.read_text() for p in sorted((site.root(h) / "d").iterdir())} for h in HOSTS}


def test_free_and_linear_strategies_reach_the_same_state(site: Site, tmp_path_factory: pytest.TempPathFactory) -> None:
    linear = site.run(_serial_play("strategy: linear", TREE))
    other = Site(tmp_path_factory.mktemp("free"))
    free = other.run(_serial_play("strategy: free", TREE))
    assert _tree(site) == _tree(other)
    assert _tree(site)["h1"] == {"a": "a-h1\ntail\n", "b": "b-h1", "c": "c", "handled": "yes"}
    assert "handled" not in _tree(site)["h3"]
    assert [linear.counts(h) for h in HOSTS] == [free.counts(h) for h in HOSTS]
    assert linear.exit_code == free.exit_code == 1


def test_meta_end_host_with_when_and_end_play(site: Site) -> None:
    run = site.run("""
        - hosts: all
          gather_facts: false
          tasks:
            - shell: echo one >> {{ root }}/log
            - meta: end_host
              when: inventory_hostname == 'h2'
            - shell: echo two >> {{ root }}/log
            - meta: end_play
              when: inventory_hostname == 'nobody'
            - shell: echo three >> {{ root }}/log
            - meta: end_play
            - shell: echo never >> {{ root }}/log
        - hosts: all
          gather_facts: false
          tasks:
            - shell: echo next >> {{ root }}/log
    """)
    assert site.read("h1", "log").split() == ["one", "two", "three", "next"]
    assert site.read("h2", "log").split() == ["one", "next"]
    assert run.exit_code == 0
    # as Ansible's strategy: a meta task whose condition is false is reported skipped there
    assert [(r.host, r.msg) for h in ("h1", "h2") for r in run.report.host(h).results
            if r.module == "meta" and r.status == "skipped"] == [
        ("h1", "end_host conditional evaluated to False"), ("h1", "end_play conditional evaluated to False")]


def test_a_failed_host_never_stops_the_others(site: Site) -> None:
    run = site.run(_serial_play("", """            - command: "{{ 'false' if inventory_hostname == 'h2' else 'true' }}"
            - copy: dest={{ root }}/done content=x
"""))
    assert [site.exists(h, "done") for h in HOSTS] == [True, False, True]
    assert run.json["summary"] == {"ok": 4, "changed": 4, "failed": 1, "skipped": 0, "unreachable": 0}


def test_unreachable_host_and_ignore_unreachable(site: Site) -> None:
    site.host_vars = {"h3": {"ansible_connection": "ssh", "ansible_host": "127.0.0.1", "ansible_port": 1,
                             "ansible_user": "nobody"}}
    run = site.run(_serial_play("", """            - name: first
              shell: echo one >> {{ root }}/log
              ignore_unreachable: true
            - name: second
              shell: echo two >> {{ root }}/log
            - name: third
              shell: echo three >> {{ root }}/log
"""))
    assert site.read("h1", "log").split() == ["one", "two", "three"]
    assert run.status("h3", "first") == "unreachable"
    assert "cannot connect to 127.0.0.1:1" in run.result("h3", "first").msg
    assert run.counts("h3")["ignored"] == 1 and run.counts("h3")["unreachable"] == 1
    assert run.tasks("h3") == ["first", "second"]
    assert run.json["hosts"]["h3"]["status"] == "unreachable"
    assert run.exit_code == 1


def test_a_play_whose_hosts_all_fail_ends_the_run(site: Site) -> None:
    """As Ansible: when every host of a batch fails, the playbook stops (later plays too)."""
    run = site.run("""
        - hosts: db
          gather_facts: false
          tasks:
            - command: "false"
        - hosts: web
          gather_facts: false
          tasks:
            - copy: dest={{ root }}/second content=x
    """)
    assert not site.exists("h1", "second")
    assert run.exit_code == 1


def test_meta_clear_host_errors_lets_failed_hosts_continue(site: Site) -> None:
    run = site.run(_serial_play("", """            - command: "{{ 'false' if inventory_hostname == 'h2' else 'true' }}"
            - shell: echo skipped-by-h2 >> {{ root }}/log
            - meta: clear_host_errors
            - shell: echo resumed >> {{ root }}/log
"""))
    assert site.read("h1", "log").split() == ["skipped-by-h2", "resumed"]
    assert site.read("h2", "log").split() == ["resumed"]
    assert run.counts("h2")["failed"] == 1


def test_meta_end_role_ends_the_role_for_that_host(site: Site) -> None:
    site.write("roles/early/tasks/main.yml", """
        - shell: echo role-1 >> {{ root }}/log
        - meta: end_role
          when: inventory_hostname == 'h1'
        - shell: echo role-2 >> {{ root }}/log
    """)
    site.run("""
        - hosts: web
          gather_facts: false
          roles: [early]
          tasks:
            - shell: echo play >> {{ root }}/log
    """)
    assert site.read("h1", "log").split() == ["role-1", "play"]
    assert site.read("h2", "log").split() == ["role-1", "role-2", "play"]


def test_play_connection_keyword_and_variables_winning_over_it(site: Site) -> None:
    """ansible_connection (a variable) beats the play's connection keyword, which beats -c."""
    inventory = site.dir / "plain.yml"
    inventory.write_text(f"all:\n  hosts:\n    plain: {{root: {site.root('h1')}, "
                         f"ansible_python_interpreter: {sys.executable}}}\n")
    site.root("h1").mkdir(parents=True)
    site.playbook("""
        - hosts: plain
          gather_facts: false
          connection: local
          tasks:
            - copy: dest={{ root }}/by-keyword content=x
    """, "keyword.yml")
    site.playbook("""
        - hosts: all
          gather_facts: false
          connection: ssh
          tasks:
            - copy: dest={{ root }}/by-variable content=x
    """, "variable.yml")
    assert site.cli("apply", "-i", str(inventory), "keyword.yml").exit_code == 0
    assert site.exists("h1", "by-keyword")
    assert site.cli("apply", "-i", str(site.inventory), "variable.yml", "-l", "h2").exit_code == 0
    assert site.exists("h2", "by-variable")


def test_a_meta_task_whose_condition_is_false_is_reported_skipped(site: Site) -> None:
    """As Ansible (its v2_runner_on_skipped): the group target's 'skip broken distros'."""
    run = site.run(play("""
        - name: skip broken distros
          meta: end_host
          when: inventory_hostname == 'h1'
        - name: end nothing
          meta: end_play
          when: false
        - name: after
          debug: msg=x
    """, hosts="web"))
    assert run.status("h2", "skip broken distros") == "skipped"
    assert run.tasks("h1") == []  # ended: as Ansible, an end_host that acts reports nothing
    assert run.status("h2", "end nothing") == "skipped"  # decided on the first host left, as Ansible
    assert run.status("h2", "after") == "ok"
