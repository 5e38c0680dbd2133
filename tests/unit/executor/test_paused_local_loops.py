"""``loop_control.pause`` on a controller action's loop (the loops target): each item after the
pause, as Ansible runs it, so ``debug`` takes the time and ``set_fact`` items over ``now()`` see
it go by, each with the facts the items before it set."""

from __future__ import annotations

import time

from tests.unit.executor.conftest import Site, play


def test_a_debug_loop_pauses_between_items(site: Site) -> None:
    started = time.monotonic()
    run = site.run(play("""
        - name: paused
          debug: var=i
          with_sequence: count=3
          loop_control: {loop_var: i, pause: 0.5}
    """, hosts="h1"))
    assert time.monotonic() - started >= 1.0
    assert [item.status for item in run.result("h1", "paused").items or []] == ["ok", "ok", "ok"]


def test_set_fact_items_see_the_time_and_the_items_before(site: Site) -> None:
    run = site.run(play("""
        - set_fact:
            times: "{{ times | default([]) + [now(fmt='%s.%f')] }}"
          with_sequence: count=3
          loop_control: {pause: 0.4}
        - name: spread
          assert:
            that:
              - times | length == 3
              - times[2] | float - times[0] | float >= 0.8
              - now(utc=true).year >= 2024
    """, hosts="h1"))
    assert run.status("h1", "spread") == "ok"
