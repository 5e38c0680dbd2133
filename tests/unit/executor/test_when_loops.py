"""``when`` in all its forms, and loops: loop/with_*/loop_control, per-item when, registered results."""

from __future__ import annotations

import pytest

from tests.unit.executor.conftest import Site, play

WHEN_CASES = [
    # (when clause, hosts on which the task runs)
    ("true", {"h1", "h2", "h3"}),
    ("false", set()),
    ("inventory_hostname == 'h2'", {"h2"}),
    ("\"'web' in group_names\"", {"h1", "h2"}),
    ("[inventory_hostname != 'h1', inventory_hostname != 'h3']", {"h2"}),
    ("flag | bool", {"h1"}),
    ("flag is defined and flag | bool", {"h1"}),
    ("probe.rc == 0", {"h1", "h2", "h3"}),
    ("probe.stdout == inventory_hostname", {"h1", "h2", "h3"}),
    ("probe is changed", {"h1", "h2", "h3"}),
    ("missing_var is not defined", {"h1", "h2", "h3"}),
]


def test_when_selects_hosts(site: Site) -> None:
    """Every WHEN_CASES row is one task of a single run (one run keeps the suite fast)."""
    site.host_vars = {"h1": {"flag": "yes"}, "h2": {"flag": False}, "h3": {"flag": "no"}}
    tasks = "".join(f"""
        - name: case {index}
          copy: dest={{{{ root }}}}/case-{index} content=x
          when: {condition}
    """ for index, (condition, _) in enumerate(WHEN_CASES))
    run = site.run(play("""
        - command: echo {{ inventory_hostname }}
          register: probe
    """ + tasks))
    for index, (condition, ran) in enumerate(WHEN_CASES):
        assert {h for h in ("h1", "h2", "h3") if site.exists(h, f"case-{index}")} == ran, condition
        for host in ("h1", "h2", "h3"):
            assert run.status(host, f"case {index}") == ("changed" if host in ran else "skipped"), condition
    assert run.exit_code == 0


def test_when_on_facts(site: Site) -> None:
    run = site.run("""
        - hosts: h1
          tasks:
            - name: debian only
              copy: dest={{ root }}/os content={{ ansible_facts['os_family'] }}
              when: ansible_os_family == ansible_facts.os_family and ansible_facts.system == 'Linux'
    """)
    assert run.status("h1", "debian only") == "changed"
    assert site.read("h1", "os") == run.result("h1", "Gathering Facts").data["ansible_facts"]["ansible_os_family"]


def test_skipped_task_registers_skipped(site: Site) -> None:
    site.run(play("""
        - command: echo hi
          register: r
          when: false
        - copy:
            dest: "{{ root }}/r"
            content: "{{ r.skipped }} {{ r.changed }} {{ r is skipped }}"
    """, hosts="h1"))
    assert site.read("h1", "r") == "True False True"


LOOP_CASES = [
    # (loop keywords, expected file content: one line per item)
    ("loop: [a, b, c]\n  # {{ item }}", "a\nb\nc\n"),
    ("with_items: [[a, b], c]", "a\nb\nc\n"),
    ("with_list: [[a, b], c]", "['a', 'b']\nc\n"),
    ("loop: \"{{ names }}\"", "x\ny\n"),
    ("loop: \"{{ range(3) | list }}\"", "0\n1\n2\n"),
    ("loop: \"{{ {'k1': 1, 'k2': 2} | dict2items }}\"\n  # item.key", "{'key': 'k1', 'value': 1}\n{'key': 'k2', 'value': 2}\n"),
]


@pytest.mark.parametrize(("loop", "expected"), LOOP_CASES)
def test_loop_forms(site: Site, loop: str, expected: str) -> None:
    loop_line = loop.split("\n")[0]
    run = site.run(play(f"""
        - file: path={{{{ root }}}} state=directory
        - name: each
          lineinfile:
            path: "{{{{ root }}}}/items"
            line: "{{{{ item | string }}}}"
            create: true
          {loop_line}
    """, hosts="h1", extra="vars:\n  names: [x, y]"))
    assert site.read("h1", "items") == expected
    result = run.result("h1", "each")
    assert result.status == "changed"
    assert len(result.items or []) == expected.count("\n")


def test_with_dict(site: Site) -> None:
    site.run(play("""
        - file: path={{ root }} state=directory
        - lineinfile:
            path: "{{ root }}/users"
            line: "{{ item.key }}={{ item.value.uid }}"
            create: true
          with_dict:
            alice: {uid: 1001}
            bob: {uid: 1002}
    """, hosts="h1"))
    assert site.read("h1", "users") == "alice=1001\nbob=1002\n"


