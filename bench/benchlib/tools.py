"""The tool runners: fleet's here, the others in their own modules; :data:`RUNNERS` lists them all.

A tool is one small :class:`~benchlib.toolbase.ToolRunner` subclass: the command lines for
``apply`` and ``check``, its inventory, and how to read the counts from what it wrote. The
harness measures every runner the same way. The order of :data:`RUNNERS` is the order the
tools take turns in within each run (fleet first: the others' ratios are to fleet).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from benchlib.ansible_tools import AnsibleMitogenRunner, AnsiblePipeliningRunner, AnsibleRunner
from benchlib.pyinfra_tool import PyinfraRunner
from benchlib.toolbase import Detached, Outcome, Phase, ToolRunner, git_output

__all__ = ["RUNNERS", "Detached", "FleetRunner", "Outcome", "Phase", "ToolRunner", "runner", "runners"]


class FleetRunner(ToolRunner):
    """fleet's CLI, run as ``python -m fleet`` with the harness's own interpreter."""

    name = "fleet"

    def __init__(self, tools_dir: Path | None = None, python: str = sys.executable) -> None:
        self.python = python

    def version(self) -> str:
        """fleet's version, and the commit of the source it runs from when that is a checkout."""
        import fleet

        source = Path(fleet.__file__).resolve().parent.parent
        commit = git_output(source, "rev-parse", "--short", "HEAD")
        if not commit:
            return fleet.__version__
        dirty = git_output(source, "status", "--porcelain", "--", "fleet", "modules")
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


RUNNERS: tuple[type[ToolRunner], ...] = (
    FleetRunner, AnsibleRunner, AnsiblePipeliningRunner, AnsibleMitogenRunner, PyinfraRunner,
)


def runner(name: str, tools_dir: Path | None = None) -> ToolRunner:
    """A runner by tool name (other tools' venvs under ``tools_dir``); ValueError naming the known tools."""
    for cls in RUNNERS:
        if cls.name == name:
            return cls(tools_dir)  # type: ignore[call-arg]
    raise ValueError(f"unknown tool {name!r} (known: {', '.join(c.name for c in RUNNERS)})")


def runners(names: list[str], tools_dir: Path | None = None) -> list[ToolRunner]:
    """Runners for ``names`` (``all`` = every tool), in :data:`RUNNERS` order, fleet first."""
    wanted = [c.name for c in RUNNERS] if names == ["all"] else names
    for name in wanted:
        runner(name, tools_dir)  # unknown names fail here
    return [runner(c.name, tools_dir) for c in RUNNERS if c.name in wanted]
