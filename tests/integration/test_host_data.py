"""Host data is data: what a managed host sends back is never rendered, evaluated or trusted.

An unprivileged user on a lab host plants file names that are Jinja templates; a play lists
them and uses the names in loops, include loops, set_fact and conditionals. Nothing the names
contain may be evaluated on the controller (the vault secret, a controller file and the
controller's environment stay there). A module forging connection facts
(``ansible_connection: local``) changes nothing about how fleet connects.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import fleet
from tests.integration.conftest import ITLab, output, report, run_fleet

HOST = "itest1"
DROP = "/tmp/test-hostdata"  # world-writable place where the unprivileged user plants names
OUT = "/srv/test-hostdata"
SECRET = "S3cret-vault-value-4711"
CANARY = "controller-only-canary-9931"
NAMES = ("x{{ db_password }}", "y{{ lookup('file', 'canary.txt') }}",
         "z{{ lookup('env', 'FLEET_TEST_CANARY') }}")

PLAYBOOK = """\
- hosts: itest1
  gather_facts: false
  vars_files: [secrets.yml]
  tasks:
    - name: list what users left
      command: ls -1 /tmp/test-hostdata
      register: ls
    - name: one file per name
      copy: {content: "{{ item }}", dest: "/srv/test-hostdata/loop-{{ idx }}"}
      loop: "{{ ls.stdout_lines }}"
      loop_control: {index_var: idx}
    - name: derived names
      set_fact:
        names: "{{ ls.stdout_lines | map('trim') | list }}"
    - name: one file per derived name
      copy: {content: "{{ item }}", dest: "/srv/test-hostdata/derived-{{ idx }}"}
      loop: "{{ names }}"
      loop_control: {index_var: idx}
    - name: include per name
      include_tasks: write.yml
      loop: "{{ ls.stdout_lines }}"
      loop_control: {index_var: idx}
    - name: read a condition a user wrote
      command: cat /tmp/test-hostdata-cond
      register: cond
    - name: a conditional over host data
      copy: {content: "evaluated\\n", dest: /srv/test-hostdata/oracle}
      when: "{{ cond.stdout }}"
      ignore_errors: true
"""

WRITE = """\
- name: written by the included file
  copy: {content: "{{ item }}", dest: "/srv/test-hostdata/include-{{ idx }}"}
