"""`fleet apply/check` of playbooks with modules fleet lacks, over the loopback sshd (issue 19).

The whole path: the loader and preflight resolve Ansible's modules, the tasks travel with native
ones, the agent runs them, results are registered as Ansible registers them (compared with
ansible-playbook's own for the same tasks), no_log and vault values never show, check mode
writes nothing, the report says how each task ran, and a kept agent gets no payload twice.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from fleet.cli.vault import vault_yaml
from fleet.vault import VaultKeyring, VaultSecret
from tests.conftest import fleet, require
from tests.e2e.conftest import Lab

VAULTED = "Vaulted-Ini-Secret-731"  # a vault-encrypted variable, given to a module
NO_LOG = "NoLog-Param-Value-552"  # a plain value, in a no_log task

TASKS = """\
    - name: getent root
      getent: {database: passwd, key: root}
      register: ent
    - name: ini value
      community.general.ini_file: {path: "{{ root }}/app.ini", section: main, option: level, value: "3"}
      register: ini
    - name: ini items
      ini_file: {path: "{{ root }}/app.ini", section: items, option: "{{ item }}", value: "x"}
      loop: [a, b]
      register: looped
    - name: find with changed_when
      ansible.builtin.find: {paths: "{{ root }}", patterns: "*.ini"}
      register: found
      changed_when: found.matched > 5
    - name: registered
      copy:
        dest: "{{ root }}/registered.json"
        content: "{{ {'ent': ent, 'ini': ini, 'looped': looped, 'found_matched': found.matched,
                      'passwd_fact': getent_passwd.root[1]} | to_json }}"
"""
SECRET_TASKS = """\
    - name: vaulted value
      community.general.ini_file: {path: "{{ root }}/secret.ini", section: s, option: password, value: "{{ ini_secret }}"}
      no_log: true
    - name: no_log value
      ini_file: {path: "{{ root }}/secret.ini", section: s, option: token, value: "NOLOG"}
      no_log: true
    - name: no check mode in this module
      ansible.builtin.tempfile: {path: "{{ root }}", prefix: made.}
      check_mode: true
