"""The benchmark harness runs end to end (2 hosts, 1 run) and its re-apply changes nothing.

A smoke test of bench/run.py, not a benchmark: no timing is asserted.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import shutil
import subprocess
import sys
import tempfile
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


def test_the_bridged_workload_with_kept_agents(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """Issue 19's benchmark: a role of Ansible's modules, fleet cold and with its daemon kept
    between runs (fleet-warm), whose kept sessions' host CPU counts and whose daemons end."""
    require(find_sshd() is not None, "sshd is not installed (apt-get install openssh-server)")
    require(importlib.util.find_spec("ansible_collections.community.general") is not None,
            "the 'ansible' package is not installed (pip install -e '.[test]')")
    out = tmp_path / "RESULTS.md"
    work = Path(tempfile.mkdtemp(prefix="fleet-bench-smoke-"))  # the hosts' login user must reach it
    work.chmod(0o755)
    request.addfinalizer(lambda: shutil.rmtree(work, ignore_errors=True))
    done = subprocess.run([sys.executable, str(REPO / "bench" / "run.py"), "--hosts", "2", "--runs", "1",
                           "--quiet-wait", "0", "--no-warmup", "--workload", "bridged", "--tools", "fleet,fleet-warm",
                           "--out", str(out), "--workdir", str(work)],
                          capture_output=True, text=True, timeout=900, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stdout + done.stderr
    table = out.read_text()
    assert "## Workload `bridged` (20 tasks)" in table and "INVALID (" not in table
    assert "### Wall time, against fleet with kept agents (fleet-warm)" in table
    raw = {r["tool"]: r for r in json.loads((tmp_path / "results" / "bridged.json").read_text())["results"]}
    warm = raw["fleet-warm"]["phases"]["re-apply"]
    assert set(warm["changed"]) == {0} and raw["fleet"]["phases"]["first apply"]["changed"][0] == 2 * 15
    assert warm["median"]["target_cpu_s"] > 0  # the kept agents' work counts although they keep running
    leftover = subprocess.run(["pgrep", "-f", "fleet.connection.mux.server"], capture_output=True, text=True).stdout
    for pid in leftover.split():
        with contextlib.suppress(OSError):
            assert str(work).encode() not in Path(f"/proc/{pid}/environ").read_bytes(), "a daemon was left running"


# The other tools' runners: how their output is read, and the ratio table. No tool is run.

def _benchlib():
    """Import the harness's modules (bench/ is not a package on sys.path)."""
    bench = str(REPO / "bench")
    if bench not in sys.path:
        sys.path.insert(0, bench)
    from benchlib import ansible_tools, compare, endstate, pyinfra_tool, suite, tools
    return ansible_tools, compare, endstate, pyinfra_tool, suite, tools


def test_ansible_counts_come_from_the_last_play_recap(tmp_path: Path) -> None:
    ansible_tools, *_, tools = _benchlib()
    log = tmp_path / "log"
    log.write_text("PLAY RECAP ***\nold : ok=1 changed=9 unreachable=0 failed=0\n\nTASK [x]\n"
                   "PLAY RECAP *********\n"
                   "h1                         : ok=30   changed=22   unreachable=0    failed=0    skipped=1\n"
                   "h2                         : ok=29   changed=0    unreachable=1    failed=2    skipped=1\n")
    outcome = ansible_tools.AnsibleRunner(tmp_path).outcome(tools.Phase.FIRST, 0, tmp_path / "none", log)
    assert (outcome.changed, outcome.ok, outcome.unreachable, outcome.failed) == (22, 59, 1, 2)
    log.write_text("ERROR! the playbook could not be found\n")
    assert ansible_tools.AnsibleRunner(tmp_path).outcome(tools.Phase.FIRST, 1, tmp_path, log).changed is None


def test_pyinfra_counts_come_from_its_json_document(tmp_path: Path) -> None:
    *_, pyinfra_tool, _, tools = _benchlib()
    runner, log = pyinfra_tool.PyinfraRunner(tmp_path), tmp_path / "log"
    applied = {"plan": [], "results": {"totals": {"hosts": 4, "success": 3, "error": 0, "no_change": 1},
                                       "failed_hosts": [], "operations": []}}
    log.write_text("--> Loading inventory...\n" + json.dumps(applied) + "\n--> Disconnecting\n")
    outcome = runner.outcome(tools.Phase.FIRST, 0, tmp_path, log)
    assert (outcome.changed, outcome.ok, outcome.failed) == (3, 4, 0)
    planned = {"plan": [{"hosts_with_change": ["h1", "h2"], "hosts_with_conditional_change": []},
                        {"hosts_with_change": [], "hosts_with_conditional_change": ["h1"]}], "results": None}
    log.write_text(json.dumps(planned) + "\n")
    assert runner.outcome(tools.Phase.CHECK, 0, tmp_path, log).changed == 2
    assert pyinfra_tool.known_hosts_file("-o UserKnownHostsFile=/k/known -o X=y") == "/k/known"


def test_comparison_table_gives_fleets_ratio_and_marks_invalid_cells() -> None:
    _, compare, _, _, suite, tools = _benchlib()
    from benchlib.measure import Measurement

    def result(tool: str, wall: float, problems: list[str]) -> object:
        phases = {p: suite.PhaseResult(p, [suite.RunRecord(Measurement(wall, wall / 2, 0.0, 102400, 0),
                                                             tools.Outcome(0, 0, 0))]) for p in tools.Phase}
        return suite.SizeResult(tool, "1", "baseline", 30, 10, 10, phases, problems)

    text = compare.comparison_section("baseline", 30, 1, [result("fleet", 1.5, []), result("ansible", 180.3, []),
                                                          result("pyinfra", 9.0, ["re-apply run 1: 3 changed"])])
    assert "| hosts | phase | fleet | ansible | pyinfra |" in text
    assert "| 10 | re-apply | 1.50 s | 180.30 s (120×) | INVALID (9.00 s) |" in text
    assert "| 10 | check | 100.0 MiB | 100.0 MiB (1.0×) | INVALID (100.0 MiB) |" in text


def test_end_state_comparison_ignores_where_the_root_is(tmp_path: Path) -> None:
    *_, endstate, _, _, _ = _benchlib()
    trees = []
    for name, mode in (("a", 0o644), ("b", 0o600)):
        root = tmp_path / name
        (root / "etc").mkdir(parents=True)
        (root / "etc" / "app.conf").write_text(f"data_dir = {root}/var\n")
        (root / "etc" / "app.conf").chmod(mode)
        (root / "etc" / "current.conf").symlink_to(root / "etc" / "app.conf")
        trees.append(endstate.snapshot(root))
    assert trees[0]["etc/app.conf"].content == "data_dir = {root}/var\n"
    found = endstate.differences(*trees, "fleet", "other")
    assert found == ["etc/app.conf: file 0o644 " + trees[0]["etc/app.conf"].owner + " with fleet, file 0o600 "
                     + trees[1]["etc/app.conf"].owner + " with other"]
