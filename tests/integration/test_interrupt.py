"""SIGINT/SIGTERM mid-run on the lab hosts, kept agents (the default) and direct connections:
the task in flight finishes, nothing starts after it, the recap and ``--json`` say what changed
and which handlers were notified but not run; those stay remembered on the hosts and run at the
next apply of the play (issue 13, items 2 and 3)."""

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
from tests.integration.conftest import HOSTS, ITLab, output, report, run_fleet

PLAYBOOK = """\
- hosts: all
  name: interrupt {name}
  gather_facts: false
  tasks:
    - name: config
      copy: {{content: "{{{{ stamp }}}}\\n", dest: {root}/unit.conf}}
      notify: restart
    - name: slow
      shell: sleep {seconds} && echo done > {root}/slow-done
    - name: after
      copy: {{content: "after\\n", dest: {root}/after}}
  handlers:
    - name: restart
      shell: echo restarted >> {root}/restarts
"""
STATE = "/var/lib/fleet/handlers.json"
_RUNS = itertools.count(1)


@pytest.fixture
def mode(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, str]]:
    """The default kept-agent mode (a private daemon) or --persist 0."""
    if request.param == "direct":
        yield {"FLEET_PERSIST": "0"}
        return
    env = {"FLEET_PERSIST": "60", "FLEET_MUX_DIR": str(tmp_path / "mux")}
    yield env
    fleet("mux", "stop", env=env)


