"""Benchmark configuration tools over real SSH on loopback; write bench/RESULTS.md.

    python bench/run.py [--hosts 1,10,50] [--runs 3] [--workload baseline] [--out bench/RESULTS.md]
    python bench/run.py --tools all --hosts 1,10,50 --fleet-hosts 200,1000 --workload baseline,loops

For each tool, workload and host count N: N inventory hosts on one local sshd (each working
under its own directory), then ``runs`` x (first apply on fresh directories, re-apply, check),
reporting medians of wall time, controller CPU, peak RSS, host CPU and changed counts. The
tools take turns run by run. With other tools than fleet, a second table per workload gives
fleet's ratio to each. Tools other than fleet need ``python bench/setup_tools.py`` first. See
bench/README.md.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from benchlib import compare, machine, report, workloads
from benchlib.hosts import BenchHosts, choose_login_user
from benchlib.suite import Cell, SizeResult, Suite
from benchlib.toolenv import default_tools_dir
from benchlib.tools import RUNNERS, ToolRunner, runners

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


def _limit(text: str) -> tuple[str, str, int]:
    """``[WORKLOAD:]TOOL=N`` -> (workload or "", tool, N)."""
    try:
        target, count = text.rsplit("=", 1)
        workload, _, tool = target.rpartition(":")
        return workload, tool, int(count)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected [WORKLOAD:]TOOL=N, got {text!r}") from None


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hosts", type=_ints, default=[1, 10, 50], help="host counts (default 1,10,50)")
    parser.add_argument("--runs", type=int, default=3, help="runs per cell; the median is reported (default 3)")
    parser.add_argument("--workload", type=_names, default=["baseline"],
                        help=f"workload(s), comma-separated: {', '.join(workloads.available())}")
    parser.add_argument("--tools", type=_names, default=["fleet"],
                        help=f"tool(s), comma-separated, or all: {', '.join(c.name for c in RUNNERS)}")
    parser.add_argument("--fleet-hosts", type=_ints, default=[],
                        help="further host counts for fleet alone (e.g. 200,1000)")
    parser.add_argument("--max-hosts", type=_limit, action="append", default=[], metavar="[WORKLOAD:]TOOL=N",
                        help="measure TOOL only at host counts <= N (0: not at all), in every workload or "
                             "in one; repeatable. For a session-sized comparison: Ansible at N=50 takes hours")
    parser.add_argument("--tools-dir", type=Path, default=default_tools_dir(),
                        help="where bench/setup_tools.py put the other tools' venvs (default %(default)s)")
    parser.add_argument("--out", type=Path, default=HERE / "RESULTS.md",
                        help="markdown results; raw JSON goes to results/ beside it")
    parser.add_argument("--forks", type=int, default=0, help="parallel hosts (default: all N at once)")
    parser.add_argument("--timeout", type=float, default=7200.0,
                        help="seconds before a tool run is killed (default 7200: Ansible on loops at N=50 is long)")
    parser.add_argument("--quiet-wait", type=float, default=20.0,
                        help="before each run, wait up to this many seconds for an idle machine (0: no wait)")
    parser.add_argument("--workdir", type=Path, help="workspace (default: a temp dir, removed afterwards)")
    parser.add_argument("--keep", action="store_true", help="keep the workspace (logs, reports, host dirs)")
    parser.add_argument("--no-warmup", action="store_true", help="skip the unmeasured warm-up apply")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be >= 1")
    return args


def plan(args: argparse.Namespace, tools: list[ToolRunner], workload: str = "") -> list[tuple[int, list[ToolRunner]]]:
    """Host counts in order, each with the tools measured at it (fleet alone at ``--fleet-hosts``;
    a tool not beyond its ``--max-hosts``)."""
    limits: dict[str, int] = {}
    for scope, tool, count in args.max_hosts:
        if scope in ("", workload):
            limits[tool] = min(count, limits.get(tool, count))
    fleet = [t for t in tools if t.name == "fleet"]
    sizes = [(count, [t for t in tools if count <= limits.get(t.name, count)]) for count in args.hosts]
    sizes += [(count, fleet) for count in args.fleet_hosts if count not in args.hosts and fleet]
    return [(count, present) for count, present in sizes if present]


def measure_workload(bench: BenchHosts, workload: workloads.Workload, tools: list[ToolRunner],
                     args: argparse.Namespace) -> list[SizeResult]:
    """Every size of one workload, the tools interleaved run by run."""
    sizes = plan(args, tools, workload.name)
    measured = {t.name for _, present in sizes for t in present}
    tools = [t for t in tools if t.name in measured]
    suites = {t.name: Suite(t, workload, bench, timeout=args.timeout, quiet_wait=args.quiet_wait) for t in tools}
    if not args.no_warmup:
        for suite in suites.values():
            suite.warm_up()
    results: list[SizeResult] = []
    for count, present in sizes:
        cells: list[tuple[Suite, Cell]] = [(suites[t.name], suites[t.name].prepare(count, args.forks or None))
                                           for t in present]
        for run in range(1, args.runs + 1):
            for suite, cell in cells:
                suite.run_once(cell, run)
        results += [cell.result for _, cell in cells]
    return results


def run(args: argparse.Namespace) -> int:
    """Run the benchmark; 0 when every row is valid, 1 otherwise."""
    if find_sshd() is None:
        print("sshd not found: install openssh-server", file=sys.stderr)
        return 1
    selected = [workloads.Workload.load(name) for name in args.workload]
    tools = runners(args.tools, args.tools_dir)
    for tool in tools:
        if reason := tool.unavailable():
            print(f"{tool.name}: {reason}", file=sys.stderr)
            return 1
    workspace = args.workdir or Path(tempfile.mkdtemp(prefix="fleet-bench-"))
    login_user = choose_login_user()
    print(f"workspace {workspace}; hosts log in as {login_user}", file=sys.stderr)
    results: dict[str, list[SizeResult]] = {}
    most = max([*args.hosts, *args.fleet_hosts])
    try:
        with BenchHosts(workspace, login_user, max_sessions=max(1000, 2 * most)) as bench:
            try:
                for workload in selected:
                    results[workload.name] = measure_workload(bench, workload, tools, args)
            finally:
                for tool in tools:
                    tool.close()
    finally:
        if not (args.keep or args.workdir):
            shutil.rmtree(workspace, ignore_errors=True)
    write_outputs(args, selected, tools, results)
    return 0 if all(r.valid for rows in results.values() for r in rows) else 1


def write_outputs(args: argparse.Namespace, selected: list[workloads.Workload], tools: list[ToolRunner],
                  results: dict[str, list[SizeResult]]) -> None:
    """RESULTS.md sections (machine + one or two per workload) and results/<workload>.json."""
    about = machine.describe()
    versions = {tool.name: tool.version() for tool in tools}
    sections = {"machine": report.machine_section(about, versions)}
    for workload in selected:
        rows = results[workload.name]
        sections[f"workload-{workload.name}"] = report.workload_section(workload.name, workload.tasks, args.runs, rows)
        if len(tools) > 1:
            sections[f"compare-{workload.name}"] = compare.comparison_section(
                workload.name, workload.tasks, args.runs, rows)
        raw = {"machine": about, "versions": versions, "workload": workload.name, "tasks": workload.tasks,
               "runs": args.runs, "hosts": args.hosts, "fleet_hosts": args.fleet_hosts,
               "results": [r.to_dict() for r in rows]}
        path = report.write_raw(args.out.parent / "results" / f"{workload.name}.json", raw)
        print(f"raw results: {path}", file=sys.stderr)
    report.update_results(args.out, sections)
    print(f"results: {args.out}", file=sys.stderr)
    for name, body in sections.items():
        if name != "machine":
            print(body)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        return run(args)
    except (RuntimeError, ValueError) as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
