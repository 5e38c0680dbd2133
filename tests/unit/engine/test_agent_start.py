"""Starting the agent: a missing interpreter is one clear message naming the fix."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import fleet


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