def _start(*args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    """``fleet ARGS`` in the background (its own process group: a test's signal reaches only it)."""
    full = dict(os.environ, COLUMNS="200", NO_COLOR="1", TERM="dumb", **env)
    return subprocess.Popen([sys.executable, "-m", "fleet", *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, text=True, env=full, start_new_session=True)


def _wait_for(lab: ITLab, pattern: str, hosts: tuple[str, ...] = HOSTS, timeout: float = 60) -> None:
    """Until a process matching ``pattern`` (pgrep -f) runs on every host."""
    deadline = time.monotonic() + timeout
    waiting = list(hosts)
    while waiting and time.monotonic() < deadline:
        waiting = [h for h in waiting if lab.container(h).exec_run(["pgrep", "-f", pattern])[0] != 0]
        time.sleep(0.1)
    assert not waiting, f"{pattern!r} never ran on {waiting}"


def _setup(lab: ITLab, tmp_path: Path, seconds: float) -> tuple[str, Path, str]:
    name = f"{next(_RUNS)}-{os.getpid()}"
    root = f"/srv/test-interrupt-{name}"
    for host in HOSTS:
        lab.reset(host, root)
        lab.sh(host, f"mkdir -p {root}")
    playbook = tmp_path / f"interrupt-{name}.yml"
    sleep = f"{seconds}.{next(_RUNS):03d}"  # tells this run's sleep from any other
    playbook.write_text(PLAYBOOK.format(name=name, root=root, seconds=sleep))
    return root, playbook, f"^sleep {sleep}$"


def _pending(lab: ITLab, host: str, playbook: Path) -> list[dict]:
    if not lab.exists(host, STATE):
        return []
    return [r for r in json.loads(lab.read(host, STATE))["pending"] if r["play"].startswith(playbook.name + ":")]


def _next_apply_runs_the_handler(lab: ITLab, tmp_path: Path, playbook: Path, root: str, env: dict[str, str]) -> None:
    """The next apply (nothing left to change but 'after') runs the remembered handler once,
    says so, and leaves nothing pending."""
    result = run_fleet("apply", "-i", str(lab.inventory), str(playbook), "-e", "stamp=1",
                       "--json", str(tmp_path / "next.json"))
    assert result.returncode == 0, output(result)
    data = report(tmp_path / "next.json")
    for host in HOSTS:
        assert f"[{host}] running handler restart notified by an earlier run (since " in result.stdout
        assert lab.read(host, f"{root}/restarts") == "restarted\n"
        handler = [r for r in data["hosts"][host]["results"] if r["task"] == "restart"]
        assert len(handler) == 1 and handler[0]["earlier_run"]["notified_by"] == "config", handler
        assert data["hosts"][host]["pending_handlers"] == []
        assert _pending(lab, host, playbook) == []
    again = run_fleet("apply", "-i", str(lab.inventory), str(playbook), "-e", "stamp=1")
    assert again.returncode == 0, output(again)
    for host in HOSTS:
        assert lab.read(host, f"{root}/restarts") == "restarted\n"  # once, not at every apply


@pytest.mark.parametrize(("mode", "sig"), [("kept", signal.SIGINT), ("direct", signal.SIGINT),
                                           ("kept", signal.SIGTERM)], indirect=["mode"],
                         ids=["kept-SIGINT", "direct-SIGINT", "kept-SIGTERM"])
def test_an_interrupt_finishes_the_task_in_flight_and_starts_nothing_after_it(
        lab: ITLab, tmp_path: Path, mode: dict[str, str], sig: signal.Signals) -> None:
    root, playbook, sleeping = _setup(lab, tmp_path, 4)
    run = _start("apply", "-i", str(lab.inventory), str(playbook), "-e", "stamp=1", "--json",
                 str(tmp_path / "r.json"), env=mode)
    _wait_for(lab, sleeping)
    signalled = time.monotonic()
    run.send_signal(sig)
    out, _ = run.communicate(timeout=120)
    assert run.returncode == 128 + sig, out
    assert time.monotonic() - signalled < 30, out
    assert f"interrupted ({sig.name}): no task starts from now on" in out
    assert f"INTERRUPTED ({sig.name})" in out and "Traceback" not in out
    assert "handlers notified but not run:" in out
    data = report(tmp_path / "r.json")
    assert data["interrupted"] is True and data["signal"] == sig.name
    for host in HOSTS:
        entry = data["hosts"][host]
        assert [(r["task"], r["status"]) for r in entry["results"]] == [("config", "changed"), ("slow", "changed")]
        assert [(p["handler"], p["notified_by"], p["kept_on_host"], p["earlier_run"]) for p in entry["pending_handlers"]] \
            == [("restart", "config", True, False)]
        assert f"[{host}] restart (play {playbook.name}: interrupt" in out
        assert lab.read(host, f"{root}/slow-done") == "done\n"  # the task in flight finished
        assert lab.stat(host, STATE) == ("0600", "root", "root")
        assert lab.stat(host, "/var/lib/fleet") == ("0700", "root", "root")
        assert [r["handler"] for r in _pending(lab, host, playbook)] == ["restart"]
    time.sleep(8)  # long enough for a request that kept running to reach 'after'
    for host in HOSTS:
        assert not lab.exists(host, f"{root}/after"), f"a task ran on {host} after the interrupt"
        assert not lab.exists(host, f"{root}/restarts")
    _next_apply_runs_the_handler(lab, tmp_path, playbook, root, mode)


def test_a_second_sigint_aborts_at_once_and_the_hosts_still_stop_after_the_task_in_flight(
        lab: ITLab, tmp_path: Path) -> None:
    env = {"FLEET_PERSIST": "60", "FLEET_MUX_DIR": str(tmp_path / "mux")}
    try:
        root, playbook, sleeping = _setup(lab, tmp_path, 6)
        run = _start("apply", "-i", str(lab.inventory), str(playbook), "-e", "stamp=1", "--json",
                     str(tmp_path / "r.json"), env=env)
        _wait_for(lab, sleeping)
        signalled = time.monotonic()
        run.send_signal(signal.SIGINT)
        time.sleep(0.5)
        run.send_signal(signal.SIGINT)
        out, _ = run.communicate(timeout=60)
        assert run.returncode == 130, out
        assert time.monotonic() - signalled < 5, out  # at once, not after the 6 s task
        assert "SIGINT again: stopping now" in out and "INTERRUPTED (SIGINT)" in out, out
        data = report(tmp_path / "r.json")
        assert data["interrupted"] is True
        for host in HOSTS:
            assert data["hosts"][host]["in_flight"] == ["config", "slow", "after"]  # one pipelined request
            assert f"in flight on [{host}] when fleet stopped: 'config', 'slow', 'after'" in out
            assert not lab.exists(host, f"{root}/slow-done")  # still running when fleet exited
        time.sleep(10)
        for host in HOSTS:
            assert lab.read(host, f"{root}/slow-done") == "done\n"  # the host finished the task in flight
            assert not lab.exists(host, f"{root}/after"), f"a task ran on {host} after fleet went away"
            # the config change was never reported, but its handler was remembered on the host
            assert [r["handler"] for r in _pending(lab, host, playbook)] == ["restart"]
        _next_apply_runs_the_handler(lab, tmp_path, playbook, root, env)
    finally:
        fleet("mux", "stop", env=env)


def test_a_handler_notified_before_a_later_task_failed_runs_at_the_next_apply(lab: ITLab, tmp_path: Path) -> None:
    name = f"fail-{os.getpid()}"
    root = f"/srv/test-{name}"
    for host in HOSTS:
        lab.reset(host, root)
        lab.sh(host, f"mkdir -p {root}")
    playbook = tmp_path / f"{name}.yml"
    playbook.write_text(
        f"- hosts: all\n  name: {name}\n  gather_facts: false\n  tasks:\n"
        f"    - name: config\n      copy: {{content: \"{{{{ stamp }}}}\\n\", dest: {root}/unit.conf}}\n"
        f"      notify: restart\n"
        f"    - name: later\n      command: \"{{{{ later }}}}\"\n"
        f"    - name: verdict\n      assert: {{that: \"later == 'true'\"}}\n"
        f"  handlers:\n    - name: restart\n      shell: echo restarted >> {root}/restarts\n")

    def apply(mode: str, stamp: int, later: str, name: str) -> tuple[subprocess.CompletedProcess[str], dict]:
        result = run_fleet(mode, "-i", str(lab.inventory), str(playbook), "-e", f"stamp={stamp}", "-e",
                           f"later={later}", "--json", str(tmp_path / f"{name}.json"))
        return result, report(tmp_path / f"{name}.json")

    # check mode: the handler a failed host did not run is reported, never written on the host
    check, data = apply("check", 1, "false", "check")
    assert check.returncode == 1, output(check)
    for host in HOSTS:
        assert [(p["handler"], p["kept_on_host"]) for p in data["hosts"][host]["pending_handlers"]] \
            == [("restart", False)], output(check)
        assert "not kept on the host (check mode)" in check.stdout
        assert _pending(lab, host, playbook) == [] and not lab.exists(host, f"{root}/unit.conf")

    failed, data = apply("apply", 1, "false", "failed")
    assert failed.returncode == 1, output(failed)
    assert data["interrupted"] is False
    kept = {}
    for host in HOSTS:
        assert [(p["handler"], p["kept_on_host"]) for p in data["hosts"][host]["pending_handlers"]] \
            == [("restart", True)]
        assert f"[{host}] restart (play {playbook.name}: {name}; notified by 'config' in this run" in failed.stdout
        assert not lab.exists(host, f"{root}/restarts")
        assert [(r["handler"], r["task"]) for r in _pending(lab, host, playbook)] == [("restart", "config")]
        kept[host] = lab.read(host, STATE)

    # a check now runs the remembered handler in check mode, and still writes nothing
    check, data = apply("check", 1, "true", "check2")
    assert check.returncode in (0, 2), output(check)
    for host in HOSTS:
        assert f"[{host}] running handler restart notified by an earlier run" in check.stdout
        assert [p["earlier_run"] for p in data["hosts"][host]["pending_handlers"]] == [True]
        assert lab.read(host, STATE) == kept[host]
        assert not lab.exists(host, f"{root}/restarts")

    fixed, data = apply("apply", 1, "true", "fixed")
    assert fixed.returncode == 0, output(fixed)
    for host in HOSTS:
        assert f"[{host}] running handler restart notified by an earlier run" in fixed.stdout
        assert [(r["task"], r["status"]) for r in data["hosts"][host]["results"]] == [
            ("config", "ok"), ("later", "changed"), ("verdict", "ok"), ("restart", "changed")]
        assert data["hosts"][host]["pending_handlers"] == []
        assert lab.read(host, f"{root}/restarts") == "restarted\n"
        assert _pending(lab, host, playbook) == []


def test_a_login_user_keeps_its_own_pending_handlers_and_other_become_users_none(lab: ITLab, tmp_path: Path) -> None:
    """nosudo (no become) keeps them in its home; a task run as 'nobody' has its notification
    remembered by the login user's agent (root here); neither writes where it should not."""
    name = f"users-{os.getpid()}"
    root = f"/tmp/test-{name}"
    for host in HOSTS:
        lab.reset(host, root)
        lab.sh(host, f"mkdir -m 1777 {root}")
    playbook = tmp_path / f"{name}.yml"
    playbook.write_text(
        f"- hosts: all\n  name: {name}\n  gather_facts: false\n  tasks:\n"
        f"    - name: config\n      copy: {{content: \"{{{{ stamp }}}}\\n\", dest: \"{root}/{{{{ who }}}}.conf\"}}\n"
        f"      notify: restart\n"
        f"    - command: \"{{{{ later }}}}\"\n"
        f"  handlers:\n    - name: restart\n      shell: echo restarted >> {root}/restarts\n")
    nosudo = lab.derived(tmp_path / "nosudo.yml", group_vars={"ansible_user": "nosudo"})
    failed = run_fleet("apply", "-i", str(nosudo), str(playbook), "-e", "stamp=1", "-e", "who=nosudo",
                       "-e", "later=false")
    assert failed.returncode == 1, output(failed)
    home = "/home/nosudo/.local/state/fleet"
    for host in HOSTS:
        assert lab.stat(host, home) == ("0700", "nosudo", "nosudo")
        assert lab.stat(host, f"{home}/handlers.json") == ("0600", "nosudo", "nosudo")
        records = json.loads(lab.read(host, f"{home}/handlers.json"))["pending"]
        assert [(r["play"], r["handler"], r["host"]) for r in records] == [(f"{playbook.name}: {name}", "restart", host)]
        assert _pending(lab, host, playbook) == []  # nothing of nosudo's in root's state
    fixed = run_fleet("apply", "-i", str(nosudo), str(playbook), "-e", "stamp=1", "-e", "who=nosudo",
                      "-e", "later=true")
    assert fixed.returncode == 0, output(fixed)
    for host in HOSTS:
        assert f"[{host}] running handler restart notified by an earlier run" in fixed.stdout
        assert lab.read(host, f"{root}/restarts") == "restarted\n"
        assert not lab.exists(host, f"{home}/handlers.json")  # nothing pending any more

    as_nobody = tmp_path / "nobody.yml"
    as_nobody.write_text(playbook.read_text().replace("      notify: restart\n",
                                                      "      notify: restart\n      become: true\n"
                                                      "      become_user: nobody\n"))
    failed = run_fleet("apply", "-i", str(lab.inventory), str(as_nobody), "-e", "stamp=2", "-e", "who=nobody",
                       "-e", "later=false")
    assert failed.returncode == 1, output(failed)
    for host in HOSTS:
        assert lab.stat(host, f"{root}/nobody.conf")[1] == "nobody"
        assert [(r["handler"], r["task"]) for r in _pending(lab, host, as_nobody)] == [("restart", "config")]
        assert not lab.exists(host, "/nonexistent")  # nobody's "home": nothing was created for it
