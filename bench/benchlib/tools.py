"""The tool runners: fleet's here, the others in their own modules; :data:`RUNNERS` lists them all.

A tool is one small :class:`~benchlib.toolbase.ToolRunner` subclass: the command lines for
``apply`` and ``check``, its inventory, and how to read the counts from what it wrote. The
harness measures every runner the same way. The order of :data:`RUNNERS` is the order the
tools take turns in within each run (fleet first: the others' ratios are to fleet).
"""

from __future__ import annotations

import json
import socket
import sys
from pathlib import Path

from benchlib.ansible_tools import AnsibleMitogenRunner, AnsiblePipeliningRunner, AnsibleRunner
from benchlib.detached import cpu_seconds, end, matching_pids, peak_rss_kib
from benchlib.pyinfra_tool import PyinfraRunner
from benchlib.toolbase import Detached, Outcome, Phase, ToolRunner, base_env, git_output
from fleet.connection.mux.protocol import socket_name

__all__ = ["RUNNERS", "Detached", "FleetRunner", "FleetWarmRunner", "Outcome", "Phase", "ToolRunner", "runner", "runners"]


MUX_DIR = "mux"  # beside the inventory: this benchmark's own fleet persistence daemon


def ask_daemon_to_stop(sock: Path, timeout: float = 5.0) -> None:
    """Send fleet's persistence daemon the ``stop`` request (it closes its agents and exits)."""
    with socket.socket(socket.AF_UNIX) as conn:
        conn.settimeout(timeout)
        conn.connect(str(sock))
        conn.sendall(b'{"op": "stop"}\n')
        conn.recv(65536)


class FleetRunner(ToolRunner):
    """fleet's CLI, run as ``python -m fleet`` with the harness's own interpreter.

    fleet's defaults include persistence (``--persist 60``): the first run starts a per-user
    daemon that keeps connections and agents for the next runs, as Ansible's ControlPersist
    keeps SSH masters. Here the daemon is private to the benchmark (``FLEET_MUX_DIR`` beside
    the inventory) and, like Ansible's masters, is measured and stopped after every run: every
    run starts cold and pays for the daemon it started.
    """

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

    def env(self, inventory: Path) -> dict[str, str]:
        return dict(base_env(), FLEET_MUX_DIR=str(inventory.parent / MUX_DIR))

    def end_detached(self, inventory: Path) -> Detached:
        """Measure and stop this benchmark's fleet persistence daemon, if the run started one."""
        mux = inventory.parent / MUX_DIR
        pids = matching_pids("fleet.connection.mux.server", environ_has=f"FLEET_MUX_DIR={mux}")
        return end(pids, ask=lambda: ask_daemon_to_stop(mux / socket_name()), timeout=10.0)

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


class FleetWarmRunner(FleetRunner):
    """fleet with its persistence daemon kept between runs: the second and later runs find their
    connections and agents up, the Ansible modules' payloads already on the hosts.

    What the daemon uses during a run is added to that run's controller CPU (its CPU time read
    before and after); the hosts' side of the kept sessions counts as it goes
    (:meth:`benchlib.hosts.BenchHosts.target_cpu_seconds`). The daemons are stopped at the end
    (:meth:`close`). Not part of ``all``: ask for it by name.
    """

    name = "fleet-warm"
    keeps_sessions = True

    def __init__(self, tools_dir: Path | None = None, python: str = sys.executable) -> None:
        super().__init__(tools_dir, python)
        self.seen: dict[Path, dict[int, float]] = {}  # mux dir -> daemon pid -> CPU at the last look

    def end_detached(self, inventory: Path) -> Detached:
        """What the kept daemon used since the last look (it keeps running)."""
        mux = inventory.parent / MUX_DIR
        pids = matching_pids("fleet.connection.mux.server", environ_has=f"FLEET_MUX_DIR={mux}")
        before = self.seen.get(mux, {})
        now = {pid: cpu_seconds(pid) for pid in pids}
        self.seen[mux] = now
        used = sum(cpu - before.get(pid, 0.0) for pid, cpu in now.items())
        return Detached(len(pids), round(used, 3), max((peak_rss_kib(pid) for pid in pids), default=0))

    def close(self) -> None:
        for mux in self.seen:
            pids = matching_pids("fleet.connection.mux.server", environ_has=f"FLEET_MUX_DIR={mux}")
            end(pids, ask=lambda mux=mux: ask_daemon_to_stop(mux / socket_name()), timeout=10.0)


RUNNERS: tuple[type[ToolRunner], ...] = (
    FleetRunner, FleetWarmRunner, AnsibleRunner, AnsiblePipeliningRunner, AnsibleMitogenRunner, PyinfraRunner,
)


def runner(name: str, tools_dir: Path | None = None) -> ToolRunner:
    """A runner by tool name (other tools' venvs under ``tools_dir``); ValueError naming the known tools."""
    for cls in RUNNERS:
        if cls.name == name:
            return cls(tools_dir)  # type: ignore[call-arg]
    raise ValueError(f"unknown tool {name!r} (known: {', '.join(c.name for c in RUNNERS)})")


def runners(names: list[str], tools_dir: Path | None = None) -> list[ToolRunner]:
    """Runners for ``names`` (``all`` = every tool), in :data:`RUNNERS` order, fleet first."""
    wanted = [c.name for c in RUNNERS if c is not FleetWarmRunner] if names == ["all"] else names
    for name in wanted:
        runner(name, tools_dir)  # unknown names fail here
    return [runner(c.name, tools_dir) for c in RUNNERS if c.name in wanted]
