"""Create the other tools' virtualenvs (Ansible, Ansible+Mitogen, pyinfra) for bench/run.py.

    python bench/setup_tools.py                  # every tool, under ~/.cache/fleet-bench/venvs
    python bench/setup_tools.py --tools pyinfra  # one of them
    python bench/setup_tools.py --dir DIR --python312 /path/to/python3.12

One venv per tool, outside the repository, each with pinned versions (benchlib/toolenv.py)
installed by pip. The Ansible venvs need a Python 3.12 (current ansible-core does not run on
an older controller Python); pyinfra's uses the Python running this script. A venv whose
recorded pins already match is kept unless --force. Prints what each venv holds.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from benchlib import toolenv


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tools", default=",".join(toolenv.ENVS),
                        help=f"environments to create, comma-separated (default: {','.join(toolenv.ENVS)})")
    parser.add_argument("--dir", type=Path, default=toolenv.default_tools_dir(),
                        help="where the venvs go (default %(default)s; also $FLEET_BENCH_TOOLS)")
    parser.add_argument("--python312", help="the Python 3.12 for the Ansible venvs (default: found)")
    parser.add_argument("--force", action="store_true", help="recreate venvs whose pins already match")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    names = [n.strip() for n in args.tools.split(",") if n.strip()]
    unknown = [n for n in names if n not in toolenv.ENVS]
    if unknown:
        print(f"unknown environment(s) {unknown}; known: {', '.join(toolenv.ENVS)}", file=sys.stderr)
        return 2
    for name in names:
        env = toolenv.ENVS[name]
        venv = env.path(args.dir)
        if not args.force and toolenv.problem(env, args.dir) is None:
            print(f"{name}: up to date in {venv}")
        else:
            python = args.python312 if env.needs_python312 else None
            try:
                toolenv.create(env, args.dir, python)
            except (RuntimeError, OSError) as exc:
                print(f"{name}: {exc}", file=sys.stderr)
                return 1
        installed = toolenv.installed_versions(venv)
        pins = ", ".join(f"{r.split('==')[0]} {installed.get(r.split('==')[0], '?')}" for r in env.requirements)
        print(f"{name}: {pins} on Python {toolenv.venv_python_version(venv)} ({env.why})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
