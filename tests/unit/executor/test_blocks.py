"""block/rescue/always: what runs, what the host's state is afterwards, and how the recap counts it."""

from __future__ import annotations

from tests.unit.executor.conftest import Site, play

TRACE = "shell: echo {name} >> {{{{ root }}}}/trace"


def _trace(name: str) -> str:
    return TRACE.format(name=name)


def test_failure_in_block_runs_rescue_then_always_and_host_continues(site: Site) -> None:
    run = site.run(play(f"""
        - block:
            - {_trace("b1")}
            - name: breaks
              command: "false"
              when: inventory_hostname == 'h1'
            - {_trace("b2")}
          rescue:
            - {_trace("r1")}
            - name: why
              copy:
                dest: "{{{{ root }}}}/why"
                content: "{{{{ ansible_failed_task.name }}}}|{{{{ ansible_failed_result.rc }}}}"
          always:
            - {_trace("a1")}
        - {_trace("after")}
    """))
    assert site.read("h1", "trace").split() == ["b1", "r1", "a1", "after"]
    assert site.read("h1", "why") == "breaks|1"
    assert site.read("h2", "trace").split() == ["b1", "b2", "a1", "after"]
    counts = run.counts("h1")
    assert counts["failed"] == 0 and counts["rescued"] == 1
    assert run.json["hosts"]["h1"]["status"] == "changed"
    assert run.json["hosts"]["h1"]["counts"]["rescued"] == 1
    breaks = [r for r in run.json["hosts"]["h1"]["results"] if r["task"] == "breaks"][0]
    assert breaks["status"] == "failed" and breaks["rescued"] is True
    assert run.exit_code == 0


def test_failure_in_rescue_fails_the_host_but_always_runs(site: Site) -> None:
    run = site.run(play(f"""
        - block:
            - command: "false"
          rescue:
            - name: rescue fails too
              command: "false"
            - {_trace("r2")}
          always:
            - {_trace("a1")}
        - {_trace("after")}
    """, hosts="h1"))
    assert site.read("h1", "trace").split() == ["a1"]
    assert run.counts("h1")["failed"] == 1 and run.counts("h1")["rescued"] == 1
    assert run.json["hosts"]["h1"]["status"] == "failed"
    assert run.exit_code == 1


def test_block_without_rescue_fails_host_after_always(site: Site) -> None:
    run = site.run(play(f"""
        - block:
            - command: "false"
          always:
            - {_trace("a1")}
        - {_trace("after")}
    """, hosts="h1"))
    assert site.read("h1", "trace").split() == ["a1"]
    assert run.counts("h1")["failed"] == 1
    assert run.exit_code == 1


def test_nested_blocks_inner_rescue_handles_inner_failure(site: Site) -> None:
    run = site.run(play(f"""
        - block:
            - block:
                - command: "false"
              rescue:
                - {_trace("inner-rescue")}
              always:
                - {_trace("inner-always")}
            - {_trace("outer-next")}
            - block:
                - name: second failure
                  command: "false"
              always:
                - {_trace("inner2-always")}
            - {_trace("never")}
          rescue:
            - {_trace("outer-rescue")}
          always:
            - {_trace("outer-always")}
        - {_trace("after")}
    """, hosts="h1"))
    assert site.read("h1", "trace").split() == [
        "inner-rescue", "inner-always", "outer-next", "inner2-always", "outer-rescue", "outer-always", "after"]
    assert run.counts("h1")["rescued"] == 2 and run.counts("h1")["failed"] == 0
    assert run.exit_code == 0


def test_block_keywords_are_inherited(site: Site) -> None:
    run = site.run(play("""
        - block:
            - copy: dest={{ root }}/{{ name }} content={{ name }}
              name: written
          when: inventory_hostname != 'h3'
          vars:
            name: from-block
    """))
    assert site.read("h1", "from-block") == "from-block"
    assert run.status("h3", "written") == "skipped"


def test_ignored_error_in_block_does_not_trigger_rescue(site: Site) -> None:
    site.run(play(f"""
        - block:
            - command: "false"
              ignore_errors: true
            - {_trace("b2")}
          rescue:
            - {_trace("rescue")}
    """, hosts="h1"))
    assert site.read("h1", "trace").split() == ["b2"]


def test_rescued_host_keeps_running_later_plays(site: Site) -> None:
    run = site.run(f"""
        - hosts: h1
          gather_facts: false
          tasks:
            - block:
                - command: "false"
              rescue:
                - debug: msg=rescued
        - hosts: h1
          gather_facts: false
          tasks:
            - {_trace("second-play")}
    """)
    assert site.read("h1", "trace").split() == ["second-play"]
    assert run.exit_code == 0


def test_rescue_sees_the_failed_loop_result(site: Site) -> None:
    site.run(play("""
        - block:
            - command: "test {{ item }} != b"
              loop: [a, b]
          rescue:
            - copy:
                dest: "{{ root }}/why"
                content: "{{ ansible_failed_result.msg }}|{{ ansible_failed_result.results | map(attribute='rc') | list }}"
    """, hosts="h1"))
    assert site.read("h1", "why") == "One or more items failed|[0, 1]"
