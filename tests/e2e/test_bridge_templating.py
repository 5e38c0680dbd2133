"""Collection filters and lookups in a `fleet apply` over the loopback sshd (issue 19): the
file a template writes holds what ansible-playbook writes for the same tasks, a host's output
passed through a collection filter stays text (never templated), and ``with_<FQCN>`` loops."""

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

TASKS = """\
    - name: host output
      command: printf '%s' '{{ "{{" }} 6 * 7 {{ "}}" }}'
      register: sent
      changed_when: false
    - name: collection filters and lookups
      copy:
        dest: "{{ root }}/out.json"
        content: "{{ {'kv': sent.stdout | community.general.dict_kv('said'),
                      'merged': [{'n': 1, 'a': 1}] | community.general.lists_mergeby([{'n': 1, 'b': 2}], 'n'),
                      'paths': {'a': {'b': [1, 2]}} | ansible.utils.to_paths,
                      'in_net': '10.1.2.3' is ansible.utils.in_any_network(['10.0.0.0/8']),
                      'version': lookup('community.general.collection_version', 'community.general')} | to_json }}"
    - name: a collection lookup as a loop
      copy: {dest: "{{ root }}/loop-{{ item }}", content: "x"}
      with_community.general.collection_version: [community.general]
"""


@pytest.fixture(autouse=True)
def ansible_installed() -> None:
    require(importlib.util.find_spec("ansible_collections.community.general") is not None,
            "the 'ansible' package (ansible-core and collections) is not installed (pip install '.[test]')")


def _by_ansible(tmp: Path) -> tuple[dict[str, object], list[str]]:
    """The same tasks through ansible-playbook (local connection)."""
    root = tmp / "ansible-root"
    root.mkdir()
    playbook = tmp / "ansible.yml"
    playbook.write_text(f"- hosts: localhost\n  gather_facts: false\n  vars: {{root: {root}}}\n  tasks:\n" + TASKS)
    env = dict(os.environ, ANSIBLE_HOME=str(tmp / "ansible-home"), ANSIBLE_LOCAL_TEMP=str(tmp / "ansible-local"),
               ANSIBLE_REMOTE_TMP=str(tmp / "ansible-remote"), ANSIBLE_PYTHON_INTERPRETER=sys.executable)
    done = subprocess.run([str(Path(sys.executable).with_name("ansible-playbook")), "-i", "localhost,", "-c", "local",
                           str(playbook)], capture_output=True, text=True, env=env, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads((root / "out.json").read_text()), sorted(p.name for p in root.glob("loop-*"))


def test_collection_filters_and_lookups_in_a_run(lab: Lab, tmp_path: Path) -> None:
    root = lab.roots["h1"]
    root.mkdir(parents=True, exist_ok=True)
    playbook = lab.workdir / "filters.yml"
    playbook.write_text("- hosts: h1\n  gather_facts: false\n  tasks:\n" + TASKS)
    done = fleet("apply", "-i", str(lab.inventory), str(playbook))
    assert done.returncode == 0, done.stdout + done.stderr
    written = json.loads((root / "out.json").read_text())
    assert written["kv"] == {"said": "{{ 6 * 7 }}"}  # host output through a collection filter: text
    expected, loops = _by_ansible(tmp_path)
    assert written == expected
    assert sorted(p.name for p in root.glob("loop-*")) == loops and loops
