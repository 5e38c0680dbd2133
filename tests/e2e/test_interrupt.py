"""Over the loopback sshd: SIGINT mid-run (kept agents and --persist 0) finishes the task in
flight and starts nothing after it, the handler it left runs at the next apply; a second run
waits for the first one's lock, names it and fails, or interleaves with --no-lock (issue 13,
items 2, 3, 6; the lab tests in tests/integration/test_interrupt.py and test_run_lock.py run
the same on three machines)."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import fleet
from tests.e2e.conftest import Lab

PLAYBOOK = """\
- hosts: all
  name: e2e interrupt
  gather_facts: false
  tasks:
    - name: config
      copy: {{content: "{{{{ stamp }}}}\\n", dest: "{{{{ root }}}}/unit.conf"}}
      notify: restart
    - name: slow
      shell: sleep {sleep} && echo done > {{{{ root }}}}/slow-done
    - name: after
      copy: {{content: "after\\n", dest: "{{{{ root }}}}/after"}}
  handlers:
    - name: restart
      shell: echo restarted >> {{{{ root }}}}/restarts
"""
_RUNS = itertools.count(1)


@pytest.fixture(params=["kept", "direct"])
def mode(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, str]]:
    if request.param == "direct":
        yield {"FLEET_PERSIST": "0"}
        return
    env = {"FLEET_PERSIST": "60", "FLEET_MUX_DIR": str(tmp_path / "mux")}
    yield env
    fleet("mux", "stop", env=env)


def _sleep(seconds: int) -> str:
    return f"{seconds}.{os.getpid() % 1000:03d}{next(_RUNS):03d}"  # this run's sleep, not another test's


def _start(*args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    full = dict(os.environ, COLUMNS="200", NO_COLOR="1", TERM="dumb", **env)
    return subprocess.Popen([sys.executable, "-m", "fleet", *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, text=True, env=full, start_new_session=True)


def _wait_for(sleep: str, count: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = subprocess.run(["pgrep", "-f", f"^sleep {sleep}$"], capture_output=True, text=True).stdout.split()
        if len(found) >= count:
            return
        time.sleep(0.05)
    raise AssertionError(f"sleep {sleep} did not start on {count} hosts")


def test_sigint_finishes_the_task_in_flight_and_the_handler_runs_at_the_next_apply(
        lab: Lab, mode: dict[str, str]) -> None:
    sleep = _sleep(3)
    playbook = lab.workdir / "interrupt.yml"
    playbook.write_text(PLAYBOOK.format(sleep=sleep))
    for root in lab.roots.values():
        root.mkdir(parents=True, exist_ok=True)
    run = _start("apply", "-i", str(lab.inventory), str(playbook), "-e", "stamp=1", "--json",
                 str(lab.workdir / "r.json"), env=mode)
    _wait_for(sleep, 3)
    run.send_signal(signal.SIGINT)
    out, _ = run.communicate(timeout=90)
    assert run.returncode == 130, out
    assert "INTERRUPTED (SIGINT)" in out and "handlers notified but not run:" in out, out
    data = json.loads((lab.workdir / "r.json").read_text())
    assert data["interrupted"] is True and data["signal"] == "SIGINT"
    for host, root in lab.roots.items():
        assert [r["task"] for r in data["hosts"][host]["results"]] == ["config", "slow"]
        assert [p["handler"] for p in data["hosts"][host]["pending_handlers"]] == ["restart"]
        assert (root / "slow-done").read_text() == "done\n"
    time.sleep(5)
    for root in lab.roots.values():
        assert not (root / "after").exists() and not (root / "restarts").exists()

    again = fleet("apply", "-i", str(lab.inventory), str(playbook), "-e", "stamp=1")
    assert again.returncode == 0, again.stdout + again.stderr
    for host, root in lab.roots.items():
        assert f"[{host}] running handler restart notified by an earlier run (since " in again.stdout
        assert (root / "restarts").read_text() == "restarted\n"


def test_a_second_run_waits_for_the_lock_names_its_holder_and_fails_or_interleaves_with_no_lock(lab: Lab) -> None:
    sleep = _sleep(20)
    holder_book, other_book = lab.workdir / "holder.yml", lab.workdir / "other.yml"
    holder_book.write_text(f"- hosts: all\n  gather_facts: false\n  tasks:\n    - shell: sleep {sleep}\n")
    other_book.write_text("- hosts: all\n  gather_facts: false\n  tasks:\n"
                          "    - copy: {content: x, dest: \"{{ root }}/{{ tag }}\"}\n")
    for root in lab.roots.values():
        root.mkdir(parents=True, exist_ok=True)
    holder = _start("apply", "-i", str(lab.inventory), str(holder_book), env={"FLEET_PERSIST": "0"})
    try:
        _wait_for(sleep, 3)
        # a wait for the lock longer than the task timeout's wait for an answer (1 s + 5 s) is
        # not taken for a hung agent: the agent says it is still waiting
        refused = fleet("apply", "-i", str(lab.inventory), str(other_book), "-e", "tag=refused", "--lock-wait", "8",
                        "--timeout", "1")
        assert refused.returncode == 1, refused.stdout + refused.stderr
        assert "gave up after 8 s" in refused.stdout and "timed out" not in refused.stdout, refused.stdout
        for host, root in lab.roots.items():
            assert f"waiting for the lock on {host} held by " in refused.stdout
            assert f"{host} is locked by another fleet run: " in refused.stdout
            assert f" pid {holder.pid} since " in refused.stdout
            assert not (root / "refused").exists()
        interleaved = fleet("apply", "-i", str(lab.inventory), str(other_book), "-e", "tag=nolock", "--no-lock")
        assert interleaved.returncode == 0, interleaved.stdout + interleaved.stderr
        assert holder.poll() is None  # the first run is still going
        for root in lab.roots.values():
            assert (root / "nolock").read_text() == "x"
    finally:
        holder.communicate(timeout=60)
    assert holder.returncode == 0
