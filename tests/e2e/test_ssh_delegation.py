"""delegate_to over real SSH: three inventory hosts on the loopback sshd, each with its own root
and an interpreter wrapper that exports that root (FLEET_TEST_ROOT), so a command writes into
the root of the host whose connection ran it. fleet and ansible-playbook run the same playbook
and must leave the same files (ansible-core comes with the test extra; ssh from openssh-client)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from fleet.testing.sshd import LocalSSHD
from tests.conftest import fleet, require
from tests.e2e.conftest import Lab

PLAYBOOK = """
- hosts: h1:h2
  gather_facts: false
  tasks:
    - name: write on the delegated host
      shell: echo "from {{ inventory_hostname }}" > "$FLEET_TEST_ROOT/from-{{ inventory_hostname }}"
      delegate_to: h3
      register: written

    - name: write on the controller
      local_action: copy content="{{ inventory_hostname }} {{ ansible_host }}\\n" dest={{ out }}/local-{{ inventory_hostname }}

    - name: run once on the delegated host
      shell: echo once >> "$FLEET_TEST_ROOT/once"
      delegate_to: h3
      run_once: true
      register: once

    - name: gather h3's facts for h3
      setup:
        gather_subset: ["!all"]
      delegate_to: h3
      delegate_facts: true
      run_once: true

    - name: what each host saw
      copy:
        content: "{{ {'written': written.changed, 'once': once.changed,
                      'h3_facts': hostvars['h3'].ansible_facts.hostname is defined,
                      'own_facts': ansible_facts.hostname is defined} | to_nice_json }}\\n"
        dest: "{{ out }}/seen-{{ inventory_hostname }}"
      delegate_to: localhost
"""


def _site(lab: Lab, sshd: LocalSSHD, name: str) -> tuple[Path, Path, dict[str, Path]]:
    """A site directory (playbook, inventory, wrappers) and its hosts' roots and controller out."""
    site = lab.workdir / name
    out = site / "out"
    out.mkdir(parents=True)
    roots: dict[str, Path] = {}
    hosts: dict[str, dict[str, object]] = {}
    for host in ("h1", "h2", "h3"):
        root = roots[host] = site / "roots" / host
        root.mkdir(parents=True)
        wrapper = site / f"python-{host}"
        wrapper.write_text(f'#!/bin/sh\nFLEET_TEST_ROOT={root}\nexport FLEET_TEST_ROOT\nexec python3 "$@"\n')
        wrapper.chmod(0o755)
        hosts[host] = {**sshd.host_vars(), "ansible_python_interpreter": str(wrapper)}
    inventory = {"all": {"vars": {"out": str(out)}, "hosts": hosts}}
    (site / "inventory.yml").write_text(yaml.safe_dump(inventory, sort_keys=False))
    (site / "site.yml").write_text(PLAYBOOK)
    return site, out, roots


def _files(directory: Path) -> dict[str, str]:
    return {str(p.relative_to(directory)): p.read_text() for p in sorted(directory.rglob("*")) if p.is_file()}


def test_delegated_tasks_run_on_the_delegated_host_as_with_ansible(lab: Lab) -> None:
    require(shutil.which("ssh") is not None, "ssh is not installed (apt-get install openssh-client)")
    site, out, roots = _site(lab, lab.sshd, "fleet")
    done = fleet("apply", "-i", "inventory.yml", "site.yml", "--json", str(site / "report.json"), cwd=site,
                 timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert _files(roots["h3"]) == {"from-h1": "from h1\n", "from-h2": "from h2\n", "once": "once\n"}
    assert _files(roots["h1"]) == _files(roots["h2"]) == {}  # nothing on the delegating hosts
    assert (out / "local-h1").read_text() == "h1 127.0.0.1\n"  # the original host's ansible_host
    seen = json.loads((out / "seen-h2").read_text())
    assert seen == {"written": True, "once": True, "h3_facts": True, "own_facts": False}
    report = json.loads((site / "report.json").read_text())
    assert set(report["hosts"]) == {"h1", "h2"}  # results under the original hosts only
    written = [r for r in report["hosts"]["h1"]["results"] if r["task"] == "write on the delegated host"]
    assert written[0]["delegated_to"] == "h3" and written[0]["changed"]

    reference, ansible_out, ansible_roots = _site(lab, lab.sshd, "ansible")
    ran = subprocess.run([str(Path(sys.executable).with_name("ansible-playbook")), "-i", "inventory.yml", "site.yml"],
                         cwd=reference, capture_output=True, text=True, timeout=600, check=False)
    assert ran.returncode == 0, ran.stdout[-3000:]
    for host in ("h1", "h2", "h3"):
        assert _files(roots[host]) == _files(ansible_roots[host]), host
    assert _files(out) == _files(ansible_out)
