"""Tool runners: how to run one configuration tool on the benchmark hosts and read its results.

A tool is one small :class:`ToolRunner` subclass: the command lines for ``apply`` and
``check``, its inventory (Ansible's YAML format by default), and how to read the counts
from what it wrote. Adding Ansible, Ansible+Mitogen or pyinfra means adding a subclass and
listing it in :data:`RUNNERS`; the harness measures every runner the same way.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from abc import ABC, abstractmethod
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from benchlib.hosts import HostSet


class Phase(StrEnum):
    """What is measured, in this order, for every run."""

    FIRST = "first apply"  # fresh, empty host directories
    REAPPLY = "re-apply"  # converged hosts: must report 0 changed
    CHECK = "check"  # dry run on converged hosts: must report 0 changed


@dataclass(frozen=True)
class Outcome:
    """What a tool reported about one run (``changed`` is None when it could not be read)."""

    changed: int | None
    failed: int
    unreachable: int
    ok: int = 0
    error: str | None = None


def _git(where: Path, *args: str) -> str:
    """Output of a git command in ``where`` ("" when it is not a checkout or git fails)."""
    try:
        done = subprocess.run(["git", "-C", str(where), *args], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


class ToolRunner(ABC):
    """How to run one tool. Subclasses set ``name`` and implement the abstract methods."""

    name: str = ""

    def unavailable(self) -> str | None:
        """Why this tool cannot run here (e.g. not installed), or None when it can."""
        return None

    @abstractmethod
    def version(self) -> str:
        """The tool's version, for the results."""

    def write_inventory(self, hosts: HostSet, path: Path) -> Path:
        """Write the tool's inventory of ``hosts`` at ``path`` (Ansible YAML by default)."""
        return hosts.write_ansible_inventory(path)

    @abstractmethod
    def command(self, phase: Phase, inventory: Path, playbook: Path, report: Path, forks: int) -> list[str]:
        """The command line for ``phase``, writing a machine-readable report at ``report``."""

    def env(self) -> dict[str, str]:
        """The environment the tool runs with (no colours, no terminal)."""
        return dict(os.environ, NO_COLOR="1", TERM="dumb", COLUMNS="160")

    @abstractmethod
    def outcome(self, phase: Phase, exit_code: int, report: Path, log: Path) -> Outcome:
        """Changed/failed/unreachable counts of a finished run."""

    def expected_exit_codes(self, phase: Phase, changed: int | None) -> frozenset[int]:
        """Exit codes that mean the run itself succeeded."""
        return frozenset({0})


class FleetRunner(ToolRunner):
    """fleet's CLI, run as ``python -m fleet`` with the harness's own interpreter."""

    name = "fleet"

    def __init__(self, python: str = sys.executable) -> None:
        self.python = python

    def version(self) -> str:
        """fleet's version, and the commit of the source it runs from when that is a checkout."""
        import fleet

        source = Path(fleet.__file__).resolve().parent.parent
        commit = _git(source, "rev-parse", "--short", "HEAD")
        if not commit:
            return fleet.__version__
        dirty = _git(source, "status", "--porcelain", "--", "fleet", "modules")
        return f"{fleet.__version__} ({commit}{', uncommitted changes' if dirty else ''})"

    def command(self, phase: Phase, inventory: Path, playbook: Path, report: Path, forks: int) -> list[str]:
        verb = "check" if phase is Phase.CHECK else "apply"
        return [self.python, "-m", "fleet", verb, "-i", str(inventory), str(playbook),
                "--forks", str(forks), "--json", str(report)]

    def outcome(self, phase: Phase, exit_code: int, report: Path, log: Path) -> Outcome:
        try:
            summary = json.loads(report.read_text())["summary"]
        except (OSError, ValueError, KeyError) as exc:
            tail = log.read_text(errors="replace")[-400:] if log.exists() else ""
            return Outcome(None, 0, 0, error=f"no JSON report ({exc}); output ends: {tail}")
        return Outcome(summary["changed"], summary["failed"], summary["unreachable"], summary["ok"])

    def expected_exit_codes(self, phase: Phase, changed: int | None) -> frozenset[int]:
        if phase is Phase.CHECK and changed:
            return frozenset({2})  # fleet check: 2 = changes pending
        return frozenset({0})


RUNNERS: tuple[type[ToolRunner], ...] = (FleetRunner,)


def runner(name: str) -> ToolRunner:
    """A runner by tool name; ValueError naming the known tools."""
    for cls in RUNNERS:
        if cls.name == name:
            return cls()
    raise ValueError(f"unknown tool {name!r} (known: {', '.join(c.name for c in RUNNERS)})")
