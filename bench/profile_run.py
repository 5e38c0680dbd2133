"""Where a re-apply's time goes: cost decomposition, import time, cProfile (and py-spy).

    python bench/profile_run.py [--hosts 50] [--runs 3] [--workload baseline] [--out DIR] [--py-spy]

Starts the benchmark hosts (as bench/run.py does), converges N hosts once, then measures,
each as the median of ``runs``:

1. ``python -c pass``                  interpreter start
2. ``python -m fleet --version``       + importing the CLI
3. ``fleet run bench -m ping``         + inventory, connections, agent start, one round trip
4. ``fleet apply`` (re-apply)          + the workload's other tasks

and writes to DIR (default: a temp dir) the ``-X importtime`` top imports, a cProfile of
one re-apply (``reapply.prof`` and its top functions) and, with ``--py-spy`` (py-spy on
PATH), a sampled profile including native frames.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from benchlib import profiling
from benchlib.hosts import BenchHosts, choose_login_user
from benchlib.measure import Measurement, run_measured
from benchlib.toolbase import base_env
from benchlib.tools import FleetRunner, Phase
from benchlib.workloads import HOST_GROUP, Workload


def cold_env() -> dict[str, str]:
    """The environment for profiled runs: no persistence daemon, so every run pays its own
    connections and agents (the cost being decomposed)."""
    return dict(base_env(), FLEET_PERSIST="0")


def _median(runs: list[Measurement]) -> dict[str, float]:
    return {"wall_s": statistics.median(m.wall_s for m in runs),
            "cpu_s": statistics.median(m.cpu_s for m in runs),
            "host_cpu_s": statistics.median(m.target_cpu_s or 0.0 for m in runs)}


def _measure(bench: BenchHosts, argv: list[str], out: Path, label: str, runs: int) -> dict[str, float]:
    found = []
    for run in range(runs):
        bench.settle()
        before = bench.target_cpu_seconds() or 0.0
        m = run_measured(argv, env=cold_env(), log=out / f"{label}-{run}.log")
        if m.exit_code != 0:
            raise RuntimeError(f"{label}: exit code {m.exit_code}, see {out / f'{label}-{run}.log'}")
        bench.settle()
        found.append(Measurement(m.wall_s, m.user_s, m.sys_s, m.max_rss_kib, m.exit_code,
                                 target_cpu_s=(bench.target_cpu_seconds() or 0.0) - before))
    return _median(found)


def decomposition(bench: BenchHosts, inventory: Path, workload: Workload, hosts: int, out: Path,
                  runs: int) -> str:
    """The four steps' medians and the increments between them, as a markdown table."""
    py, fleet = sys.executable, [sys.executable, "-m", "fleet"]
    steps = [
        ("python -c pass", [py, "-c", "pass"]),
        ("fleet --version (CLI import)", [*fleet, "--version"]),
        (f"fleet run -m ping, {hosts} hosts", [*fleet, "run", HOST_GROUP, "-i", str(inventory), "-m", "ping",
                                                "--forks", str(hosts)]),
        (f"fleet apply (re-apply), {hosts} hosts", FleetRunner().command(
            Phase.REAPPLY, inventory, workload.playbook, out / "reapply.json", hosts)),
    ]
    lines = ["| step | wall s | controller CPU s | host CPU s | + wall | + controller CPU | + host CPU |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    previous = None
    for index, (label, argv) in enumerate(steps):
        now = _measure(bench, argv, out, f"step{index}", runs)
        delta = {k: now[k] - (previous[k] if previous else 0.0) for k in now}
        lines.append(f"| {label} | {now['wall_s']:.3f} | {now['cpu_s']:.3f} | {now['host_cpu_s']:.3f} "
                     f"| {delta['wall_s']:.3f} | {delta['cpu_s']:.3f} | {delta['host_cpu_s']:.3f} |")
        previous = now
    return "\n".join(lines) + "\n"


def import_report() -> str:
    """Import time of the CLI by package (``-X importtime`` inflates it: read the shares)."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "fleet", "--version"],
                          capture_output=True, text=True, check=True)
    total, packages = profiling.self_time_by_package(done.stderr)
    lines = [f"own import time by top-level package, under -X importtime (total {total:.3f} s; one run)"]
    lines += [f"{seconds:7.3f} s {100 * seconds / total:5.1f}%  {name}" for name, seconds in packages]
    return "\n".join(lines) + "\n"


CPU_PROFILE = """\
import cProfile, json, sys, time
out, args = sys.argv[1], json.loads(sys.argv[2])
sys.argv = ["fleet", *args]
profile = cProfile.Profile(time.process_time)
profile.enable()
try:
    from fleet.cli import main
    main()
except SystemExit:
    pass
finally:
    profile.disable()
    profile.dump_stats(out)
"""


def profiles(inventory: Path, workload: Workload, hosts: int, out: Path, py_spy: bool) -> str:
    """CPU-time cProfile (and py-spy) of one re-apply, imports included; their summaries.

    The profile's clock is the process's CPU time, not wall time: on a loaded machine a
    wall-clock profile charges the time the controller waits for a CPU to whatever it was
    doing then (typically a socket ``send`` that wakes an sshd).
    """
    apply = FleetRunner().command(Phase.REAPPLY, inventory, workload.playbook, out / "profiled.json", hosts)[3:]
    prof = out / "reapply.prof"
    subprocess.run([sys.executable, "-c", CPU_PROFILE, str(prof), json.dumps(apply)], check=True,
                   stdout=subprocess.DEVNULL, env=cold_env())
    text = profiling.cprofile_by_area(prof) + "\n" + profiling.cprofile_summary(prof)
    spy = shutil.which("py-spy")
    if py_spy and spy:
        raw = out / "reapply.pyspy.txt"
        subprocess.run([spy, "record", "--format", "raw", "--rate", "250", "--gil", "-o", str(raw), "--",
                        sys.executable, "-m", "fleet", *apply], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, env=cold_env())
        text += "\n== py-spy (250 Hz, GIL-holding samples only)\n" + profiling.folded_summary(raw)
    elif py_spy:
        text += "\npy-spy not found on PATH (pip install py-spy)\n"
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hosts", type=int, default=50)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workload", default="baseline")
    parser.add_argument("--out", type=Path, help="where to write profiles (default: a temp dir, kept)")
    parser.add_argument("--py-spy", action="store_true", help="also sample with py-spy (must be on PATH)")
    args = parser.parse_args(argv)
    out = args.out or Path(tempfile.mkdtemp(prefix="fleet-profile-"))
    out.mkdir(parents=True, exist_ok=True)
    workload = Workload.load(args.workload)
    workspace = Path(tempfile.mkdtemp(prefix="fleet-bench-profile-"))
    try:
        with BenchHosts(workspace, choose_login_user()) as bench:
            hosts = bench.host_set("profile", args.hosts)
            hosts.reset()
            inventory = hosts.write_ansible_inventory(hosts.base.parent / "inventory.yml")
            converge = FleetRunner().command(Phase.FIRST, inventory, workload.playbook, out / "first.json", args.hosts)
            if run_measured(converge, env=cold_env(), log=out / "first.log").exit_code != 0:
                raise RuntimeError(f"the converging apply failed: see {out / 'first.log'}")
            report = "## Cost decomposition (medians)\n\n" + decomposition(
                bench, inventory, workload, args.hosts, out, args.runs)
            report += "\n## CLI import time\n\n```\n" + import_report() + "```\n"
            report += "\n## Profile of one re-apply\n\n```\n" + profiles(
                inventory, workload, args.hosts, out, args.py_spy) + "```\n"
    finally:
        shutil.rmtree(workspace, ignore_errors=True)
    (out / "profile.md").write_text(report)
    print(report)
    print(f"profiles in {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
