"""Ansible's own modules through fleet's agent on a real lab host (issue 19).

Fourteen modules fleet does not implement natively (from ansible.builtin, ansible.posix and
community.general) run together in one playbook, one fleet run per phase on itest1: check mode
before (changed or, for modules without check mode, skipped; ``docker diff`` of the host
unchanged, so neither the modules nor the agent's fork server wrote anything), apply (changed),
re-apply (unchanged), check after (nothing pending). What each task registers equals what
ansible-playbook registers for the same task on itest2; a ``no_log`` value is never printed.
``fleet drift`` reports a bridged task whose target was edited by hand, and nothing once applied.
"""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import require
from tests.integration.conftest import ITLab, output, report, run_fleet

FLEET_HOST, ANSIBLE_HOST = "itest1", "itest2"
ROOT = "/srv/test-bridge"
SECRET = "NoLog-Bridge-Token-8841"
KEY = "bridge.example ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIP4BgCHtuRtehOrcb0VQ02u0IJHBNvjGX6h62wuObP4K"
# Inputs the modules read (not what they manage), and what earlier runs left, so every run starts clean.
SETUP = (f"rm -rf {ROOT} /usr/local/bin/fleet-bridge; mkdir -p {ROOT}/logs; "
         f"printf 'listen = 127.0.0.1\\nmode = old\\n' > {ROOT}/app.conf; printf 'line one\\n' > {ROOT}/logs/a.log; "
         "update-alternatives --remove-all fleet-bridge >/dev/null 2>&1; "
         f": > {ROOT}/crypttab; "  # crypttab creates a missing file even in check mode, in Ansible too
         f"printf 'name,uid\\nalice,1500\\n' > {ROOT}/users.csv; "
         "echo 'tzdata tzdata/Areas select Etc' | debconf-set-selections; true")
# task name (registered as r_NAME) -> the module call
TASKS: dict[str, str] = {
    "getent": "ansible.builtin.getent: {database: passwd, key: nosudo}",
    "replace": "ansible.builtin.replace: {path: '{{ root }}/app.conf', regexp: '^mode = old$', replace: 'mode = new'}",
    "find": "ansible.builtin.find: {paths: '{{ root }}/logs', patterns: '*.log'}",
    "slurp": "ansible.builtin.slurp: {src: '{{ root }}/logs/a.log'}",
    "known_hosts": f"known_hosts: {{path: '{{{{ root }}}}/known_hosts', name: bridge.example, key: '{KEY}'}}",
    "debconf": "debconf: {name: tzdata, question: tzdata/Areas, vtype: select, value: Europe}",
    "tempfile": "ansible.builtin.tempfile: {path: '{{ root }}', prefix: made.}",
    "rhel_facts": "ansible.posix.rhel_facts: {}",
    "ini_file": "community.general.ini_file: {path: '{{ root }}/app.ini', section: main, option: level, value: '3'}",
    "archive": "community.general.archive: {path: '{{ root }}/logs/a.log', dest: '{{ root }}/a.log.gz', format: gz}",
    "filesize": "community.general.filesize: {path: '{{ root }}/blob', size: 64KiB}",
    "alternatives": "alternatives: {name: fleet-bridge, link: /usr/local/bin/fleet-bridge, path: /usr/bin/true, "
                    "priority: 50}",
    "crypttab": "community.general.crypttab: {name: bridge_crypt, backing_device: /dev/fleet-none, state: present, "
                "path: '{{ root }}/crypttab'}",
    "read_csv": "community.general.read_csv: {path: '{{ root }}/users.csv', key: name}",
}
NO_CHECK_MODE = {"tempfile"}  # the module does not support check mode: skipped, as Ansible does
READ_ONLY = {"getent", "find", "slurp", "rhel_facts", "read_csv"}
ALWAYS_CHANGES = {"tempfile"}  # a new temporary file on every run, in Ansible too
# What differs between two hosts or two runs for the same task: times, inodes, temp file names.
# Modules run as under Ansible's pipelining (no AnsiballZ directory): the first one that needs a
# temporary directory on a host creates ~/.ansible/tmp and says so, as with pipelining in Ansible.
FIRST_REMOTE_TMP = "Module remote_tmp "
LOGINS = ("/var/log/wtmp", "/var/log/lastlog", "/var/log/btmp")  # written by sshd for any login
VOLATILE = {"atime", "mtime", "ctime", "inode", "dev", "nlink"}


