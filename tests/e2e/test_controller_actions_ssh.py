"""Over the loopback sshd: Ansible's action plugins fleet implements reach a real SSH host --
raw through the transport (no agent), script shipped and run and removed, fetch copying each
host's file under dest/HOST/ -- and SIGINT during a pause ends the run at once (exit 130)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import fleet
from tests.e2e.conftest import Lab

PLAYBOOK = """\
- hosts: all
  gather_facts: false
  tasks:
    - raw: echo "raw on $(hostname)" > {{ root }}/raw.txt; echo said
      register: said
    - copy: {content: "{{ said.stdout }}", dest: "{{ root }}/raw-said"}
    - script: where.sh {{ root }}/script.txt
    - copy: {content: "{{ inventory_hostname }}\\n", dest: "{{ root }}/name"}
    - fetch: {src: "{{ root }}/name", dest: "%(fetched)s"}
"""


def test_raw_script_and_fetch_over_ssh(lab: Lab) -> None:
    site = lab.workdir / "site"
    (site / "files").mkdir(parents=True)
    (site / "files" / "where.sh").write_text('#!/bin/sh\necho "$0" > "$1"\n')
    fetched = lab.workdir / "fetched"
    (site / "site.yml").write_text(PLAYBOOK % {"fetched": fetched})
    for root in lab.roots.values():
        root.mkdir(parents=True)
    done = fleet("apply", "-i", str(lab.inventory), str(site / "site.yml"), "--persist", "0",
                 "--json", str(lab.workdir / "run.json"), timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    for host, root in lab.roots.items():
        assert (root / "raw-said").read_text() == "said\n"
        assert (root / "raw.txt").read_text().startswith("raw on ")
        shipped = Path((root / "script.txt").read_text().strip())
        assert shipped.name == "where.sh" and not shipped.parent.exists()  # nothing left behind
        assert (fetched / host / str(root).lstrip("/") / "name").read_text() == f"{host}\n"
    results = json.loads((lab.workdir / "run.json").read_text())["hosts"]["h1"]["results"]
    assert [(r["module"], r["status"]) for r in results] == [
        ("raw", "changed"), ("copy", "changed"), ("script", "changed"), ("copy", "changed"), ("fetch", "changed")]


def test_sigint_during_a_pause_ends_the_run(lab: Lab) -> None:
    playbook = lab.workdir / "pause.yml"
    playbook.write_text("- hosts: all\n  gather_facts: false\n  tasks:\n    - pause: {minutes: 5}\n"
                        "    - copy: {content: x, dest: '{{ root }}/after'}\n")
    for root in lab.roots.values():
        root.mkdir(parents=True)
    env = dict(os.environ, COLUMNS="200", NO_COLOR="1", TERM="dumb", FLEET_PERSIST="0")
    process = subprocess.Popen([sys.executable, "-m", "fleet", "apply", "-i", str(lab.inventory), str(playbook)],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                               text=True, env=env, start_new_session=True)
    time.sleep(3)
    started = time.monotonic()
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 130, output
    assert time.monotonic() - started < 20
    assert not any((root / "after").exists() for root in lab.roots.values())


def test_pause_asks_at_a_terminal(lab: Lab) -> None:
    """stdin a terminal: the prompt is shown, the answer typed is ``user_input``."""
    import pty
    import select

    playbook = lab.workdir / "ask.yml"
    answer = lab.workdir / "answer.txt"
    playbook.write_text("- hosts: h1\n  gather_facts: false\n  tasks:\n    - pause: {prompt: your name}\n"
                        "      register: answer\n"
                        f"    - copy: {{content: '{{{{ answer.user_input }}}}', dest: {answer}}}\n      delegate_to: h1\n")
    master, slave = pty.openpty()
    env = dict(os.environ, COLUMNS="200", NO_COLOR="1", TERM="dumb", FLEET_PERSIST="0")
    process = subprocess.Popen([sys.executable, "-m", "fleet", "apply", "-i", str(lab.inventory), str(playbook)],
                               stdin=slave, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    assert process.stdout is not None
    seen, deadline = b"", time.monotonic() + 60
    while b"your name:" not in seen and time.monotonic() < deadline and process.poll() is None:
        if select.select([process.stdout], [], [], 0.5)[0]:
            seen += os.read(process.stdout.fileno(), 4096)
    assert b"[pause]\nyour name:" in seen, seen
    os.write(master, b"alice\n")
    output, _ = process.communicate(timeout=60)
    os.close(master)
    os.close(slave)
    assert process.returncode == 0, seen + output
    assert answer.read_text() == "alice"


def test_a_host_cannot_make_fetch_write_outside_dest(lab: Lab) -> None:
    """Paths a host sent (registered output): a src climbing with '..' out of dest/HOST, and
    a dest computed from host data, are refused; nothing is written outside dest."""
    lab.roots["h1"].mkdir(parents=True)
    (lab.roots["h1"] / "name").write_text("x\n")
    fetched, outside = lab.workdir / "fetched", lab.workdir / "outside"
    playbook = lab.workdir / "evil.yml"
    playbook.write_text(
        "- hosts: h1\n  gather_facts: false\n  tasks:\n"
        "    - shell: echo {{ root }}/../../../../../../../../{{ root }}/name\n      register: climbing\n"
        f"    - shell: echo {outside}\n      register: there\n"
        f"    - fetch: {{src: '{{{{ climbing.stdout }}}}', dest: {fetched}}}\n      ignore_errors: true\n"
        "    - fetch: {src: '{{ root }}/name', dest: '{{ there.stdout }}', flat: true}\n      ignore_errors: true\n")
    done = fleet("apply", "-i", str(lab.inventory), str(playbook), "--persist", "0", "--json",
                 str(lab.workdir / "run.json"), timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    results = json.loads((lab.workdir / "run.json").read_text())["hosts"]["h1"]["results"]
    climbing, there = results[2], results[3]
    assert climbing["status"] == "failed" and "Detected directory traversal" in climbing["msg"]
    assert there["status"] == "failed" and "computed from data a host sent" in there["msg"]
    assert not outside.exists()
    assert not fetched.exists() or all(p.is_relative_to(fetched / "h1") for p in fetched.rglob("*") if p.is_file())
