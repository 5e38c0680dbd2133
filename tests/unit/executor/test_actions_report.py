"""debug/assert/fail actions, the recap counts and the documented JSON report, --timeout."""

from __future__ import annotations

import json

from tests.unit.executor.conftest import HOSTS, Site, play


def test_debug_assert_fail(site: Site) -> None:
    run = site.run(play("""
        - name: msg
          debug: msg="hi {{ inventory_hostname }}"
        - name: var
          debug: var=groups.web
        - name: structured
          debug:
            msg: {a: 1}
        - name: check ok
          assert:
            that: ["1 + 1 == 2", "'web' in group_names"]
            success_msg: all good
          when: inventory_hostname != 'h3'
        - name: check bad
          assert:
            that: ["1 == 1", "inventory_hostname == 'h1'"]
            fail_msg: "not h1 but {{ inventory_hostname }}"
          ignore_errors: true
        - name: stop
          fail: msg="stopping {{ inventory_hostname }}"
          when: inventory_hostname == 'h2'
        - name: after
          debug: msg=after
    """))
    assert run.result("h1", "msg").msg == "hi h1"
    assert run.result("h1", "var").data == {"groups.web": ["h1", "h2"]}
    assert run.result("h1", "structured").data["msg"] == {"a": 1}
    assert run.result("h1", "check ok").msg == "all good"
    assert run.status("h3", "check ok") == "skipped"
    bad = run.result("h2", "check bad")
    assert (bad.status, bad.ignored, bad.msg) == ("failed", True, "not h1 but h2")
    assert bad.data["assertion"] == "inventory_hostname == 'h1'"
    assert run.status("h1", "check bad") == "ok"
    assert run.result("h2", "stop").msg == "stopping h2"
    assert run.tasks("h2")[-1] == "stop" and run.tasks("h1")[-1] == "after"
    assert run.exit_code == 1


def test_recap_counts_and_json_report_fields(site: Site) -> None:
    site.write("tasks/inc.yml", "- debug: msg=included\n")
    run = site.run(play("""
        - name: ok task
          command: /bin/true
          changed_when: false
        - name: changed task
          copy: dest={{ root }}/f content=x
        - name: skipped task
          debug: msg=never
          when: false
        - name: ignored task
          command: "false"
          ignore_errors: true
        - block:
            - name: rescued task
              fail: msg=boom
          rescue:
            - name: rescuer
              debug: msg=saved
        - name: include
          include_tasks: tasks/inc.yml
        - name: failed task
          fail: msg=final
          when: inventory_hostname == 'h3'
    """))
    h1 = run.counts("h1")
    # Ansible's recap: ok includes changed and ignored; the rescued failure is only 'rescued'
    assert h1 == {"ok": 6, "changed": 2, "failed": 0, "skipped": 2, "unreachable": 0, "ignored": 1, "rescued": 1}
    assert run.counts("h3")["failed"] == 1 and run.counts("h3")["skipped"] == 1
    data = run.json
    assert set(data) >= {"mode", "summary", "hosts"}
    assert data["mode"] == "apply"
    assert data["summary"] == {"ok": 18, "changed": 6, "failed": 1, "skipped": 5, "unreachable": 0}
    assert set(data["hosts"]) == set(HOSTS)
    assert data["hosts"]["h1"]["status"] == "changed" and data["hosts"]["h3"]["status"] == "failed"
    for entry in data["hosts"]["h1"]["results"]:
        assert {"play", "task", "module", "status", "changed", "msg", "diff", "duration_s"} <= set(entry)
        assert isinstance(entry["duration_s"], float) and entry["duration_s"] >= 0
    by_task = {e["task"]: e for e in data["hosts"]["h1"]["results"]}
    assert by_task["changed task"]["module"] == "copy" and by_task["changed task"]["changed"] is True
    assert by_task["changed task"]["diff"] is not None
    assert by_task["ok task"]["status"] == "ok" and by_task["ok task"]["changed"] is False
    assert by_task["ignored task"]["status"] == "failed" and by_task["ignored task"]["ignored"] is True
    assert by_task["ignored task"]["msg"] == "non-zero return code"
    assert by_task["skipped task"]["status"] == "skipped"
    assert by_task["include"]["status"] == "ok"
    assert by_task["rescued task"]["rescued"] is True
    assert run.exit_code == 1


def test_cli_json_report_and_terminal_recap(site: Site) -> None:
    site.playbook(play("""
        - copy: dest={{ root }}/f content=x
        - command: "false"
          when: inventory_hostname == 'h2'
    """))
    result = site.cli("apply", "-i", str(site.inventory), "site.yml", "--json", "out.json")
    assert result.exit_code == 1
    report = json.loads((site.dir / "out.json").read_text())
    assert report["summary"] == {"ok": 3, "changed": 3, "failed": 1, "skipped": 2, "unreachable": 0}
    assert "RECAP" in result.stdout and "FAILED" in result.stdout
    recap = {line.split()[0]: line.split()[1:] for line in result.stdout.splitlines()
             if line.split() and line.split()[0] in HOSTS and "│" in line}
    assert [c for c in recap["h2"] if c.isdigit()] == ["1", "1", "0", "1", "0", "0", "0"]


def test_timeout_fails_only_the_slow_task(site: Site) -> None:
    run = site.run(play("""
        - name: slow
          command: "sleep {{ 5 if inventory_hostname == 'h1' else 0 }}"
        - name: after
          copy: dest={{ root }}/after content=x
    """), timeout=1.0)
    slow = run.result("h1", "slow")
    assert slow.status == "failed" and "timed out" in slow.msg
    assert not site.exists("h1", "after")
    assert site.exists("h2", "after") and site.exists("h3", "after")
    assert run.exit_code == 1


def test_timeout_then_next_play_still_reaches_other_hosts(site: Site) -> None:
    run = site.run("""
        - hosts: all
          gather_facts: false
          tasks:
            - command: "sleep {{ 5 if inventory_hostname == 'h1' else 0 }}"
        - hosts: all
          gather_facts: false
          tasks:
            - copy: dest={{ root }}/second content=x
    """, timeout=1.0)
    assert [site.exists(h, "second") for h in HOSTS] == [False, True, True]
    assert run.exit_code == 1


def test_debug_output_is_shown_without_verbose_and_undefined_var_is_not_a_failure(site: Site) -> None:
    site.playbook(play("""
        - debug: msg="hello from {{ inventory_hostname }}"
        - debug: var=not_defined_anywhere
        - command: /bin/true
          changed_when: false
    """, hosts="h1"))
    result = site.cli("apply", "-i", str(site.inventory), "site.yml", "--json", "r.json")
    assert result.exit_code == 0, result.output
    assert "ok: [h1] => hello from h1" in result.stdout
    assert 'ok: [h1] => {"not_defined_anywhere": "VARIABLE IS NOT DEFINED!"}' in result.stdout
    assert "TASK [command]" not in result.stdout  # other ok results stay quiet without -v


def test_timeout_ignored_then_the_host_goes_on(site: Site) -> None:
    run = site.run(play("""
        - name: slow
          command: sleep 5
          ignore_errors: true
        - name: after
          copy: dest={{ root }}/after content=x
    """, hosts="h1"), timeout=1.0)
    assert run.result("h1", "slow").ignored
    assert site.exists("h1", "after")
    assert run.exit_code == 0
