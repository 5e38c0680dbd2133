"""Check that every tool leaves the same end state as fleet, and is idempotent.

    python bench/check_state.py                                  # all tools, both workloads, 2 hosts
    python bench/check_state.py --tools fleet,pyinfra --workload loops --hosts 1

For each workload and tool: fresh host directories, first apply, re-apply, check (one run,
as bench/run.py measures it), then a snapshot of every host's tree (paths, types, modes,
owners, contents; the host's root path replaced by ``{root}``), compared with fleet's. Prints
each tool's changed counts and wall times, and every difference. Exits 0 when every tool
was valid (re-apply and check changed nothing, nothing failed) and every tree matches fleet's.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from benchlib import endstate, workloads
from benchlib.hosts import BenchHosts, choose_login_user
from benchlib.suite import Suite
from benchlib.toolenv import default_tools_dir
from benchlib.tools import Phase, runners


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tools", default="all", help="tools, comma-separated, or all (fleet is always included)")
    parser.add_argument("--workload", default=",".join(workloads.available()), help="workloads, comma-separated")
    parser.add_argument("--hosts", type=int, default=2, help="hosts per tool (default 2)")
    parser.add_argument("--tools-dir", type=Path, default=default_tools_dir(), help="the tools' venvs")
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds before a tool run is killed")
    parser.add_argument("--workdir", type=Path, help="workspace (default: a temp dir, removed afterwards)")
    return parser.parse_args(argv)


def check_workload(bench: BenchHosts, workload: workloads.Workload, tools: list, args: argparse.Namespace) -> bool:
    """Apply every tool once on fresh hosts; True when all are valid and match fleet's trees."""
    print(f"== workload {workload.name}, {args.hosts} host(s)")
    reference: dict[str, dict[str, endstate.Entry]] = {}
    ok = True
    for tool in tools:
        suite = Suite(tool, workload, bench, progress=lambda _: None, timeout=args.timeout, quiet_wait=0)
        cell = suite.prepare(args.hosts)
        suite.run_once(cell, 1)
        result = cell.result
        timings = ", ".join(f"{p} {result.phases[p].wall_s:.2f} s changed={result.phases[p].changed[0]}"
                            for p in Phase)
        print(f"{tool.name}: {'valid' if result.valid else 'INVALID'}; {timings}")
        for problem in result.problems:
            print(f"  problem: {problem}")
        ok = ok and result.valid
        trees = {name: endstate.snapshot(root) for name, root in cell.hosts.roots.items()}
        if not reference:
            reference = trees
            continue
        for name, tree in trees.items():
            found = endstate.differences(reference[name], tree, "fleet", tool.name)
            for line in found:
                print(f"  {name}: {line}")
            if not found:
                print(f"  {name}: same tree as fleet ({len(tree)} paths)")
            ok = ok and not found
    return ok


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    names = [n.strip() for n in args.tools.split(",") if n.strip()]
    tools = runners(names if names == ["all"] else ["fleet", *names], args.tools_dir)
    for tool in tools:
        if reason := tool.unavailable():
            print(f"{tool.name}: {reason}", file=sys.stderr)
            return 1
    selected = [workloads.Workload.load(n.strip()) for n in args.workload.split(",") if n.strip()]
    workspace = args.workdir or Path(tempfile.mkdtemp(prefix="fleet-bench-state-"))
    ok = True
    try:
        with BenchHosts(workspace, choose_login_user()) as bench:
            for workload in selected:
                ok = check_workload(bench, workload, tools, args) and ok
    finally:
        if not args.workdir:
            shutil.rmtree(workspace, ignore_errors=True)
    print("all tools valid, same end state as fleet" if ok else "DIFFERENCES or INVALID runs (see above)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