def test_loop_control(site: Site) -> None:
    run = site.run(play("""
        - file: path={{ root }} state=directory
        - name: controlled
          lineinfile:
            path: "{{ root }}/out"
            line: "{{ idx }}:{{ pkg.name }}:{{ ansible_loop.index }}/{{ ansible_loop.length }}:{{ ansible_loop.first }}:{{ ansible_loop.last }}:{{ ansible_loop.previtem.name | default('-') }}"
            create: true
          loop: [{name: vim, secret: s1}, {name: git, secret: s2}]
          loop_control:
            loop_var: pkg
            index_var: idx
            label: "{{ pkg.name }}"
            extended: true
          register: out
        - copy:
            dest: "{{ root }}/reg"
            content: "{{ out.results | map(attribute='pkg') | map(attribute='name') | join(',') }} {{ out.results[1].idx }} {{ out.results[0].ansible_loop_var }}"
    """, hosts="h1"))
    assert site.read("h1", "out") == "0:vim:1/2:True:False:-\n1:git:2/2:False:True:vim\n"
    assert [i.item_label for i in run.result("h1", "controlled").items or []] == ["vim", "git"]
    assert "s1" not in str(run.json)
    assert site.read("h1", "reg") == "vim,git 1 pkg"


def test_loop_with_when_per_item(site: Site) -> None:
    run = site.run(play("""
        - file: path={{ root }} state=directory
        - name: odd ones
          copy: dest={{ root }}/n{{ item }} content={{ item }}
          loop: [1, 2, 3, 4, 5]
          when: item is odd
          register: made
        - copy:
            dest: "{{ root }}/summary"
            content: "{{ made.results | selectattr('skipped', 'defined') | list | length }} {{ made.changed }} {{ made.results | map(attribute='item') | list }}"
    """, hosts="h1"))
    assert sorted(p.name for p in site.root("h1").glob("n*")) == ["n1", "n3", "n5"]
    assert [i.status for i in run.result("h1", "odd ones").items or []] == \
        ["changed", "skipped", "changed", "skipped", "changed"]
    assert site.read("h1", "summary") == "2 True [1, 2, 3, 4, 5]"


def test_empty_loop_is_skipped(site: Site) -> None:
    run = site.run(play("""
        - name: nothing
          copy: dest={{ root }}/never content=x
          loop: []
          register: r
        - debug: msg="{{ r.results | length }} {{ r.skipped }} {{ r.changed }}"
          name: show
    """, hosts="h1"))
    assert run.status("h1", "nothing") == "skipped"
    assert run.result("h1", "show").msg == "0 True False"
    assert not site.exists("h1", "never")


def test_all_items_skipped_is_skipped(site: Site) -> None:
    run = site.run(play("""
        - name: none match
          copy: dest={{ root }}/x{{ item }} content=x
          loop: [1, 2]
          when: item > 5
    """, hosts="h1"))
    assert run.status("h1", "none match") == "skipped"
    assert run.counts("h1")["skipped"] == 1


def test_loop_registered_results_shape(site: Site) -> None:
    run = site.run(play("""
        - name: cmds
          command: "sh -c 'echo {{ item }}; exit {{ 0 if item != \\"b\\" else 3 }}'"
          loop: [a, b, c]
          register: r
          ignore_errors: true
        - debug: var=r
          name: show
    """, hosts="h1"))
    cmds = run.result("h1", "cmds")
    assert cmds.status == "failed" and cmds.ignored
    r = run.result("h1", "show").data["r"]
    assert r["failed"] is True and r["changed"] is True
    assert r["msg"] == "One or more items failed"
    assert [e["item"] for e in r["results"]] == ["a", "b", "c"]
    assert [e["failed"] for e in r["results"]] == [False, True, False]
    assert [e["stdout"] for e in r["results"]] == ["a", "b", "c"]
    assert [e["rc"] for e in r["results"]] == [0, 3, 0]
    assert all(e["changed"] is True and e["ansible_loop_var"] == "item" for e in r["results"])
    assert run.counts("h1")["ignored"] == 1


def test_loop_is_one_round_trip_with_changed_when_per_item(site: Site) -> None:
    run = site.run(play("""
        - name: per item
          command: echo {{ item }}
          loop: [keep, change]
          changed_when: item == 'change'
          register: r
    """, hosts="h1"))
    items = run.result("h1", "per item").items or []
    assert [i.status for i in items] == ["ok", "changed"]
    assert run.status("h1", "per item") == "changed"


def test_with_items_of_a_single_value(site: Site) -> None:
    site.run(play("""
        - copy: dest={{ root }}/{{ item }} content=x
          with_items: "{{ one }}"
    """, hosts="h1", extra="vars: {one: only}"))
    assert site.exists("h1", "only")


def test_extended_loop_ends_are_undefined_as_in_ansible(site: Site) -> None:
    run = site.run(play("""
        - name: ends
          assert:
            that:
              - (ansible_loop.previtem is undefined) == ansible_loop.first
              - (ansible_loop.nextitem is undefined) == ansible_loop.last
          loop: [a, b, c]
          loop_control: {extended: true}
    """, hosts="h1"))
    assert [i.status for i in run.result("h1", "ends").items or []] == ["ok", "ok", "ok"]


def test_a_false_condition_skips_a_loop_that_cannot_render(site: Site) -> None:
    """As Ansible (GitHub issue 45189): the loop's error counts only where ``when`` holds."""
    run = site.run(play("""
        - name: never looped
          debug: msg=loop
          when: false
          loop: "{{ d.fake_var }}"
          vars: {d: {}}
        - name: looped
          debug: msg=loop
          when: true
          loop: "{{ d.fake_var }}"
          vars: {d: {}}
          ignore_errors: true
    """, hosts="h1"))
    assert run.status("h1", "never looped") == "skipped"
    assert run.status("h1", "looped") == "failed"
