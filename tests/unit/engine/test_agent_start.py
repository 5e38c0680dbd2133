"""Starting the agent: a missing interpreter is one clear message naming the fix."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import fleet, require


def test_missing_python_is_a_clear_unreachable_message(tmp_path: Path) -> None:
    inventory = tmp_path / "inv.yml"
    inventory.write_text(
        "all:\n  hosts:\n"
        "    nopython: {ansible_connection: local, ansible_python_interpreter: /nonexistent/python3}\n"
        "    fine: {ansible_connection: local}\n"
    )
    result = fleet("run", "-i", str(inventory), "all", "-m", "ping", "--json", str(tmp_path / "r.json"))
    assert result.returncode == 1
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["hosts"]["fine"]["status"] == "ok"
    assert report["hosts"]["nopython"]["status"] == "unreachable"
    msg = report["hosts"]["nopython"]["results"][0]["msg"]
    assert "/nonexistent/python3 not found on the host" in msg
    assert "install Python 3" in msg and "ansible_python_interpreter" in msg
    assert "Traceback" not in result.stdout + result.stderr


def test_agent_runs_on_the_oldest_supported_python_syntax() -> None:
    import ast

    from fleet.agent import AGENT_MODULES

    for name in AGENT_MODULES:
        source = (Path(__file__).resolve().parents[3] / "fleet" / "agent" / f"{name}.py").read_text()
        ast.parse(source, feature_version=(3, 8))


def _pyenv(version: str) -> str | None:
    import glob

    found = sorted(glob.glob(f"/root/.pyenv/versions/{version}*/bin/python{version}"))
    return found[-1] if found else None


PLAY = """\
- hosts: all
  gather_facts: true
  tasks:
    - file: {path: "{{ root }}/d", state: directory, mode: "0750"}
    - copy: {dest: "{{ root }}/d/f", content: "x\\n", force: false}
    - lineinfile: {path: "{{ root }}/d/f", line: "y"}
    - command: "touch {{ root }}/d/c"
      args: {creates: "{{ root }}/d/c"}
    - assert: {that: ["ansible_facts.python.version.major == 3"]}
"""


@pytest.mark.parametrize("version", ["3.8", "3.12", "3.13"])
def test_agent_and_modules_on_other_pythons(version: str, tmp_path: Path) -> None:
    """Other bytecode tags get sources (compiled there); 3.8 is the oldest supported target."""
    interpreter = _pyenv(version)
    require(interpreter is not None, f"no Python {version} here (pyenv)")
    inventory = tmp_path / "inv.yml"
    inventory.write_text(f"all:\n  hosts:\n    t: {{ansible_connection: local, "
                         f"ansible_python_interpreter: {interpreter}, root: {tmp_path}}}\n")
    (tmp_path / "play.yml").write_text(PLAY)
    first = fleet("apply", "-i", str(inventory), str(tmp_path / "play.yml"), "--json", str(tmp_path / "1.json"))
    assert first.returncode == 0, first.stdout + first.stderr
    assert (tmp_path / "d" / "f").read_text() == "x\ny\n"
    second = fleet("apply", "-i", str(inventory), str(tmp_path / "play.yml"), "--json", str(tmp_path / "2.json"))
    assert second.returncode == 0, second.stdout
    assert json.loads((tmp_path / "2.json").read_text())["summary"]["changed"] == 0


@pytest.mark.parametrize("version", ["3.7", "2.7"])
def test_too_old_python_is_refused_clearly(version: str, tmp_path: Path) -> None:
    interpreter = _pyenv(version)
    require(interpreter is not None, f"no Python {version} here (pyenv)")
    inventory = tmp_path / "inv.yml"
    inventory.write_text(f"all:\n  hosts:\n    old: {{ansible_connection: local, ansible_python_interpreter: {interpreter}}}\n")
    result = fleet("run", "-i", str(inventory), "all", "-m", "ping")
    assert result.returncode == 1
    assert "the agent needs Python >= 3.8" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr
