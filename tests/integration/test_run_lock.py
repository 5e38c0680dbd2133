"""Two runs on the same lab hosts: the host's run lock, held by the agents of the first, makes
the second wait, name the holder, and fail those hosts when the wait runs out; ``--no-lock``
lets them interleave; kept agents let go of it when their run ends (issue 13, item 6)."""

from __future__ import annotations

import getpass
import os
import socket
import subprocess
import threading
import time
from pathlib import Path

from tests.conftest import fleet
from tests.integration.conftest import HOSTS, ITLab, output, report, run_fleet
from tests.integration.test_interrupt import _start, _wait_for

# The first run holds the lock until the test releases it (a file), never on a timer: on a
# loaded machine the steps between could take longer than any fixed hold.
HOLDER = """\
- hosts: all
  gather_facts: false
  tasks:
    - name: hold
      shell: "n=0; while [ ! -e {root}/release ] && [ $n -lt {ticks} ]; do sleep 0.1; n=$((n+1)); done; date +%s.%N > {root}/first-done"
"""
SECOND = """\
- hosts: all
  gather_facts: false
  tasks:
    - name: second
      shell: date +%s.%N > {root}/second-{tag}
"""


def _playbooks(lab: ITLab, tmp_path: Path, seconds: str) -> tuple[str, Path, Path]:
    root = f"/srv/test-lock-{os.getpid()}-{seconds.replace('.', '')}"
    for host in HOSTS:
        lab.reset(host, root)
        lab.sh(host, f"mkdir -p {root}")
    first, second = tmp_path / "first.yml", tmp_path / "second.yml"
    first.write_text(HOLDER.format(root=root, ticks=int(float(seconds) * 10)))
    second.write_text(SECOND.format(root=root, tag="{{ tag }}"))
    return root, first, second


def _lines_until(process: subprocess.Popen[str], text: str, timeout: float) -> str:
    """What ``process`` printed up to and including the first line holding ``text``."""
    seen: list[str] = []
    found = threading.Event()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            seen.append(line)
            if text in line:
                found.set()
                return

    threading.Thread(target=read, daemon=True).start()
    assert found.wait(timeout), f"{text!r} never printed: {''.join(seen)[-2000:]}"
    return "".join(seen)


def _stamp(lab: ITLab, host: str, path: str) -> float:
    return float(lab.read(host, path))


def test_a_second_run_waits_names_the_holder_then_fails_those_hosts(lab: ITLab, tmp_path: Path) -> None:
    root, first, second = _playbooks(lab, tmp_path, "600")
    holder = _start("apply", "-i", str(lab.inventory), str(first), env={"FLEET_PERSIST": "0"})
    try:
        _wait_for(lab, f"{root}/release")
        # another operator: logs in as 'fleet' and becomes root, as the first run is root
        other = lab.derived(tmp_path / "other.yml", group_vars={"ansible_user": "fleet"})
        started = time.monotonic()
        refused = run_fleet("apply", "-i", str(other), str(second), "-b", "-e", "tag=refused", "--lock-wait", "3",
                            "--json", str(tmp_path / "refused.json"))
        waited = time.monotonic() - started
        assert refused.returncode == 1, output(refused)
        assert 3 <= waited < 20, output(refused)
        who = f"{getpass.getuser()}@{socket.gethostname()} pid {holder.pid} since "
        data = report(tmp_path / "refused.json")
        for host in HOSTS:
            assert f"waiting for the lock on {host} held by {who}" in refused.stdout
            assert refused.stdout.count(f"waiting for the lock on {host} ") == 1  # once, not per poll
            message = data["hosts"][host]["results"][0]["msg"]
            assert message.startswith(f"{host} is locked by another fleet run: {who}"), message
            assert "(fleet apply); gave up after 3 s (--lock-wait SECONDS to wait longer, --no-lock to run anyway)" \
                in message
            assert data["hosts"][host]["status"] == "failed"
            assert not lab.exists(host, f"{root}/second-refused")  # nothing of it ran
            lock = lab.read(host, "/run/fleet/lock")
            assert f'"pid": {holder.pid}' in lock and '"command": "fleet apply"' in lock
        # with --no-lock it runs at once, in the middle of the first run
        interleaved = run_fleet("apply", "-i", str(lab.inventory), str(second), "--no-lock", "-e", "tag=nolock")
        assert interleaved.returncode == 0, output(interleaved)
        for host in HOSTS:
            assert lab.exists(host, f"{root}/second-nolock")
            assert not lab.exists(host, f"{root}/first-done")
        # a run that may wait long enough runs right after the first: released once it waits
        waiting = _start("apply", "-i", str(lab.inventory), str(second), "-e", "tag=waited", env={})
        lines = _lines_until(waiting, "waiting for the lock on", timeout=300)
        for host in HOSTS:
            lab.sh(host, f"touch {root}/release")
        rest, _ = waiting.communicate(timeout=300)
        waiter = subprocess.CompletedProcess(waiting.args, waiting.returncode, lines + rest, "")
        assert waiter.returncode == 0, output(waiter)
        out, _ = holder.communicate(timeout=60)
        assert holder.returncode == 0, out
        for host in HOSTS:
            assert _stamp(lab, host, f"{root}/second-waited") >= _stamp(lab, host, f"{root}/first-done")
            assert _stamp(lab, host, f"{root}/second-nolock") < _stamp(lab, host, f"{root}/first-done")
            assert "waiting for the lock on" in waiter.stdout
            assert lab.read(host, "/run/fleet/lock") == ""  # let go, and no stale holder named
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()


def test_kept_agents_let_go_of_the_lock_when_their_run_ends(lab: ITLab, tmp_path: Path) -> None:
    root, first, second = _playbooks(lab, tmp_path, "0.2")
    env = {"FLEET_PERSIST": "60", "FLEET_MUX_DIR": str(tmp_path / "mux")}
    try:
        kept = fleet("apply", "-i", str(lab.inventory), str(first), env=env, timeout=180)
        assert kept.returncode == 0, output(kept)
        assert "3 idle agent(s)" in fleet("mux", "status", env=env).stdout
        direct = run_fleet("apply", "-i", str(lab.inventory), str(second), "-e", "tag=direct", "--lock-wait", "2")
        assert direct.returncode == 0, output(direct)
        assert "waiting for the lock" not in direct.stdout
        # the kept agents take it again for the next run that leases them
        again = fleet("apply", "-i", str(lab.inventory), str(second), "-e", "tag=kept", env=env, timeout=180)
        assert again.returncode == 0, output(again)
    finally:
        fleet("mux", "stop", env=env)
