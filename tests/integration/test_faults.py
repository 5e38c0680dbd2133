"""Faults on real hosts: the others finish, nothing is half-written, one clear message per host.

Hosts broken here (stopped, cut off) are brought back by the ``lab`` fixture afterwards.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.integration.conftest import HOSTS, SMALL, ITLab, output, report, run_fleet

SLOW_PLAYBOOK = """\
- hosts: all
  gather_facts: false
  tasks:
    - name: directory
      file: {{path: {root}, state: directory}}
    - name: slow
      command: sleep {seconds}
    - name: after
      copy: {{content: "done {{{{ inventory_hostname }}}}\\n", dest: {root}/done}}
"""
_RUNS = itertools.count(1)


def _when_sleeping(lab: ITLab, host: str, seconds: str, action: Callable[[], object]) -> threading.Thread:
    """Run ``action`` in a thread as soon as the slow task's ``sleep SECONDS`` runs on ``host``."""
    errors: list[BaseException] = []

    def run() -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if lab.container(host).exec_run(["pgrep", "-f", f"^sleep {seconds}$"])[0] == 0:
                break
            time.sleep(0.1)
        time.sleep(0.3)
        try:
            action()
        except BaseException as exc:  # handed to the test
            errors.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.errors = errors  # type: ignore[attr-defined]
    thread.start()
    return thread


def _slow_run(lab: ITLab, tmp_path: Path, connection: str, name: str, fault: Callable[[], object],
              *extra: str) -> tuple[dict, str, float]:
    """Run SLOW_PLAYBOOK under /srv/test-NAME; ``fault`` strikes itest2 while it sleeps."""
    root = f"/srv/test-{name}"
    for host in HOSTS:
        lab.reset(host, root)
    playbook = tmp_path / "slow.yml"
    seconds = f"3.{next(_RUNS):03d}"  # tells this run's sleep from a leftover one
    playbook.write_text(SLOW_PLAYBOOK.format(root=root, seconds=seconds))
    thread = _when_sleeping(lab, "itest2", seconds, fault)
    started = time.monotonic()
    result = run_fleet("apply", "-i", str(lab.inventory_for(connection)), str(playbook), *extra,
                       "--json", str(tmp_path / "r.json"), timeout=120)
    elapsed = time.monotonic() - started
    thread.join()
    assert not thread.errors, thread.errors  # type: ignore[attr-defined]
    assert result.returncode == 1, output(result)
    data = report(tmp_path / "r.json")
    for host in ("itest1", "itest3"):  # the others converge
        assert data["hosts"][host]["status"] == "changed"
        assert lab.read(host, f"{root}/done") == f"done {host}\n"
        assert lab.sh(host, f"ls -A {root}").split() == ["done"]  # no temp files
    broken = data["hosts"]["itest2"]
    assert [r["task"] for r in broken["results"]] == ["directory", "slow"]
    assert "itest2" in result.stdout and "Traceback" not in output(result)
    return broken, result.stdout, elapsed


def _leftovers(lab: ITLab, host: str, root: str) -> list[str]:
    return lab.sh(host, f"find {root} -name '.fleet-*'").split()


def test_host_stopped_before_the_run_is_unreachable_and_the_others_converge(
        lab: ITLab, connection: str, tmp_path: Path) -> None:
    root = "/srv/test-stopped-before"
    for host in HOSTS:
        lab.reset(host, root)
    lab.container("itest3").stop(timeout=5)
    playbook = tmp_path / "p.yml"
    playbook.write_text(SLOW_PLAYBOOK.format(root=root, seconds=0))
    result = run_fleet("apply", "-i", str(lab.inventory_for(connection)), str(playbook),
                       "--json", str(tmp_path / "r.json"), timeout=120)
    assert result.returncode == 1, output(result)
    data = report(tmp_path / "r.json")
    assert data["hosts"]["itest1"]["status"] == data["hosts"]["itest2"]["status"] == "changed"
    dead = data["hosts"]["itest3"]
    assert dead["status"] == "unreachable"
    message = dead["results"][0]["msg"]
    if connection == "ssh":
        assert message.startswith(f"cannot connect to {lab.ip('itest3')}:22: "), message  # no answer / no route
    else:
        assert "fleet-itest-3" in message and "not running" in message, message
    assert "unreachable: [itest3]" in result.stdout and message.split(":")[0] in result.stdout
    assert data["summary"]["unreachable"] == 1
    for host in ("itest1", "itest2"):
        assert lab.read(host, f"{root}/done") == f"done {host}\n"


def test_host_stopped_mid_run(lab: ITLab, connection: str, tmp_path: Path) -> None:
    broken, stdout, elapsed = _slow_run(lab, tmp_path, connection, f"stopped-{connection}",
                                        lambda: lab.container("itest2").stop(timeout=5), "--timeout", "20")
    assert broken["status"] == "unreachable"
    message = broken["results"][-1]["msg"]
    expected = "connection to the host lost" if connection == "ssh" else "the agent on the host was killed"
    assert expected in message, message
    assert f"unreachable: [itest2] => {expected}" in stdout
    assert elapsed < 60


