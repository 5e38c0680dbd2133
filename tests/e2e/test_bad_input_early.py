"""Bad input found before anything connects, over real SSH: a literal ``loop: 42`` after tasks
that would write, ``-e`` text that is not JSON/YAML, a ``--limit`` that matches no host, a
binary inventory file. Nothing is written on any host. A play whose pattern matches nothing
warns and the next plays still run, as in Ansible."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import fleet
from tests.e2e.conftest import Lab

WRITE = """\
- hosts: all
  gather_facts: false
  tasks:
    - name: its directory
      file: {path: "{{ root }}", state: directory}
    - name: a file
      copy: {content: "written\\n", dest: "{{ root }}/written"}
"""
LOOP = WRITE + """\
    - name: a literal that is no list
      debug: {msg: "{{ item }}"}
      loop: 42
"""


def _nothing_written(lab: Lab) -> bool:
    return not any(root.exists() for root in lab.roots.values())


def _error(result: object) -> str:
    stderr = result.stderr  # type: ignore[attr-defined]
    assert result.returncode == 1, result.stdout + stderr  # type: ignore[attr-defined]
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("ERROR: "), stderr
    return lines[0]


def test_a_literal_loop_that_is_no_list_is_refused_before_connecting(lab: Lab) -> None:
    playbook = lab.workdir / "loop.yml"
    playbook.write_text(LOOP)
    line = _error(fleet("apply", "-i", str(lab.inventory), str(playbook)))
    assert line == f"ERROR: {playbook}:8: task 'a literal that is no list': loop needs a list, got a number 42"
    assert _nothing_written(lab)


def test_extra_vars_that_are_not_json_or_yaml_are_refused(lab: Lab) -> None:
    playbook = lab.workdir / "write.yml"
    playbook.write_text(WRITE)
    for value, problem in (("{broken json}", "as YAML 'broken json' is not a variable name"),
                           ("[1, 2", "or YAML (did not find expected ',' or ']'"),
                           ('{"a": 1, "a": 2}', "duplicate key 'a'"),
                           ("[1, 2]", "expected a mapping")):
        line = _error(fleet("apply", "-i", str(lab.inventory), str(playbook), "-e", value))
        assert line.startswith(f"ERROR: -e {value!r}: "), line
        assert problem in line, line
    assert _nothing_written(lab)


def test_a_limit_that_matches_no_host_exits_1(lab: Lab) -> None:
    playbook = lab.workdir / "write.yml"
    playbook.write_text(WRITE)
    line = _error(fleet("apply", "-i", str(lab.inventory), str(playbook), "--limit", "web*"))
    assert line == "ERROR: Specified hosts and/or --limit does not match any hosts (no group or host is called 'web*')"
    line = _error(fleet("run", "-i", str(lab.inventory), "h1", "--limit", "h2", "-m", "ping"))
    assert line == "ERROR: Specified hosts and/or --limit does not match any hosts"
    assert _nothing_written(lab)


def test_a_play_matching_nothing_warns_and_the_next_play_runs(lab: Lab) -> None:
    playbook = lab.workdir / "plays.yml"
    playbook.write_text("- hosts: webservers\n  gather_facts: false\n  tasks:\n    - ping:\n" + WRITE)
    result = fleet("apply", "-i", str(lab.inventory), str(playbook), "--json", str(lab.workdir / "r.json"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "[WARNING] Could not match supplied host pattern, ignoring: webservers" in result.stdout
    assert "PLAY [webservers] — no hosts matched" in result.stdout
    data = json.loads((lab.workdir / "r.json").read_text())
    assert data["warnings"] == ["Could not match supplied host pattern, ignoring: webservers"]
    assert all((root / "written").read_text() == "written\n" for root in lab.roots.values())


def test_a_binary_inventory_names_the_file_and_byte_offset(lab: Lab, tmp_path: Path) -> None:
    playbook = lab.workdir / "write.yml"
    playbook.write_text(WRITE)
    text = lab.inventory.read_text()
    binary = tmp_path / "inventory.ini"
    start = b"[fleet]\nh1 ansible_host=127.0.0.1\n"
    binary.write_bytes(start + b"\x00\x00\x7fELF")
    line = _error(fleet("apply", "-i", str(binary), str(playbook)))
    assert line == f"ERROR: {binary}:3: inventory file is binary, not text: a NUL byte at byte offset {len(start)}"
    latin = tmp_path / "inventory.yml"
    latin.write_bytes(text.encode() + b"# caf\xe9\n")
    line = _error(fleet("apply", "-i", str(latin), str(playbook)))
    offset = len(text.encode()) + 5
    assert line == (f"ERROR: {latin}:{text.count(chr(10)) + 1}: inventory file is not UTF-8 text (a binary file?): "
                    f"byte 0xe9 at byte offset {offset} (invalid continuation byte)")
    assert _nothing_written(lab)
