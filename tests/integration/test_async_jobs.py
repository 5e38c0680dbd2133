"""async/poll on real hosts over ssh with become: a fired job outlives the run and its connection,
its job file is in the become user's home (root's) or the login user's without become; a polled
job gives the module's result; one past its limit fails and leaves no process behind."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

from tests.integration.conftest import HOSTS, ITLab, output, report, run_fleet

PLAYBOOK = """\
- hosts: all
  gather_facts: false
  tasks:
    - name: fired
      shell: sleep 3; id -un > /srv/test-async/who-root
      async: 60
      poll: 0
      become: true
      register: fired
    - name: fired without become
      command: id -un
      async: 60
      poll: 0
      register: plain
    - name: polled
      command: echo polled
      async: 30
      poll: 1
      become: true
      register: polled
    - name: past its limit
      shell: sleep 61.75
      async: 2
      poll: 1
      become: true
      ignore_errors: true
    - name: record
      copy:
        dest: /srv/test-async/results
        content: "{{ {'fired': fired, 'plain': plain, 'polled': polled} | to_json }}"
      become: true
"""


def _wait(lab: ITLab, host: str, path: str, seconds: float = 20) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if lab.exists(host, path):
            return True
        time.sleep(0.5)
    return False


def test_async_jobs_over_ssh_with_become(lab: ITLab, tmp_path: Path) -> None:
    for host in HOSTS:
        lab.reset(host, "/srv/test-async")
        lab.sh(host, "mkdir -p /srv/test-async")
    inventory = lab.derived(tmp_path / "inv.yml", group_vars={"ansible_user": "fleet"})
    playbook = tmp_path / "async.yml"
    playbook.write_text(PLAYBOOK)
    result = run_fleet("apply", "-i", str(inventory), str(playbook), "--persist", "0",
                       "--json", str(tmp_path / "r.json"))
    assert result.returncode == 0, output(result)
    data = report(tmp_path / "r.json")
    for host in HOSTS:
        statuses = {r["task"]: r["status"] for r in data["hosts"][host]["results"]}
        assert statuses["past its limit"] == "failed", statuses
        assert statuses["polled"] == "changed"
        results = json.loads(lab.read(host, "/srv/test-async/results"))
        assert results["polled"]["stdout"] == "polled" and results["polled"]["finished"] is True
        fired, plain = results["fired"], results["plain"]
        assert fired["results_file"] == "/root/.ansible_async/" + fired["ansible_job_id"]
        assert plain["results_file"] == "/home/fleet/.ansible_async/" + plain["ansible_job_id"]
        # the run (and its ssh connection) is over; the job finishes on its own
        assert _wait(lab, host, "/srv/test-async/who-root"), lab.sh(host, "ps aux")
        assert lab.read(host, "/srv/test-async/who-root") == "root\n"
        end = time.monotonic() + 20
        while "started" in (job := json.loads(lab.read(host, fired["results_file"]))) and time.monotonic() < end:
            time.sleep(0.5)  # the job writes its result after its command ended
        assert (job["rc"], job["changed"]) == (0, True), job
        assert lab.container(host).exec_run(["pgrep", "-f", "^sleep 61.75$"])[0] == 1  # none left


def test_a_host_lost_while_polling_ends_the_task_in_bounded_time(lab: ITLab, tmp_path: Path) -> None:
    playbook = tmp_path / "lost.yml"
    playbook.write_text("- hosts: itest2\n  gather_facts: false\n  tasks:\n"
                        "    - name: waited\n      command: sleep 30.625\n      async: 25\n      poll: 2\n")

    def stop_when_sleeping() -> None:
        end = time.monotonic() + 60
        while time.monotonic() < end:
            if lab.container("itest2").exec_run(["pgrep", "-f", "^sleep 30.625$"])[0] == 0:
                lab.container("itest2").stop(timeout=5)
                return
            time.sleep(0.2)

    striker = threading.Thread(target=stop_when_sleeping, daemon=True)
    striker.start()
    started = time.monotonic()
    result = run_fleet("apply", "-i", str(lab.inventory), str(playbook), "--persist", "0", "--timeout", "10",
                       "--json", str(tmp_path / "r.json"))
    elapsed = time.monotonic() - started
    striker.join(60)
    host = report(tmp_path / "r.json")["hosts"]["itest2"]
    assert host["status"] == "unreachable", output(result)
    assert "itest2" in result.stdout
    assert elapsed < 75, elapsed  # async 25 s of polls, then one connection attempt at most
