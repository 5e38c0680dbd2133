"""The ``environment`` keyword over the loopback sshd: tests/fixtures/environment applied by
fleet over SSH gives the files ansible-playbook gives (every level and form, a native module's
own program, a bridged module); check mode keeps its meaning; the keyword never changes how
fleet connects, and a later play's tasks on the same agent do not see it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO, fleet
from tests.e2e.conftest import Lab

FIXTURE = REPO / "tests" / "fixtures" / "environment"


def _files(out: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted(out.iterdir())}


def _ansible(site: Path) -> dict[str, str]:
    out = site / "out-ansible"
    out.mkdir()
    (site / "ansible.ini").write_text(
        f"h1 ansible_connection=local out={out} ansible_python_interpreter={sys.executable}\n")
    env = dict(os.environ, ANSIBLE_HOME=str(site / "ansible-home"), ANSIBLE_LOCAL_TEMP=str(site / "ansible-local"),
               ANSIBLE_REMOTE_TMP=str(site / "ansible-remote"))
    done = subprocess.run([str(Path(sys.executable).with_name("ansible-playbook")), "-i", "ansible.ini", "site.yml"],
                          cwd=site, capture_output=True, text=True, env=env, timeout=600, check=False)
    assert done.returncode == 0, done.stdout[-3000:]
    return _files(out)


def test_environment_over_ssh_as_ansible(lab: Lab) -> None:
    site = lab.workdir / "site"
    shutil.copytree(FIXTURE, site)
    out = lab.roots["h1"] / "out"
    out.mkdir(parents=True)
    run = ("-i", str(lab.inventory), str(site / "site.yml"), "-e", f"out={out}", "--persist", "0")

    check = fleet("check", *run, "--json", str(lab.workdir / "check.json"), timeout=300)
    assert check.returncode == 2, check.stdout + check.stderr  # changes pending, none failed
    checked = json.loads((lab.workdir / "check.json").read_text())["hosts"]["h1"]["results"]
    assert not [r for r in checked if r["status"] == "failed"]
    assert sorted(p.name for p in out.iterdir()) == [], "check mode ran a command"

    applied = fleet("apply", *run, timeout=300)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert "could not parse environment value, skipping: {{ notdict }}" in applied.stdout + applied.stderr
    assert _files(out) == _ansible(site)


def test_environment_never_changes_how_fleet_connects(lab: Lab) -> None:
    playbook = lab.workdir / "connect.yml"
    playbook.write_text(
        "- hosts: h1\n  gather_facts: false\n"
        "  environment: {HOME: /nowhere, PATH: /nowhere, PYTHONPATH: /nowhere, SSH_AUTH_SOCK: /nowhere}\n"
        "  tasks:\n"
        "    - shell: echo \"$HOME $PATH\" > {{ root }}/inside\n"
        "      environment: {PATH: /usr/bin:/bin}\n"
        "- hosts: h1\n  gather_facts: false\n  tasks:\n"
        "    - shell: echo \"$HOME\" > {{ root }}/after\n")
    lab.roots["h1"].mkdir(parents=True, exist_ok=True)
    done = fleet("apply", "-i", str(lab.inventory), str(playbook), "--persist", "0", timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (lab.roots["h1"] / "inside").read_text() == "/nowhere /usr/bin:/bin\n"
    assert (lab.roots["h1"] / "after").read_text().strip() not in ("", "/nowhere")
