"""``reboot`` and ``wait_for_connection`` over the loopback sshd (issue 15), the same playbook
run by ansible-playbook: the host's "reboot" is a script this test controls (it writes a new
boot id a second later and kills the process that ran it, as a going-down host cuts the
connection: fleet's agent, Ansible's ssh session), so the new boot is seen by
``boot_time_command`` changing, Ansible's way, and fleet must drop and remake its agent."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import fleet, require
from tests.e2e.conftest import Lab

FAKE_REBOOT = """\
#!/bin/sh
# a new boot id a second from now, and the connection cut now (the process that ran us dies)
setsid sh -c 'sleep 1; echo "boot-$(date +%s%N)" > "$0/boot_id"' "$1" </dev/null >/dev/null 2>&1 &
kill -KILL "$(cut -d' ' -f4 /proc/$PPID/stat)"
exit 0
"""

PLAY = """\
- hosts: h1
  gather_facts: false
  tasks:
    - wait_for_connection: {timeout: 30, sleep: 1}
      register: waited
    - name: reboot
      reboot:
        boot_time_command: "cat {{ root }}/boot_id"
        reboot_command: "{{ root }}/fake-reboot {{ root }}"
        reboot_timeout: 60
        test_command: "test -s {{ root }}/boot_id"
      register: rebooted
    - name: after
      command: "cat {{ root }}/boot_id"
      register: after
    - name: no new boot
      reboot: {boot_time_command: "cat {{ root }}/boot_id", reboot_command: /bin/true, reboot_timeout: 2}
      register: timed
      ignore_errors: true
    - name: bad boot time command
      reboot: {boot_time_command: "false", reboot_command: /bin/true}
      register: bad
      ignore_errors: true
    - name: check mode
      reboot: {reboot_command: /bin/false}
      check_mode: true
      register: checked
    - copy:
        dest: "{{ root }}/registered.json"
        content: "{{ {'waited': waited, 'rebooted': rebooted, 'timed': timed, 'bad': bad, 'checked': checked,
                      'new_boot': after.stdout != first_boot} | to_nice_json }}"
"""


@pytest.fixture(autouse=True)
def ansible_installed() -> None:
    require(importlib.util.find_spec("ansible") is not None, "ansible-core is not installed (pip install '.[test]')")


def _prepare(root: Path) -> str:
    root.mkdir(parents=True, exist_ok=True)
    (root / "boot_id").write_text("boot-first\n")
    script = root / "fake-reboot"
    script.write_text(FAKE_REBOOT)
    script.chmod(0o755)
    return "boot-first"


def _registered(root: Path) -> dict[str, Any]:
    seen = json.loads((root / "registered.json").read_text())
    for name in ("waited", "rebooted", "timed"):
        assert isinstance(seen[name].pop("elapsed"), int)
    for value in seen.values():
        if isinstance(value, dict):
            value.pop("exception", None)  # ansible-core's "(traceback unavailable)" of a failed action
    # what Ansible's ssh client adds to a raw command's stderr
    seen["bad"]["msg"] = seen["bad"]["msg"].replace("Shared connection to 127.0.0.1 closed.", "").rstrip()
    return seen


def test_reboot_and_wait_for_connection_as_ansible(lab: Lab, tmp_path: Path) -> None:
    root = lab.roots["h1"]
    first = _prepare(root)
    playbook = lab.workdir / "site.yml"
    playbook.write_text(PLAY)
    done = fleet("apply", "-i", str(lab.inventory), str(playbook), "-e", f"first_boot={first}",
                 "--json", str(tmp_path / "report.json"), timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    ours = _registered(root)
    assert ours["rebooted"] == {"changed": True, "failed": False, "rebooted": True}
    assert ours["new_boot"] is True  # the task after it ran on the new "boot", over a new agent
    assert ours["timed"]["msg"] == "Timed out waiting for last boot time check (timeout=2)"
    assert ours["bad"]["msg"] == "reboot: failed to get host boot time info, rc: 1, stdout: , stderr:"
    assert ours["checked"] == {"changed": True, "failed": False, "elapsed": 0, "rebooted": True}
    assert ours["waited"] == {"changed": False, "failed": False}

    _prepare(root)
    env = dict(os.environ, ANSIBLE_HOME=str(tmp_path / "ansible-home"), ANSIBLE_LOCAL_TEMP=str(tmp_path / "alocal"),
               ANSIBLE_PYTHON_INTERPRETER="/usr/bin/python3", ANSIBLE_HOST_KEY_CHECKING="False")
    theirs_run = subprocess.run([str(Path(sys.executable).with_name("ansible-playbook")), "-i", str(lab.inventory),
                                 str(playbook), "-e", f"first_boot={first}"], capture_output=True, text=True,
                                env=env, timeout=300, check=False)
    assert theirs_run.returncode == 0, theirs_run.stdout[-3000:]
    assert ours == _registered(root)
