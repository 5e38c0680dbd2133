"""register shapes, changed_when, failed_when, ignore_errors, until/retries/delay."""

from __future__ import annotations

import pytest

from tests.unit.executor.conftest import Site, play


def test_register_shapes_of_modules_and_actions(site: Site) -> None:
    run = site.run(play("""
        - command: echo out
          register: cmd
        - copy: dest={{ root }}/f content=x
          register: cp
        - stat: path={{ root }}/f
          register: st
        - set_fact: answer=42
          register: sf
        - debug: msg=hello
          register: dbg
        - assert: {that: [true]}
          register: asrt
        - name: show
          debug:
            msg:
              cmd: "{{ [cmd.rc, cmd.stdout, cmd.stdout_lines, cmd.stderr, cmd.changed, cmd.failed, cmd.cmd is defined] }}"
              cp: "{{ [cp.changed, cp.failed, cp.dest | basename] }}"
              st: "{{ [st.stat.exists, st.stat.size, st.changed] }}"
              sf: "{{ [sf.ansible_facts.answer, sf.changed] }}"
              dbg: "{{ [dbg.msg, dbg.changed, dbg.failed] }}"
              asrt: "{{ [asrt.changed, asrt.failed, asrt.msg] }}"
    """, hosts="h1"))
    msg = run.result("h1", "show").data["msg"]
    assert msg["cmd"] == [0, "out", ["out"], "", True, False, True]
    assert msg["cp"] == [True, False, "f"]
    assert msg["st"] == [True, 1, False]
    assert msg["sf"] == ["42", False]
    assert msg["dbg"] == ["hello", False, False]
    assert msg["asrt"] == [False, False, "All assertions passed"]


def test_register_failed_result_is_visible_to_later_tasks(site: Site) -> None:
    run = site.run(play("""
        - command: "sh -c 'echo oops >&2; exit 4'"
          register: bad
          ignore_errors: true
        - copy:
            dest: "{{ root }}/seen"
            content: "{{ bad.rc }} {{ bad.stderr }} {{ bad is failed }} {{ bad.failed }}"
    """, hosts="h1"))
    assert site.read("h1", "seen") == "4 oops True True"
    assert run.exit_code == 0


CHANGED_FAILED_CASES = [
    # (command, keywords, expected status, expected 'changed')
    ("/bin/true", "changed_when: false", "ok", False),
    ("/bin/true", "changed_when: r.rc == 0", "changed", True),
    ("echo same", "changed_when: \"'diff' in r.stdout\"", "ok", False),
    ("/bin/false", "failed_when: false", "changed", True),
    ("sh -c 'exit 2'", "failed_when: r.rc not in [0, 2]", "changed", True),
    ("sh -c 'exit 2'", "failed_when: r.rc not in [0, 2]\nchanged_when: false", "ok", False),
    ("echo ERROR", "failed_when: \"'ERROR' in r.stdout\"", "failed", True),
    ("echo fine", "failed_when: [r.rc != 0, \"'ERROR' in r.stdout\"]", "changed", True),
    ("echo ERROR", "failed_when: [r.rc == 0, \"'ERROR' in r.stdout\"]", "failed", True),
    ("echo ERROR", "failed_when: [r.rc != 0, \"'ERROR' in r.stdout\"]", "changed", True),
]


def test_changed_when_failed_when(site: Site) -> None:
    """Every CHANGED_FAILED_CASES row is one task (ignore_errors keeps the host going)."""
    tasks = ""
    for index, (command, keywords, _, _) in enumerate(CHANGED_FAILED_CASES):
        extra = "".join(f"\n  {line}" for line in keywords.splitlines())
        tasks += f"- name: case {index}\n  command: {command}\n  register: r\n  ignore_errors: true{extra}\n"
    run = site.run(play(tasks, hosts="h1"))
    for index, (command, keywords, status, changed) in enumerate(CHANGED_FAILED_CASES):
        result = run.result("h1", f"case {index}")
        assert (result.status, result.changed) == (status, changed), (command, keywords)


def test_failed_when_overrides_nonzero_rc_and_keeps_rc(site: Site) -> None:
    site.run(play("""
        - command: "sh -c 'exit 3'"
          register: r
          failed_when: false
        - copy: dest={{ root }}/rc content="{{ r.rc }} {{ r.failed }}"
    """, hosts="h1"))
    assert site.read("h1", "rc") == "3 False"


def test_ignore_errors_counts_ok_and_ignored_and_continues(site: Site) -> None:
    run = site.run(play("""
        - name: boom
          command: "false"
          ignore_errors: "{{ inventory_hostname != 'h3' }}"
        - name: after
          copy: dest={{ root }}/after content=x
    """))
    for host in ("h1", "h2"):
        assert run.counts(host) == {"ok": 2, "changed": 2, "failed": 0, "skipped": 0, "unreachable": 0,
                                    "ignored": 1, "rescued": 0}
        assert site.exists(host, "after")
        assert run.json["hosts"][host]["results"][0]["ignored"] is True
    assert run.counts("h3")["failed"] == 1 and not site.exists("h3", "after")
    assert run.json["hosts"]["h3"]["status"] == "failed"
    assert run.exit_code == 1


def test_until_retries_counts_attempts(site: Site) -> None:
    run = site.run(play("""
        - name: poll
          shell: "echo x >> {{ root }}/tries; wc -l < {{ root }}/tries"
          register: r
          until: r.stdout | int >= 3
          retries: 5
          delay: 0
        - copy: dest={{ root }}/attempts content="{{ r.attempts }}"
    """, hosts="h1"))
    assert run.status("h1", "poll") == "changed"
    assert site.read("h1", "tries").count("x") == 3
    assert site.read("h1", "attempts") == "3"


@pytest.mark.parametrize(("retries", "runs", "status"),
                         [("retries: 2", 3, "failed"), ("", 4, "failed"), ("retries: 0", 1, "changed")])
def test_until_gives_up_after_retries_plus_one(site: Site, retries: str, runs: int, status: str) -> None:
    """ansible-core: retries N means N + 1 runs, unset means 3 retries; 0 means one run, no until."""
    run = site.run(play(f"""
        - name: never
          shell: "echo x >> {{{{ root }}}}/tries"
          register: r
          until: false
          {retries}
          delay: 0
    """, hosts="h1"))
    result = run.result("h1", "never")
    assert result.status == status
    assert result.data.get("attempts", 1) == runs
    assert site.read("h1", "tries").count("x") == runs


def test_until_in_a_loop_retries_each_item(site: Site) -> None:
    run = site.run(play("""
        - name: per item
          shell: "echo x >> {{ root }}/{{ item }}; wc -l < {{ root }}/{{ item }}"
          register: r
          until: r.stdout | int >= 2
          retries: 3
          delay: 0
          loop: [a, b]
        - copy: dest={{ root }}/attempts content="{{ r.results | map(attribute='attempts') | list }}"
    """, hosts="h1"))
    assert run.status("h1", "per item") == "changed"
    assert site.read("h1", "attempts") == "[2, 2]"


def test_retries_without_until_retry_until_success(site: Site) -> None:
    run = site.run(play("""
        - name: flaky
          shell: "echo x >> {{ root }}/tries; test $(wc -l < {{ root }}/tries) -ge 2"
          register: r
          retries: 4
          delay: 0
    """, hosts="h1"))
    assert run.status("h1", "flaky") == "changed"
    assert run.result("h1", "flaky").data["attempts"] == 2