"""


def _plant(lab: ITLab) -> None:
    lab.reset(HOST, DROP, OUT, "/tmp/test-hostdata-cond")
    lab.sh(HOST, f"mkdir -p {OUT} && su nosudo -s /bin/sh -c 'mkdir -m 0755 {DROP}'")
    for name in NAMES:
        quoted = name.replace("'", "'\"'\"'")
        lab.sh(HOST, f"su nosudo -s /bin/sh -c 'touch \"{DROP}/{quoted}\"'")
    lab.sh(HOST, "su nosudo -s /bin/sh -c \"echo \\\"db_password == '" + SECRET + "'\\\" > /tmp/test-hostdata-cond\"")


def _project(tmp_path: Path) -> tuple[Path, Path]:
    password = tmp_path / "vault-pass"
    password.write_text("lab vault password\n")
    password.chmod(0o600)
    encrypted = run_fleet("vault", "encrypt-string", "--vault-password-file", str(password),
                          "--name", "db_password", SECRET)
    assert encrypted.returncode == 0, output(encrypted)
    (tmp_path / "secrets.yml").write_text(encrypted.stdout)
    (tmp_path / "canary.txt").write_text(CANARY + "\n")
    (tmp_path / "write.yml").write_text(WRITE)
    playbook = tmp_path / "hostdata.yml"
    playbook.write_text(PLAYBOOK)
    return playbook, password


def test_names_a_host_sends_are_never_rendered(lab: ITLab, tmp_path: Path) -> None:
    _plant(lab)
    planted = sorted(lab.sh(HOST, f"ls -1 {DROP}").splitlines())
    assert planted == sorted(NAMES)
    playbook, password = _project(tmp_path)

    result = fleet("apply", "-i", str(lab.inventory), str(playbook), "--vault-password-file", str(password),
                   "--json", str(tmp_path / "r.json"), env={"FLEET_TEST_CANARY": CANARY}, timeout=180)
    assert result.returncode == 0 and "Traceback" not in output(result), output(result)

    for kind in ("loop", "derived", "include"):
        written = [lab.read(HOST, f"{OUT}/{kind}-{index}") for index in range(len(NAMES))]
        assert written == sorted(NAMES), (kind, written)
    everything = lab.sh(HOST, f"cat {OUT}/*")
    assert SECRET not in everything and CANARY not in everything
    assert not lab.exists(HOST, f"{OUT}/oracle")  # the user's condition was never evaluated

    results = {r["task"]: r for r in report(tmp_path / "r.json")["hosts"][HOST]["results"]}
    conditional = results["a conditional over host data"]
    assert conditional["status"] == "failed" and conditional["ignored"]
    assert "host data" in conditional["msg"]
    assert SECRET not in output(result) and CANARY not in output(result)


FORGER = '''\
"""Test module: a host answering with connection settings in its facts."""
from dataclasses import dataclass

ALIASES: dict = {}
RETURNS_FACTS = DECLARES


@dataclass
class Params:
    pass


def observe(p, host) -> dict:
    return {"ansible_facts": {"ansible_connection": "local", "ansible_host": "127.0.0.1",
                              "ansible_port": 1, "ansible_user": "nobody",
                              "ansible_become_user": "nosudo", "ansible_python_interpreter": "/nonexistent",
                              "ssh_common_args": "-o ProxyCommand=false", "forged_marker": "kept"}}
'''

FORGED_PLAY = """\
- hosts: itest1
  gather_facts: false
  tasks:
    - name: forge
      forge_facts: {}
- hosts: itest1
  gather_facts: false
  remote_user: root
  become: true
  tasks:
    - command: cat /etc/hostname
      register: where
    - command: id -un
      register: who
    - name: where am I
      debug: {msg: "{{ where.stdout }}"}
    - name: who am I
      debug: {msg: "{{ who.stdout }}"}
    - name: the forged marker
      debug: {msg: "{{ ansible_facts.forged_marker | default('absent') }}"}
"""


def _forge(tmp_path: Path, inventory: Path, declares: bool) -> dict:
    (tmp_path / "modules").mkdir(exist_ok=True)
    (tmp_path / "modules" / "forge_facts.py").write_text(FORGER.replace("DECLARES", str(declares)))
    playbook = tmp_path / "forge.yml"
    playbook.write_text(FORGED_PLAY)
    result = run_fleet("apply", "-i", str(inventory), str(playbook), "--json", str(tmp_path / "f.json"))
    assert result.returncode == 0, output(result)
    return report(tmp_path / "f.json")["hosts"][HOST]


def test_forged_connection_facts_are_dropped(lab: ITLab, tmp_path: Path) -> None:
    inventory = lab.derived(tmp_path / "inv.yml", group_vars={"ansible_user": "fleet"})
    host_name = lab.read(HOST, "/etc/hostname").strip()

    for declares in (True, False):
        data = _forge(tmp_path, inventory, declares)
        results = {r["task"]: r for r in data["results"]}
        assert results["where am I"]["msg"] == host_name  # the lab host, not the controller
        assert results["who am I"]["msg"] == "root"  # become_user not taken from a fact
        warnings = json.dumps(results["forge"].get("warnings"))
        if declares:
            for key in ("ansible_connection", "ansible_host", "ansible_port", "ansible_user",
                        "ansible_become_user", "ansible_python_interpreter", "ssh_common_args"):
                assert key in warnings, (key, warnings)
            assert results["the forged marker"]["msg"] == "kept"  # ordinary facts still arrive
        else:
            assert "does not declare facts" in warnings
            assert results["the forged marker"]["msg"] == "absent"