"""
PLAYBOOK = "- hosts: h1\n  gather_facts: false\n  collections: [community.general]\n  tasks:\n" + TASKS + SECRET_TASKS


@pytest.fixture(autouse=True)
def ansible_installed() -> None:
    require(importlib.util.find_spec("ansible") is not None, "ansible-core is not installed (pip install '.[test]')")
    require(importlib.util.find_spec("ansible_collections.community.general") is not None,
            "the 'ansible' package (collections) is not installed (pip install '.[test]')")


def _setup(lab: Lab) -> tuple[Path, Path]:
    lab.roots["h1"].mkdir(parents=True, exist_ok=True)
    keyring = VaultKeyring([VaultSecret("default", b"vault-pass-123")])
    password_file = lab.workdir / "vault-pass"
    password_file.write_text("vault-pass-123\n")
    password_file.chmod(0o600)
    group_vars = lab.workdir / "group_vars" / "fleet"
    group_vars.mkdir(parents=True)
    (group_vars / "main.yml").write_text(vault_yaml(keyring.encrypt(VAULTED), "ini_secret"))
    playbook = lab.workdir / "bridged.yml"
    playbook.write_text(PLAYBOOK.replace("NOLOG", NO_LOG))
    return password_file, playbook


def _registered_by_ansible(tmp: Path) -> dict[str, Any]:
    """The same tasks through ansible-playbook (local connection), registered the same way."""
    root = tmp / "ansible-root"
    root.mkdir()
    playbook = tmp / "ansible.yml"
    playbook.write_text("- hosts: localhost\n  gather_facts: false\n  collections: [community.general]\n"
                        f"  vars: {{root: {root}}}\n  tasks:\n" + TASKS)
    env = dict(os.environ, ANSIBLE_HOME=str(tmp / "ansible-home"), ANSIBLE_LOCAL_TEMP=str(tmp / "ansible-local"),
               ANSIBLE_REMOTE_TMP=str(tmp / "ansible-remote"), ANSIBLE_PYTHON_INTERPRETER=sys.executable)
    done = subprocess.run([str(Path(sys.executable).with_name("ansible-playbook")), "-i", "localhost,", "-c", "local",
                           "--diff", str(playbook)], capture_output=True, text=True, env=env, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads((root / "registered.json").read_text().replace(str(root), "ROOT"))


def test_apply_and_check_run_ansibles_modules(lab: Lab, tmp_path: Path) -> None:
    password_file, playbook = _setup(lab)
    root = lab.roots["h1"]
    run = ("-i", str(lab.inventory), str(playbook), "--vault-password-file", str(password_file))
    outputs: list[str] = []

    check = fleet("check", *run, "--diff", "-v", "--json", str(tmp_path / "check.json"))
    outputs.append(check.stdout + check.stderr)
    assert check.returncode == 2, outputs[-1]  # changes pending, nothing written
    assert sorted(p.name for p in root.iterdir()) == [], "check mode wrote on the host"
    checked = {r["task"]: r for r in json.loads((tmp_path / "check.json").read_text())["hosts"]["h1"]["results"]}
    assert checked["ini value"]["status"] == "changed" and checked["ini value"]["via"] == "ansible"
    assert checked["no check mode in this module"]["status"] == "skipped"

    apply = fleet("apply", *run, "--diff", "-vv", "--json", str(tmp_path / "apply.json"))
    outputs.append(apply.stdout + apply.stderr)
    assert apply.returncode == 0, outputs[-1]
    assert "changed: [h1] (via ansible: community.general.ini_file, ansible-core " in apply.stdout
    report = json.loads((tmp_path / "apply.json").read_text())
    results = {r["task"]: r for r in report["hosts"]["h1"]["results"]}
    assert results["getent root"]["via"] == "ansible" and results["getent root"]["fqcn"] == "ansible.builtin.getent"
    assert results["ini items"]["fqcn"] == "community.general.ini_file" and results["ini items"]["status"] == "changed"
    assert results["registered"]["via"] == "native"
    assert results["find with changed_when"]["status"] == "ok"  # changed_when decided
    assert report["hosts"]["h1"]["ansible_payload_bytes"] > 0
    assert (root / "app.ini").read_text() == "\n[main]\nlevel = 3\n[items]\na = x\nb = x\n"
    assert (root / "secret.ini").read_text() == f"\n[s]\npassword = {VAULTED}\ntoken = {NO_LOG}\n"

    ours = json.loads((root / "registered.json").read_text().replace(str(root), "ROOT"))
    assert ours["passwd_fact"] == "0"  # the module's facts, under the names it gave them
    theirs = _registered_by_ansible(tmp_path)
    assert ours == theirs

    again = fleet("apply", *run, "--json", str(tmp_path / "again.json"))
    outputs.append(again.stdout + again.stderr)
    assert again.returncode == 0, outputs[-1]
    changed = [r["task"] for r in json.loads((tmp_path / "again.json").read_text())["hosts"]["h1"]["results"]
               if r["changed"]]
    assert changed == ["registered"], outputs[-1]  # only the file of registered results, which now say "ok"
    after = fleet("check", *run, "--json", str(tmp_path / "after.json"))
    outputs.append(after.stdout + after.stderr)
    pending = [r["task"] for r in json.loads((tmp_path / "after.json").read_text())["hosts"]["h1"]["results"]
               if r["changed"]]
    assert pending == [], outputs[-1]  # check after apply: nothing to change

    for text in outputs + [(tmp_path / name).read_text() for name in ("check.json", "apply.json", "again.json")]:
        assert VAULTED not in text and NO_LOG not in text


def test_a_kept_agent_gets_each_payload_once(lab: Lab, tmp_path: Path) -> None:
    password_file, playbook = _setup(lab)
    env = {"FLEET_PERSIST": "30", "FLEET_MUX_DIR": str(tmp_path / "mux")}
    run = ("-i", str(lab.inventory), str(playbook), "--vault-password-file", str(password_file))
    try:
        sent = []
        for attempt in range(2):
            done = fleet("apply", *run, "--json", str(tmp_path / f"{attempt}.json"), env=env)
            assert done.returncode == 0, done.stdout + done.stderr
            sent.append(json.loads((tmp_path / f"{attempt}.json").read_text())["hosts"]["h1"]["ansible_payload_bytes"])
    finally:
        fleet("mux", "stop", env=env)
    assert sent[0] > 10_000 and sent[1] == 0, sent


def test_bad_input_is_one_line_naming_the_task_and_the_module(lab: Lab, tmp_path: Path) -> None:
    lab.roots["h1"].mkdir(parents=True, exist_ok=True)
    cases = {
        "community.general.ini_fiel": "did you mean 'community.general.ini_file'",
        "community.general.ali_instance_facts": "has been removed",
    }
    for module, expected in cases.items():
        playbook = tmp_path / "bad.yml"
        playbook.write_text(f"- hosts: h1\n  gather_facts: false\n  tasks:\n    - name: t\n      {module}: {{}}\n")
        done = fleet("apply", "-i", str(lab.inventory), str(playbook))
        errors = [line for line in done.stderr.splitlines() if line.startswith("ERROR")]
        assert done.returncode == 1 and len(errors) == 1, done.stdout + done.stderr
        assert errors[0].startswith(f"ERROR: {playbook}:4:") and module in errors[0] and expected in errors[0], errors



def test_a_module_fleet_cannot_run_fails_the_hosts_that_reach_it(lab: Lab, tmp_path: Path) -> None:
    """An action plugin fleet lacks is a warning before the run and a failed task where reached."""
    lab.roots["h1"].mkdir(parents=True, exist_ok=True)
    playbook = tmp_path / "sync.yml"
    playbook.write_text("- hosts: h1\n  gather_facts: false\n  tasks:\n    - name: t\n"
                        "      ansible.posix.synchronize: {src: a, dest: b}\n")
    done = fleet("apply", "-i", str(lab.inventory), str(playbook))
    assert done.returncode == 1 and "RECAP" in done.stdout, done.stdout + done.stderr
    assert f"failed: [h1] => {playbook}:4: module 'ansible.posix.synchronize': " in done.stdout
    assert f"[WARNING] {playbook}:4: task 't': " in done.stdout
    assert "action plugin ansible.posix.synchronize" in done.stdout


def test_without_ansible_core_a_bridged_task_says_how_to_install_it(lab: Lab, tmp_path: Path) -> None:
    """ansible-core hidden from fleet's Python (a sitecustomize that refuses to import it)."""
    hide = tmp_path / "hide"
    hide.mkdir()
    (hide / "sitecustomize.py").write_text(
        "import sys\n"
        "class _Hide:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'ansible' or name.startswith(('ansible.', 'ansible_collections')):\n"
        "            raise ModuleNotFoundError(f'No module named {name!r}')\n"
        "sys.meta_path.insert(0, _Hide())\n")
    playbook = tmp_path / "needs.yml"
    playbook.write_text("- hosts: h1\n  gather_facts: false\n  tasks:\n    - name: t\n"
                        "      community.general.ini_file: {path: /tmp/x, section: a, option: b, value: c}\n")
    env = {"PYTHONPATH": str(hide)}
    done = fleet("apply", "-i", str(lab.inventory), str(playbook), env=env)
    # a warning before the run, the task failed where reached (issue 15: a task that is never
    # reached must not stop the run, so this is no longer a preflight error)
    assert done.returncode == 1 and "RECAP" in done.stdout, done.stdout + done.stderr
    failed = [line for line in done.stdout.splitlines() if line.startswith("failed: [h1]")]
    assert len(failed) == 1 and f"{playbook}:4:" in failed[0] and "community.general.ini_file" in failed[0]
    assert "pip install 'fleet[ansible]'" in failed[0]
    assert f"[WARNING] {playbook}:4: task 't': " in done.stdout
    native = tmp_path / "native.yml"  # fleet without ansible-core works as before
    native.write_text("- hosts: h1\n  gather_facts: false\n  tasks:\n    - command: 'true'\n      changed_when: false\n")
    assert fleet("apply", "-i", str(lab.inventory), str(native), env=env).returncode == 0


