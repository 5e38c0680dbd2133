"""A task that ignores its errors and gives its module parameters it refuses (Ansible's targets
test such failures: the file target's "Test missing src and path") fails where a host reaches
it, as in Ansible: a preflight warning, not an error; the failure is registered, with Ansible's
words for a missing required argument. Without ``ignore_errors`` it stays a preflight error."""

from __future__ import annotations

from tests.unit.executor.conftest import Site, play


def test_an_expected_failure_fails_where_reached_and_is_registered(site: Site) -> None:
    run = site.run(play("""
        - name: missing path
          file: {state: hard}
          register: missing
          ignore_errors: yes
        - name: what it said
          copy:
            dest: "{{ root }}/said"
            content: "{{ missing is failed }} {{ missing.msg }}"
    """, hosts="h1"))
    assert run.status("h1", "missing path") == "failed"
    assert run.result("h1", "missing path").ignored
    assert site.read("h1", "said") == "True missing required arguments: path"


def test_a_rule_of_the_module_is_registered_in_its_own_words(site: Site) -> None:
    """The cron target asserts ``result.msg == 'Will not manage /etc/crontab via cron_file, see
    documentation.'``: the module's words, not fleet's file:line and task prefix."""
    run = site.run(play("""
        - name: system crontab
          cron: {cron_file: /etc/crontab, user: root, name: t, job: ls}
          register: refused
          ignore_errors: yes
        - copy: {dest: "{{ root }}/said", content: "{{ refused.msg }}"}
    """, hosts="h1"))
    assert run.status("h1", "system crontab") == "failed"
    assert "Will not manage /etc/crontab" in run.result("h1", "system crontab").msg
    assert site.read("h1", "said") == "Will not manage /etc/crontab via cron_file, see documentation."


def test_it_is_a_preflight_warning(site: Site) -> None:
    prepared = site.prepare(play("""
        - file: {state: hard}
          ignore_errors: true
    """, hosts="h1"))
    assert any("site.yml:4: " in w and "requires 'path'" in w and "fails on a host that reaches it" in w
               for w in prepared.options.warnings)


def test_without_ignore_errors_it_stays_a_preflight_error(site: Site) -> None:
    error = site.input_error(play("""
        - file: {state: hard}
    """, hosts="h1"))
    assert "module file requires 'path'" in error.message


def test_any_failure_is_registered(site: Site) -> None:
    run = site.run(play("""
        - name: undefined
          debug: msg="{{ d.no_such_key }}"
          vars: {d: {}}
          register: out
          ignore_errors: true
        - copy: {dest: "{{ root }}/out", content: "{{ out is failed }}"}
    """, hosts="h1"))
    assert run.status("h1", "undefined") == "failed"
    assert site.read("h1", "out") == "True"


def test_a_loop_of_the_wrong_kind_fails_in_ansibles_words(site: Site) -> None:
    """The loops target asserts on them (GitHub issue 35481)."""
    run = site.run(play("""
        - debug: msg={{ item }}
          with_dict: "{{ a_list }}"
          vars: {a_list: [1, 2]}
          register: dict_of_list
          ignore_errors: true
        - debug: msg={{ item }}
          with_list: "{{ a_dict }}"
          vars: {a_dict: {key: value}}
          register: list_of_dict
          ignore_errors: true
        - name: both
          assert:
            that:
              - dict_of_list is failed and "with_dict expects a dict" in dict_of_list.msg
              - list_of_dict is failed and "with_list expects a list" in list_of_dict.msg
    """, hosts="h1"))
    assert run.status("h1", "both") == "ok"
    assert run.results("h1")[0].msg.endswith("with_dict expects a dict (got a list)")