def _playbook(directory: Path) -> Path:
    lines = ["- hosts: itest", "  gather_facts: false", "  collections: [community.general]",
             f"  vars: {{root: {ROOT}}}", "  tasks:"]
    for name, call in TASKS.items():
        lines += [f"    - name: {name}", f"      {call}", f"      register: r_{name}"]
    lines += ["    - name: secret token",
              f"      community.general.ini_file: {{path: '{{{{ root }}}}/app.ini', section: auth, option: token, "
              f"value: {SECRET}}}",
              "      no_log: true",
              "    - name: record",
              "      copy:",
              "        dest: '{{ root }}/registered.json'",
              "        content: '{{ {" + ", ".join(f"\"{n}\": r_{n}" for n in TASKS) + "} | to_json }}'",
              "      when: record | default(false) | bool"]
    path = directory / "bridged.yml"
    path.write_text("\n".join(lines) + "\n")
    return path


def _stable(value: Any) -> Any:
    """A registered result without what differs between hosts and runs."""
    if isinstance(value, dict):
        warnings = [w for w in value.get("warnings", []) if not w.startswith(FIRST_REMOTE_TMP)]
        return {k: _stable(v) for k, v in dict(value, warnings=warnings).items()
                if k not in VOLATILE and (k != "warnings" or warnings)}
    if isinstance(value, list):
        return [_stable(v) for v in value]
    if isinstance(value, str):
        return re.sub(r" copied, [\d.]+ s, [\d.]+ \w+/s", " copied", re.sub(r"made\.\w+", "made.X", value))
    return value