BROKEN = """\
from ansible.module_utils.basic import AnsibleModule
from ansible_collections.fake.broken.plugins.module_utils.gone import helper
AnsibleModule(argument_spec={}).exit_json(changed=helper())
"""


def test_a_collection_module_whose_module_utils_are_missing_is_refused_before_connecting(lab: Lab,
                                                                                       tmp_path: Path) -> None:
    modules = tmp_path / "collections" / "ansible_collections" / "fake" / "broken" / "plugins" / "modules"
    modules.mkdir(parents=True)
    (modules / "needs_utils.py").write_text(BROKEN)
    (modules.parents[1] / "galaxy.yml").write_text("namespace: fake\nname: broken\nversion: 1.0.0\n")
    playbook = tmp_path / "broken.yml"
    playbook.write_text("- hosts: h1\n  gather_facts: false\n  tasks:\n    - name: t\n      fake.broken.needs_utils: {}\n")
    done = fleet("apply", "-i", str(lab.inventory), str(playbook), "--json", str(tmp_path / "r.json"))
    errors = [line for line in done.stderr.splitlines() if line.startswith("ERROR")]
    assert done.returncode == 1 and len(errors) == 1, done.stdout + done.stderr
    assert errors[0].startswith(f"ERROR: {playbook}:4:") and "fake.broken.needs_utils" in errors[0]
    assert "gone" in errors[0], errors[0]
    assert not (tmp_path / "r.json").exists()  # refused before anything connected


def test_a_module_that_prints_no_json_fails_its_task_in_one_line(lab: Lab, tmp_path: Path) -> None:
    from tests.unit.bridge.conftest import LIBRARY

    lab.roots["h1"].mkdir(parents=True, exist_ok=True)
    playbook = tmp_path / "junk.yml"
    playbook.write_text("- hosts: h1\n  gather_facts: false\n  tasks:\n"
                        "    - name: prints text\n      fleet_test_junk: {mode: text}\n      ignore_errors: true\n"
                        "    - name: prints nothing\n      fleet_test_junk: {mode: silent}\n      ignore_errors: true\n"
                        "    - name: module no_log parameter\n      fleet_test_junk: {mode: ok, secret: " + NO_LOG + "}\n")
    done = fleet("apply", "-i", str(lab.inventory), str(playbook), "-M", str(LIBRARY), "-vv",
                 "--json", str(tmp_path / "r.json"))
    assert done.returncode == 0, done.stdout + done.stderr
    failed = [line for line in done.stdout.splitlines() if line.startswith("failed")]
    assert len(failed) == 2, done.stdout
    assert "module ansible.legacy.fleet_test_junk returned no JSON result (it printed 'this is not JSON'" in failed[0]
    assert "module ansible.legacy.fleet_test_junk returned no JSON result (it printed nothing" in failed[1]
    assert NO_LOG not in done.stdout + done.stderr + (tmp_path / "r.json").read_text()
