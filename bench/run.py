"""Benchmark configuration tools over real SSH on loopback; write bench/RESULTS.md.

    python bench/run.py [--hosts 1,10,50] [--runs 3] [--workload baseline] [--out bench/RESULTS.md]

For each tool, workload and host count N: N inventory hosts on one local sshd (each working
under its own directory), then ``runs`` x (first apply on fresh directories, re-apply, check),
reporting medians of wall time, controller CPU, peak RSS, host CPU and changed counts. See
bench/README.md.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from benchlib import machine, report, workloads
from benchlib.hosts import BenchHosts, choose_login_user
from benchlib.suite import SizeResult, Suite
from benchlib.tools import RUNNERS, runner

from fleet.testing.sshd import find_sshd

HERE = Path(__file__).resolve().parent


def _ints(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError("host counts must be >= 1")
    return values


def _names(text: str) -> list[str]:
    return [v.strip() for v in text.split(",") if v.strip()]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hosts", type=_ints, default=[1, 10, 50], help="host counts (default 1,10,50)")
    parser.add_argument("--runs", type=int, default=3, help="runs per cell; the median is reported (default 3)")
    parser.add_argument("--workload", type=_names, default=["baseline"],
                        help=f"workload(s), comma-separated: {', '.join(workloads.available())}")
    parser.add_argument("--tools", type=_names, default=["fleet"],
                        help=f"tool(s), comma-separated: {', '.join(c.name for c in RUNNERS)}")
    parser.add_argument("--out", type=Path, default=HERE / "RESULTS.md",
                        help="markdown results; raw JSON goes to results/ beside it")
    parser.add_argument("--forks", type=int, default=0, help="parallel hosts (default: all N at once)")
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds before a tool run is killed")
    parser.add_argument("--quiet-wait", type=float, default=20.0,
                        help="before each run, wait up to this many seconds for an idle machine (0: no wait)")
    parser.add_argument("--workdir", type=Path, help="workspace (default: a temp dir, removed afterwards)")
    parser.add_argument("--keep", action="store_true", help="keep the workspace (logs, reports, host dirs)")
    parser.add_argument("--no-warmup", action="store_true", help="skip the unmeasured warm-up apply")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be >= 1")
    return args


def run(args: argparse.Namespace) -> int:
    """Run the benchmark; 0 when every row is valid, 1 otherwise."""
    if find_sshd() is None:
        print("sshd not found: install openssh-server", file=sys.stderr)
        return 1
    selected = [workloads.Workload.load(name) for name in args.workload]
    tools = [runner(name) for name in args.tools]
    for tool in tools:
        if reason := tool.unavailable():
            print(f"{tool.name}: {reason}", file=sys.stderr)
            return 1
    workspace = args.workdir or Path(tempfile.mkdtemp(prefix="fleet-bench-"))
    login_user = choose_login_user()
    print(f"workspace {workspace}; hosts log in as {login_user}", file=sys.stderr)
    results: dict[str, list[SizeResult]] = {w.name: [] for w in selected}
    try:
        with BenchHosts(workspace, login_user, max_sessions=max(1000, 2 * max(args.hosts))) as bench:
            for workload in selected:
                for tool in tools:
                    suite = Suite(tool, workload, bench, timeout=args.timeout, quiet_wait=args.quiet_wait)
                    if not args.no_warmup:
                        suite.warm_up()
                    for count in args.hosts:
                        results[workload.name].append(suite.measure(count, args.runs, args.forks or None))
    finally:
        if not (args.keep or args.workdir):
            shutil.rmtree(workspace, ignore_errors=True)
    write_outputs(args, selected, tools, results)
    return 0 if all(r.valid for rows in results.values() for r in rows) else 1


def write_outputs(args: argparse.Namespace, selected: list[workloads.Workload], tools: list,
                  results: dict[str, list[SizeResult]]) -> None:
    """RESULTS.md sections (machine + one per workload) and results/<workload>.json."""
    about = machine.describe()
    versions = {tool.name: tool.version() for tool in tools}
    sections = {"machine": report.machine_section(about, versions)}
    for workload in selected:
        rows = results[workload.name]
        sections[f"workload-{workload.name}"] = report.workload_section(workload.name, workload.tasks, args.runs, rows)
        raw = {"machine": about, "versions": versions, "workload": workload.name, "tasks": workload.tasks,
               "runs": args.runs, "hosts": args.hosts, "results": [r.to_dict() for r in rows]}
        path = report.write_raw(args.out.parent / "results" / f"{workload.name}.json", raw)
        print(f"raw results: {path}", file=sys.stderr)
    report.update_results(args.out, sections)
    print(f"results: {args.out}", file=sys.stderr)
    for workload in selected:
        print(sections[f"workload-{workload.name}"])


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        return run(args)
    except (RuntimeError, ValueError) as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
