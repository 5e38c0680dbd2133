"""The benchmark harness runs end to end (2 hosts, 1 run) and its re-apply changes nothing.

A smoke test of bench/run.py, not a benchmark: no timing is asserted.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from fleet.testing.sshd import find_sshd
from tests.conftest import REPO, require

pytestmark = pytest.mark.e2e


def test_bench_harness_produces_the_table_and_reapply_changes_nothing(tmp_path: Path) -> None:
    require(find_sshd() is not None, "sshd is not installed (apt-get install openssh-server)")
    out = tmp_path / "RESULTS.md"
    done = subprocess.run([sys.executable, str(REPO / "bench" / "run.py"), "--hosts", "2", "--runs", "1", "--quiet-wait", "0",
                           "--out", str(out)],
                          capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stdout + done.stderr

    table = out.read_text()
    assert "## Workload `baseline` (30 tasks)" in table
    assert "| tool | hosts | phase |" in table
    for phase in ("first apply", "re-apply", "check"):
        assert f"| 2 | {phase} |" in table
    assert "INVALID" not in table

    raw = json.loads((tmp_path / "results" / "baseline.json").read_text())
    (result,) = raw["results"]
    assert result["tool"] == "fleet" and result["hosts"] == 2 and result["valid"], result["problems"]
    assert result["phases"]["first apply"]["changed"][0] > 0
    assert result["phases"]["re-apply"]["changed"] == [0]
    assert result["phases"]["check"]["changed"] == [0]
    assert result["reapply_cpu_ms_per_task_host"] > 0
