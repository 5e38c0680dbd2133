"""Tasks fleet cannot run stop a run only where a host reaches them (issue 15, item 1), over
the loopback sshd: a RedHat-only ``yum`` task, a ``when: false`` ``assemble`` and a real task
run and pass with warnings naming file:line; the same task reached by one host fails that
host only; a native module given a parameter only Ansible's module has runs Ansible's code
and leaves the file as ansible-playbook leaves it."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import fleet, require
from tests.e2e.conftest import Lab

PLAY = """\
- hosts: h1:h2
  gather_facts: true
  tasks:
    - name: RedHat only
      yum: {name: httpd, enablerepo: epel}
      when: ansible_os_family == 'RedHat'
    - name: joined
      assemble: {src: "{{ root }}/parts", dest: "{{ root }}/joined"}
      when: REACHED
    - name: real
      copy: {content: "real\\n", dest: "{{ root }}/real"}
"""


@pytest.fixture(autouse=True)
def ansible_installed() -> None:
    require(importlib.util.find_spec("ansible") is not None, "ansible-core is not installed (pip install '.[test]')")


def _apply(lab: Lab, tmp_path: Path, text: str, *options: str) -> tuple[subprocess.CompletedProcess[str], dict]:
    for root in lab.roots.values():
        root.mkdir(parents=True, exist_ok=True)
    playbook = lab.workdir / "site.yml"
    playbook.write_text(text)
    done = fleet("apply", "-i", str(lab.inventory), str(playbook), "--json", str(tmp_path / "report.json"), *options,
                 timeout=300)
    return done, json.loads((tmp_path / "report.json").read_text())


def _statuses(report: dict, host: str) -> list[tuple[str, str]]:
    return [(r["task"], r["status"]) for r in report["hosts"][host]["results"] if r["task"] != "Gathering Facts"]


def test_tasks_no_host_reaches_warn_and_the_run_passes(lab: Lab, tmp_path: Path) -> None:
    done, report = _apply(lab, tmp_path, PLAY.replace("REACHED", "false"))
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    playbook = lab.workdir / "site.yml"
    assert f"[WARNING] {playbook}:4: task 'RedHat only': module 'yum': " in out
    assert f"[WARNING] {playbook}:7: task 'joined': module 'assemble': " in out
    assert "action plugin ansible.builtin.assemble" in out and "fails on a host that reaches it" in out
    for host in ("h1", "h2"):
        assert _statuses(report, host) == [("RedHat only", "skipped"), ("joined", "skipped"), ("real", "changed")]
        assert (lab.roots[host] / "real").read_text() == "real\n"
    assert any("assemble" in w for w in report["warnings"])


def test_a_reached_task_fails_that_host_only(lab: Lab, tmp_path: Path) -> None:
    done, report = _apply(lab, tmp_path, PLAY.replace("REACHED", "inventory_hostname == 'h2'"))
    out = done.stdout + done.stderr
    assert done.returncode == 1 and "RECAP" in done.stdout, out  # a failed host, not bad input
    assert _statuses(report, "h1") == [("RedHat only", "skipped"), ("joined", "skipped"), ("real", "changed")]
    assert _statuses(report, "h2") == [("RedHat only", "skipped"), ("joined", "failed")]
    failed = report["hosts"]["h2"]["results"][-1]
    assert "module 'assemble'" in failed["msg"] and "action plugin ansible.builtin.assemble" in failed["msg"]
    assert (lab.roots["h1"] / "real").exists() and not (lab.roots["h2"] / "real").exists()


LINE = "- name: line\n  lineinfile: {path: \"ROOT/conf\", line: 'key = 1', create: true, unsafe_writes: true}\n  register: out\n"


def _ansible_playbook(tmp_path: Path) -> str:
    """The same task under ansible-playbook (local connection): the file it leaves."""
    root = tmp_path / "ansible-root"
    root.mkdir()
    playbook = tmp_path / "ansible.yml"
    playbook.write_text("- hosts: localhost\n  gather_facts: false\n  tasks:\n"
                        + "".join("    " + line + "\n" for line in LINE.replace("ROOT", str(root)).splitlines()))
    env = dict(os.environ, ANSIBLE_HOME=str(tmp_path / "ah"), ANSIBLE_LOCAL_TEMP=str(tmp_path / "al"),
               ANSIBLE_REMOTE_TMP=str(tmp_path / "ar"), ANSIBLE_PYTHON_INTERPRETER=sys.executable)
    done = subprocess.run([str(Path(sys.executable).with_name("ansible-playbook")), "-i", "localhost,", "-c", "local",
                           str(playbook)], capture_output=True, text=True, env=env, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return (root / "conf").read_text()


def test_a_parameter_only_ansibles_module_has_runs_ansibles_code(lab: Lab, tmp_path: Path) -> None:
    text = "- hosts: h1\n  gather_facts: false\n  tasks:\n" + "".join(
        "    " + line + "\n" for line in LINE.replace("ROOT", "{{ root }}").splitlines())
    done, report = _apply(lab, tmp_path, text, "-v")
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    assert "changed: [h1] (via ansible: ansible.builtin.lineinfile, ansible-core " in done.stdout
    (result,) = report["hosts"]["h1"]["results"]
    assert result["via"] == "ansible" and result["fqcn"] == "ansible.builtin.lineinfile"
    assert not report["warnings"], report["warnings"]
    assert (lab.roots["h1"] / "conf").read_text() == _ansible_playbook(tmp_path)
