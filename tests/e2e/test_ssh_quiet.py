"""A run that opens SSH itself prints what the run did and nothing else on stderr: no
``CryptographyDeprecationWarning: DSA is deprecated`` lines from importing asyncssh."""

from __future__ import annotations

import re

from tests.conftest import fleet
from tests.e2e.conftest import Lab

PLAY = """\
- hosts: all
  gather_facts: false
  tasks:
    - name: its directory
      file: {path: "{{ root }}", state: directory}
    - name: a file
      copy: {content: "quiet\\n", dest: "{{ root }}/quiet"}
"""
WARNING_LINE = re.compile(r"^.*\b\w*Warning\b.*$", re.MULTILINE)


def test_apply_without_persistence_prints_no_warnings(lab: Lab) -> None:
    playbook = lab.workdir / "quiet.yml"
    playbook.write_text(PLAY)
    result = fleet("apply", "--persist", "0", "-i", str(lab.inventory), str(playbook))
    assert result.returncode == 0, result.stdout + result.stderr
    assert WARNING_LINE.findall(result.stderr) == [], result.stderr
    assert result.stderr == "", result.stderr
    assert all((root / "quiet").read_text() == "quiet\n" for root in lab.roots.values())
