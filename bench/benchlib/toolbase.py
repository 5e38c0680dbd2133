"""What every tool runner is: the phases, a run's outcome, and the :class:`ToolRunner` interface.

A tool is one small :class:`ToolRunner` subclass (fleet's in :mod:`benchlib.tools`, Ansible's
three configurations in :mod:`benchlib.ansible_tools`, pyinfra's in :mod:`benchlib.pyinfra_tool`):
the command lines for ``apply`` and ``check``, its inventory (Ansible's YAML format by
default), its environment, how to read the counts from what it wrote, and what it leaves
running after it exits (OpenSSH ``ControlPersist`` masters) that the measurement must add.
"""

from __future__ import annotations

import os
import subprocess
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


@dataclass(frozen=True)
class Detached:
    """Processes a run left behind (daemonised, so not in ``wait4``'s usage), ended by the runner.

    ``cpu_s`` is their user+system CPU up to the moment they were ended; ``max_rss_kib`` the
    largest peak resident set (``VmHWM``) among them.
    """

    processes: int = 0
    cpu_s: float = 0.0
    max_rss_kib: int = 0


def git_output(where: Path, *args: str) -> str:
    """Output of a git command in ``where`` ("" when it is not a checkout or git fails)."""
    try:
        done = subprocess.run(["git", "-C", str(where), *args], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def base_env() -> dict[str, str]:
    """The harness's environment, with no colours and no terminal, and byte-code caches on
    (``PYTHONDONTWRITEBYTECODE`` in the caller's environment would make every Python tool
    compile its sources in every run: the warm-up run writes the caches)."""
    env = dict(os.environ, NO_COLOR="1", TERM="dumb", COLUMNS="160")
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


class ToolRunner(ABC):
    """How to run one tool. Subclasses set ``name`` and implement the abstract methods."""

    name: str = ""
    keeps_sessions = False  # its connections and agents stay between runs (measured as they go)

    def unavailable(self) -> str | None:
        """Why this tool cannot run here (e.g. not installed), or None when it can."""
        return None

    @abstractmethod
    def version(self) -> str:
        """The tool's version, for the results."""

    def write_inventory(self, hosts: HostSet, path: Path) -> Path:
        """Write the tool's inventory of ``hosts`` at ``path`` (Ansible YAML by default).

        Runs once per host set, in the directory the tool then runs in (``path.parent``): a
        runner may write its configuration files beside it.
        """
        return hosts.write_ansible_inventory(path)

    @abstractmethod
    def command(self, phase: Phase, inventory: Path, playbook: Path, report: Path, forks: int) -> list[str]:
        """The command line for ``phase``, writing a machine-readable report at ``report``."""

    def env(self, inventory: Path) -> dict[str, str]:
        """The environment the tool runs with, for the inventory written by :meth:`write_inventory`."""
        return base_env()

    @abstractmethod
    def outcome(self, phase: Phase, exit_code: int, report: Path, log: Path) -> Outcome:
        """Changed/failed/unreachable counts of a finished run."""

    def expected_exit_codes(self, phase: Phase, changed: int | None) -> frozenset[int]:
        """Exit codes that mean the run itself succeeded."""
        return frozenset({0})

    def end_detached(self, inventory: Path) -> Detached:
        """End what the last run left running (after it exited) and return what it cost.

        Called after every run, before the next one starts, so that every run starts cold
        and its whole controller-side cost is counted. Nothing by default.
        """
        return Detached()

    def close(self) -> None:
        """End what outlives runs (a runner that keeps sessions); called once, at the end.
        Nothing by default."""
        return None