def _ansible_registers(lab: ITLab, playbook: Path, tmp_path: Path) -> dict[str, Any]:
    """The same playbook through ansible-playbook on the other host (as fleet's apply: --diff),
    registered the same way."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "ANSIBLE_HOST_KEY_CHECKING": "false",
           "ANSIBLE_LOCAL_TEMP": str(tmp_path / "ansible-local"),
           "ANSIBLE_PYTHON_INTERPRETER": "/usr/bin/python3"}  # no discovery facts and warnings
    done = subprocess.run([str(Path(sys.executable).with_name("ansible-playbook")), "-i", str(lab.inventory),
                           "-l", ANSIBLE_HOST, "--diff", "-e", "record=true", str(playbook)],
                          capture_output=True, text=True, env=env, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(lab.read(ANSIBLE_HOST, f"{ROOT}/registered.json"))


def _diff(lab: ITLab) -> list[tuple[str, int]]:
    return [change for change in lab.diff(FLEET_HOST) if change[0] not in LOGINS]


def _results(path: Path) -> dict[str, dict[str, Any]]:
    return {r["task"]: r for r in report(path)["hosts"][FLEET_HOST]["results"]}


@pytest.fixture(autouse=True)
def ansible_installed() -> None:
    require(importlib.util.find_spec("ansible") is not None, "ansible-core is not installed (pip install '.[test]')")
    require(importlib.util.find_spec("ansible_collections.community.general") is not None,
            "the 'ansible' package (collections) is not installed (pip install '.[test]')")


def test_bridged_modules_check_apply_reapply_and_register_as_ansible(lab: ITLab, tmp_path: Path) -> None:
    playbook = _playbook(tmp_path)
    for host in (FLEET_HOST, ANSIBLE_HOST):
        lab.sh(host, SETUP)
    run = ("-i", str(lab.inventory), "-l", FLEET_HOST, str(playbook))
    outputs: list[str] = []
    timings: dict[str, float] = {}

    def phase(name: str, *extra: str, expect: int) -> dict[str, dict[str, Any]]:
        started = time.monotonic()
        done = run_fleet(*extra, *run, "--json", str(tmp_path / f"{name}.json"), timeout=300)
        timings[name] = time.monotonic() - started
        outputs.append(output(done) + (tmp_path / f"{name}.json").read_text())
        assert done.returncode == expect, output(done)
        results = _results(tmp_path / f"{name}.json")
        assert all(results[t]["via"] == "ansible" for t in TASKS), {t: results[t]["via"] for t in TASKS}
        return results

    untouched = _diff(lab)
    before = phase("check-before", "check", "--diff", expect=2)
    assert _diff(lab) == untouched, "check mode changed the host"
    assert {t for t in TASKS if before[t]["status"] == "skipped"} == NO_CHECK_MODE
    assert {t for t in TASKS if before[t]["changed"]} == set(TASKS) - NO_CHECK_MODE - READ_ONLY

    applied = phase("apply", "apply", "--diff", "-v", "-e", "record=true", expect=0)
    assert {t for t in TASKS if applied[t]["changed"]} == set(TASKS) - READ_ONLY, applied
    assert "(via ansible: community.general.archive, ansible-core " in outputs[-1]
    assert lab.read(FLEET_HOST, f"{ROOT}/app.conf") == "listen = 127.0.0.1\nmode = new\n"
    assert f"token = {SECRET}" in lab.read(FLEET_HOST, f"{ROOT}/app.ini")
    assert lab.sh(FLEET_HOST, "readlink -f /usr/local/bin/fleet-bridge").strip() == "/usr/bin/true"
    assert "bridge_crypt /dev/fleet-none" in lab.read(FLEET_HOST, f"{ROOT}/crypttab")

    again = phase("reapply", "apply", expect=0)
    assert {t for t in again if again[t]["changed"]} == ALWAYS_CHANGES, again
    after = phase("check-after", "check", expect=0)
    assert {t for t in after if after[t]["changed"]} == set(), after

    ours = _stable(json.loads(lab.read(FLEET_HOST, f"{ROOT}/registered.json")))
    theirs = _stable(_ansible_registers(lab, playbook, tmp_path))
    differ = {t: {k: (ours[t].get(k), theirs[t].get(k)) for k in set(ours[t]) | set(theirs[t])
                  if ours[t].get(k) != theirs[t].get(k)} for t in TASKS if ours[t] != theirs[t]}
    assert not differ, json.dumps(differ, indent=1)[:4000]
    assert ours["getent"]["ansible_facts"]["getent_passwd"]["nosudo"][0] == "x"  # real content, not empty
    for text in outputs:  # every run's output and JSON report, with --diff and -v
        assert SECRET not in text
    print(f"\nbridged run of {len(TASKS)} modules, wall time: "
          + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in timings.items())
          + " (per-task host CPU is not in the JSON report)")


def test_drift_on_a_bridged_task(lab: ITLab, tmp_path: Path) -> None:
    playbook = _playbook(tmp_path)
    lab.sh(FLEET_HOST, SETUP)
    run = ("-i", str(lab.inventory), "-l", FLEET_HOST, str(playbook))
    applied = run_fleet("apply", *run, timeout=300)
    assert applied.returncode == 0, output(applied)

    def drift(expect: int) -> dict[str, Any]:
        path = tmp_path / f"drift-{len(list(tmp_path.glob('drift-*')))}.json"
        done = run_fleet("drift", *run, "--state-dir", str(tmp_path / "state"), "--json", str(path), timeout=300)
        assert done.returncode == expect, output(done)
        return report(path)

    drift(expect=0)
    lab.sh(FLEET_HOST, f"sed -i 's/level = 3/level = 9/' {ROOT}/app.ini")
    found = drift(expect=2)
    drifted = {task["task"] for entry in found["drift"]["hosts"].values() for task in entry["tasks"]
               if task["status"] == "drift"}
    assert drifted == {"ini_file"}, found["drift"]
    healed = run_fleet("apply", *run, timeout=300)
    assert healed.returncode == 0, output(healed)
    assert "level = 3" in lab.read(FLEET_HOST, f"{ROOT}/app.ini")
    drift(expect=0)



def test_ansibles_apt_installs_its_python_bindings_and_respawns(lab: ITLab, tmp_path: Path) -> None:
    """Ansible's apt (here for policy_rc_d, which fleet's apt lacks) on a host without
    python3-apt installs the bindings, finds the interpreter that has them and respawns under
    it, as under Ansible (fleet's fork server imports ansible from memory: its probe must not
    need ansible on disk). geerlingguy.mysql's package task."""
    lab.sh(FLEET_HOST, "apt-get -y -q purge python3-apt tree >/dev/null 2>&1; true")
    playbook = tmp_path / "apt.yml"
    playbook.write_text("- hosts: itest\n  gather_facts: false\n  tasks:\n"
                        "    - name: tree\n      ansible.builtin.apt: {name: tree, state: present, policy_rc_d: 101}\n")
    done = run_fleet("apply", "-i", str(lab.inventory), "-l", FLEET_HOST, str(playbook),
                     "--json", str(tmp_path / "r.json"), timeout=600)
    assert done.returncode == 0, output(done)
    result = _results(tmp_path / "r.json")["tree"]
    assert result["status"] == "changed" and result["via"] == "ansible", result
    assert "install ok installed" in lab.sh(FLEET_HOST, "dpkg-query -W -f '${Status}' tree python3-apt")
