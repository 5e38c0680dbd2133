"""Dependency audit: fail when a distribution installed in this Python's environment is a
version with a known advisory (.ci/advisories.toml).

    .venv/bin/python .ci/audit.py [--advisories FILE]

Exit 0: nothing installed is affected; 1: one line per affected distribution and advisory, then
what to upgrade; 2: the advisories file is broken. tests/run runs it after installing, so CI
fails on a vulnerable version in what it tests. It needs nothing but the files here: pip-audit's
services (PyPI's per-release vulnerability data, OSV) are out of this CI's reach. Where they are
reachable, pip-audit checks against every published advisory:

    python -m pip install pip-audit && pip-audit      # in the environment to check

and what it finds belongs in .ci/advisories.toml too.
"""

from __future__ import annotations

import argparse
import sys
import time
import tomllib
from importlib import metadata
from pathlib import Path
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

ADVISORIES = Path(__file__).with_name("advisories.toml")


def load(path: Path) -> list[dict[str, Any]]:
    """The advisories of ``path``, checked; ``ValueError`` naming the entry when one is broken."""
    with path.open("rb") as handle:
        entries = tomllib.load(handle).get("advisory", [])
    for index, entry in enumerate(entries, 1):
        where = f"{path}: advisory {index}"
        missing = {"package", "affected", "fixed", "ids"} - set(entry)
        if missing:
            raise ValueError(f"{where}: missing {', '.join(sorted(missing))}")
        try:
            entry["spec"] = SpecifierSet(entry["affected"])
            fixed = Version(entry["fixed"])
        except (InvalidSpecifier, InvalidVersion) as exc:
            raise ValueError(f"{where}: {exc}") from None
        if fixed in entry["spec"]:
            raise ValueError(f"{where}: the fixed version {fixed} is in the affected range")
        entry["name"] = canonicalize_name(entry["package"])
    return entries


def installed() -> dict[str, tuple[str, str]]:
    """Every distribution of this environment: name -> (version, where it is). The first one
    found on the path wins, as imports do."""
    found: dict[str, tuple[str, str]] = {}
    for dist in metadata.distributions():
        name = dist.metadata.get("Name")
        if name:
            found.setdefault(canonicalize_name(name), (dist.version, str(dist.locate_file(""))))
    return found


def findings(advisories: list[dict[str, Any]], present: dict[str, tuple[str, str]]) -> list[str]:
    """One line per installed distribution and advisory that affects it."""
    lines = []
    for entry in advisories:
        if entry["name"] not in present:
            continue
        version, where = present[entry["name"]]
        try:
            affected = Version(version) in entry["spec"]
        except InvalidVersion:
            affected = True  # cannot tell: treat as affected, it is named below
        if affected:
            lines.append(f"{entry['package']} {version} ({where}): {', '.join(entry['ids'])} — "
                         f"{entry.get('summary', '')}; fixed in {entry['fixed']}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--advisories", type=Path, default=ADVISORIES)
    args = parser.parse_args(argv)
    started = time.monotonic()
    try:
        advisories = load(args.advisories)
    except (OSError, ValueError, tomllib.TOMLDecodeError) as exc:
        print(f"dependency audit: {exc}", file=sys.stderr)
        return 2
    present = installed()
    found = findings(advisories, present)
    took = time.monotonic() - started
    if found:
        for line in found:
            print(f"VULNERABLE: {line}", file=sys.stderr)
        print(f"dependency audit: {len(found)} known advisories affect installed versions "
              f"({len(present)} distributions checked): upgrade them (.ci/constraints.txt pins "
              "what CI installs)", file=sys.stderr)
        return 1
    packages = len({entry["name"] for entry in advisories})
    print(f"dependency audit: {len(present)} distributions, {len(advisories)} advisories on "
          f"{packages} packages: none affected ({took:.2f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
