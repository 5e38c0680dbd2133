"""Small things a first hour meets, over real SSH: a module typo gets a did-you-mean, a YAML
error names the line where it starts, the recap counts "1 host"; ``fleet modules`` lists the
controller actions and ``fleet lab up --help`` says what -n is."""

from __future__ import annotations

import re

from tests.conftest import fleet
from tests.e2e.conftest import Lab

TASKS = """\
- hosts: all
  gather_facts: false
  tasks:
    - name: its directory
      file: {path: "{{ root }}", state: directory}
"""


def _one_error(result: object) -> str:
    assert result.returncode == 1, result.stdout + result.stderr  # type: ignore[attr-defined]
    lines = [line for line in result.stderr.splitlines() if line.strip()]  # type: ignore[attr-defined]
    assert len(lines) == 1, lines
    return lines[0]


def test_a_module_typo_in_a_playbook_gets_a_did_you_mean(lab: Lab) -> None:
    playbook = lab.workdir / "typo.yml"
    playbook.write_text(TASKS + "    - linefile: {path: \"{{ root }}/f\", line: x, create: true}\n")
    line = _one_error(fleet("apply", "-i", str(lab.inventory), str(playbook)))
    assert line == f"ERROR: {playbook}:6: unknown module 'linefile' (did you mean 'lineinfile'?)"
    assert not any(root.exists() for root in lab.roots.values())


def test_an_unterminated_quote_is_reported_where_it_starts(lab: Lab) -> None:
    playbook = lab.workdir / "quote.yml"
    playbook.write_text(TASKS + '    - debug: {msg: "open}\n    - ping:\n')
    assert len(playbook.read_text().splitlines()) == 7
    line = _one_error(fleet("apply", "-i", str(lab.inventory), str(playbook)))
    assert line.startswith(f"ERROR: {playbook}:6: YAML syntax error: found unexpected end of stream while scanning "
                           "a quoted scalar"), line
    assert not any(root.exists() for root in lab.roots.values())


def test_the_recap_counts_one_host(lab: Lab) -> None:
    playbook = lab.workdir / "one.yml"
    playbook.write_text(TASKS)
    result = fleet("apply", "-i", str(lab.inventory), str(playbook), "--limit", "h1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"^OK — 1 changed, 0 failed, 0 unreachable, 1 host in [0-9.]+ s$", result.stdout, re.M), \
        result.stdout
    result = fleet("apply", "-i", str(lab.inventory), str(playbook))
    assert re.search(r"^OK — 2 changed, 0 failed, 0 unreachable, 3 hosts in ", result.stdout, re.M), result.stdout


def test_fleet_modules_lists_and_documents_the_controller_actions() -> None:
    listed = fleet("modules")
    assert listed.returncode == 0, listed.stderr
    names = {line.split()[0] for line in listed.stdout.splitlines() if line and not line.endswith(":")}
    assert {"debug", "assert", "fail", "set_fact", "include_vars", "meta", "lineinfile"} <= names
    for action, word in (("debug", "msg"), ("assert", "that"), ("meta", "flush_handlers"),
                         ("ansible.builtin.set_fact", "cacheable")):
        shown = fleet("modules", action)
        assert shown.returncode == 0 and word in shown.stdout, shown.stdout + shown.stderr
    assert _one_error(fleet("modules", "linefile")) == "ERROR: unknown module 'linefile' (did you mean 'lineinfile'?)"


def test_lab_up_help_says_what_n_is() -> None:
    shown = fleet("lab", "up", "--help")
    assert shown.returncode == 0
    assert "COUNT" not in shown.stdout
    assert re.search(r"-n, --hosts N\s+How many hosts to start", shown.stdout), shown.stdout
