"""``fleet drift`` next to ``fleet apply`` and ``fleet check`` on N loopback hosts.

    python bench/drift_bench.py [--hosts 50] [--runs 5] [--workload baseline]

Converges N hosts (bench/workloads/WORKLOAD, real sshd on loopback), then takes turns run by
run: re-apply, check, drift (clean), and drift after one file per host was edited by hand
(every host drifted). Prints median wall times and the agent round trips per host, which
must stay at or below one per task (the issue's bound; pipelining makes it far fewer).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchlib.hosts import BenchHosts, choose_login_user

HERE = Path(__file__).resolve().parent
FLEET = [sys.executable, "-m", "fleet"]


def fleet(*args: str) -> tuple[float, subprocess.CompletedProcess[str]]:
    started = time.perf_counter()
    done = subprocess.run([*FLEET, *args], capture_output=True, text=True, check=False)
    return time.perf_counter() - started, done


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hosts", type=int, default=50)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--workload", default="baseline")
    args = parser.parse_args()
    playbook = HERE / "workloads" / args.workload / "playbook.yml"
    workspace = Path(tempfile.mkdtemp(prefix="fleet-drift-bench-", dir="/tmp"))
    with BenchHosts(workspace, choose_login_user()) as bench:
        hosts = bench.host_set("drift", args.hosts)
        hosts.reset()
        inventory = hosts.write_ansible_inventory(workspace / "inventory.yml")
        common = ["-i", str(inventory), str(playbook)]
        _, first = fleet("apply", *common)
        if first.returncode != 0:
            print(first.stdout[-3000:], first.stderr[-3000:])
            return 1
        times: dict[str, list[float]] = {"re-apply": [], "check": [], "drift (clean)": [], "drift (all drifted)": []}
        rounds: dict[str, int] = {}
        tasks = 0
        for run in range(args.runs):
            for phase, argv, expect in (("re-apply", ["apply", *common], 0), ("check", ["check", *common], 0),
                                        ("drift (clean)", ["drift", *common], 0)):
                bench.settle()
                elapsed, done = fleet(*argv, "--json", str(workspace / "r.json"))
                assert done.returncode == expect, (phase, done.stdout[-2000:], done.stderr[-2000:])
                times[phase].append(elapsed)
            for root in hosts.roots.values():
                (root / "etc" / "motd").write_text(f"edited by hand, run {run}\n")
            bench.settle()
            elapsed, done = fleet("drift", *common, "--json", str(workspace / "d.json"))
            assert done.returncode == 2, done.stdout[-2000:]
            times["drift (all drifted)"].append(elapsed)
            report = json.loads((workspace / "d.json").read_text())
            assert report["drift"]["summary"]["drifted"] == args.hosts
            tasks = len(report["drift"]["hosts"]["h1"]["tasks"])
            rounds = {name: host["agent_requests"] for name, host in report["hosts"].items()}
            fleet("apply", *common)
    print(f"{args.hosts} hosts, workload {args.workload} ({tasks} tasks per host), {args.runs} runs, median wall s:")
    for phase, values in times.items():
        print(f"  {phase:22s} {statistics.median(values):6.2f}   (min {min(values):.2f}, max {max(values):.2f})")
    most = max(rounds.values())
    print(f"agent round trips per host in a drift run: max {most}, for {tasks} tasks "
          f"({'within' if most <= tasks else 'OVER'} one per task)")
    return 0 if most <= tasks else 1


if __name__ == "__main__":
    sys.exit(main())
