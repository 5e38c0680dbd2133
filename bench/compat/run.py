#!/usr/bin/env python3
"""Fleet against ansible-playbook on the same roles and integration targets.

    python bench/compat/run.py                          # the whole corpus (corpus.toml)
    python bench/compat/run.py --kind target --only file,copy
    python bench/compat/run.py --mirror /work/.mirror --out bench/compat/RESULTS.md --json /tmp/c.json

Each item gets two fresh lab hosts (``fleet lab up``; the lab image must exist: ``fleet lab
setup``), is applied twice by each tool (at the same time, one host each), and is judged on
per-task results, final host state and the second apply (see ``compat/pairing.py``). Exit
code: 0 when the run finished (whatever the verdicts), 2 on bad arguments or corpus.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

from compat import corpus, report, sources  # noqa: E402
from compat.item import ItemResult, Settings, run_item  # noqa: E402

DEFAULT_CORPUS = Path(__file__).with_name("corpus.toml")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="corpus file (TOML)")
    parser.add_argument("--sources", type=Path, default=None,
                        help="where sources are downloaded (default $FLEET_COMPAT_SOURCES or ~/.cache/fleet-compat/sources)")
    parser.add_argument("--mirror", type=Path, default=None,
                        help="directory of local git directories (owner+name/repo) tried before cloning")
    parser.add_argument("--tools-dir", type=Path, default=None, help="where the Ansible venvs are (default as bench/)")
    parser.add_argument("--workdir", type=Path, default=None, help="working files (default: a temporary directory)")
    parser.add_argument("--lab", default=f"compat{os.getpid()}", help="lab name (must start with 'compat')")
    parser.add_argument("--only", default="", help="comma-separated item names")
    parser.add_argument("--release", default="bookworm", choices=("bullseye", "bookworm", "trixie"),
                        help="Debian release of the twin hosts (default bookworm)")
    parser.add_argument("--kind", choices=corpus.KINDS, default=None)
    parser.add_argument("--timeout", type=float, default=900, help="per item, seconds (default 900)")
    parser.add_argument("--keep", action="store_true", help="keep each item's hosts (lab LAB-N) and work files")
    parser.add_argument("--out", type=Path, default=None, help="write the table as Markdown (RESULTS.md)")
    parser.add_argument("--json", type=Path, default=None, help="write the raw results per item as JSON")
    parser.add_argument("--from-json", default="",
                        help="comma-separated --json files of earlier runs (a later file's result for an item replaces an earlier one): print (and --out) their merged table, run nothing")
    args = parser.parse_args(argv)
    if not args.lab.startswith("compat"):
        parser.error("--lab must start with 'compat'")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.from_json:
        merged = report.merge([report.load_json(Path(name)) for name in args.from_json.split(",") if name])
        print(report.text_table(merged))
        if args.out:
            report.write_markdown(merged, args.out)
        return 0
    try:
        items = corpus.select(corpus.load(args.corpus), [n for n in args.only.split(",") if n], args.kind)
    except corpus.CorpusError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="fleet-compat-"))
    settings = Settings(sources=args.sources or sources.default_sources_dir(), mirror=args.mirror,
                        tools_dir=args.tools_dir, workdir=workdir, lab=args.lab, timeout=args.timeout,
                        keep=args.keep, log=lambda line: print(line, flush=True), release=args.release)
    results: list[ItemResult] = []
    for index, item in enumerate(items, start=1):
        print(f"[{index}/{len(items)}] {item.name} ({item.kind}, ansible {item.ansible})", flush=True)
        result = run_item(item, index, settings)
        results.append(result)
        print(f"  {result.status} {result.reproduced}/{result.ansible_total} in {result.seconds:.0f}s"
              f"{': ' + result.first_error if result.first_error else ''}", flush=True)
        if args.json:  # written as it goes, so a long run that is stopped keeps what finished
            report.write_json(results, args.json)
    print()
    print(report.text_table(results))
    if args.json:
        report.write_json(results, args.json)
    if args.out:
        report.write_markdown(results, args.out)
    if args.keep:
        print(f"\nkept: work files in {workdir}; labs {args.lab}-N (fleet lab down --name {args.lab}-N)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