def test_host_cut_from_the_network_mid_run(lab: ITLab, tmp_path: Path) -> None:
    network = lab.lab.client.networks.get(lab.lab.spec.network)
    broken, stdout, elapsed = _slow_run(lab, tmp_path, "ssh", "netcut",
                                        lambda: network.disconnect(lab.container("itest2")),
                                        "--timeout", "4")
    assert broken["status"] in ("failed", "unreachable")
    message = broken["results"][-1]["msg"]
    assert "timed out" in message or "connection to the host lost" in message, message
    print(f"network cut: itest2 reported as {broken['status']!r}: {message} (run took {elapsed:.1f} s)")
    assert elapsed < 40  # --timeout 4: bounded, not TCP's retransmission timeout


def test_agent_killed_mid_run(lab: ITLab, connection: str, tmp_path: Path) -> None:
    name = f"agentkill-{connection}"

    def kill_agent() -> None:
        code, out = lab.container("itest2").exec_run(["pkill", "-f", "FLEET-AGENT-READY"])
        assert code == 0, f"no agent to kill on itest2: {out!r}"

    broken, stdout, _ = _slow_run(lab, tmp_path, connection, name, kill_agent)
    assert broken["status"] == "unreachable"
    message = broken["results"][-1]["msg"]
    assert "the agent on the host was killed (SIGTERM)" in message, message
    assert not lab.exists("itest2", f"/srv/test-{name}/done")
    assert _leftovers(lab, "itest2", f"/srv/test-{name}") == []


def test_full_disk_keeps_the_old_file_and_leaves_no_temp_files(lab: ITLab, tmp_path: Path) -> None:
    for host in HOSTS:
        lab.sh(host, f"rm -rf {SMALL}/test-disk")
    playbook = tmp_path / "disk.yml"
    playbook.write_text(
        "- hosts: all\n  gather_facts: false\n  tasks:\n"
        f"    - file: {{path: {SMALL}/test-disk, state: directory}}\n"
        f"    - copy: {{content: \"{{{{ 'o' * 20000 }}}}\", dest: {SMALL}/test-disk/data}}\n"
    )
    first = run_fleet("apply", "-i", str(lab.inventory), str(playbook))
    assert first.returncode == 0, output(first)
    old = lab.sh("itest1", f"md5sum {SMALL}/test-disk/data").split()[0]

    # itest1 gets more than its 64 KiB tmpfs holds; the others a small change.
    playbook.write_text(
        "- hosts: all\n  gather_facts: false\n  tasks:\n"
        f"    - copy: {{content: \"{{{{ ('N' * 100000) if inventory_hostname == 'itest1' else 'small' }}}}\",\n"
        f"             dest: {SMALL}/test-disk/data}}\n"
    )
    result = run_fleet("apply", "-i", str(lab.inventory), str(playbook), "--json", str(tmp_path / "r.json"))
    assert result.returncode == 1, output(result)
    data = report(tmp_path / "r.json")
    failed = data["hosts"]["itest1"]
    assert failed["status"] == "failed"
    assert failed["results"][0]["msg"] == f"cannot write {SMALL}/test-disk/data: No space left on device"
    assert "No space left on device" in result.stdout
    assert lab.sh("itest1", f"md5sum {SMALL}/test-disk/data").split()[0] == old  # the old file is intact
    assert lab.sh("itest1", f"ls -A {SMALL}/test-disk").split() == ["data"]  # no temp file left
    for host in ("itest2", "itest3"):
        assert data["hosts"][host]["status"] == "changed"
        assert lab.read(host, f"{SMALL}/test-disk/data") == "small"


@pytest.mark.parametrize("connection", ["ssh", "docker"])
def test_task_timeout_fails_the_task_and_the_next_task_runs(
        lab: ITLab, connection: str, tmp_path: Path) -> None:
    root = f"/srv/test-timeout-{connection}"
    for host in HOSTS:
        lab.reset(host, root)
        lab.sh(host, f"mkdir -p {root} && mkfifo {root}/fifo")
    playbook = tmp_path / "timeout.yml"
    playbook.write_text(
        "- hosts: all\n  gather_facts: false\n  tasks:\n"
        "    - name: a command past the timeout\n      command: sleep 30\n      ignore_errors: true\n"
        "    - name: a module stuck reading a FIFO\n"
        f"      lineinfile: {{path: {root}/fifo, line: x}}\n      ignore_errors: true\n"
        "    - name: next\n"
        f"      copy: {{content: \"next\\n\", dest: {root}/next}}\n"
    )
    started = time.monotonic()
    result = run_fleet("apply", "-i", str(lab.inventory_for(connection)), str(playbook), "--timeout", "2",
                       "--json", str(tmp_path / "r.json"), timeout=120)
    elapsed = time.monotonic() - started
    assert result.returncode == 0, output(result)  # both failures are ignored
    data = report(tmp_path / "r.json")
    for host in HOSTS:
        results = {r["task"]: r for r in data["hosts"][host]["results"]}
        assert results["a command past the timeout"]["status"] == "failed"
        assert "timed out" in results["a command past the timeout"]["msg"]
        assert results["a module stuck reading a FIFO"]["status"] == "failed"
        assert "timed out" in results["a module stuck reading a FIFO"]["msg"]
        assert results["next"]["status"] == "changed"
        assert lab.read(host, f"{root}/next") == "next\n"
        assert "sleep 30" not in lab.sh(host, "ps -eo args"), "the timed-out command is still running"
        agents = lab.container(host).exec_run(["pgrep", "-f", "FLEET-AGENT-READY"])[1].split()
        assert agents == [], "an agent lingers after the run"
    assert "timed out" in result.stdout
    assert elapsed < 40, f"took {elapsed:.0f} s"
