"""Striking a lab host while a run uses it, and timing how long the run takes to notice.

``Mode`` is how the run reaches its hosts: ``kept``, fleet's default (``--persist 60``: agents
kept by a persistence daemon, here with a private daemon directory and warmed up by an earlier
run so the faulted run uses kept agents), or ``direct`` (``--persist 0``).
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.conftest import fleet
from tests.integration.conftest import HOSTS, ITLab, output

_RUNS = itertools.count(1)


@dataclass
class Mode:
    """How a run reaches its hosts: the environment and options it is given."""

    name: str
    env: dict[str, str]
    args: tuple[str, ...] = ()

    @property
    def kept(self) -> bool:
        return self.name == "kept"

    def fleet(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """``fleet ARGS`` in this mode; no traceback may reach the user."""
        result = fleet(*args, *(self.args if args[0] in ("apply", "run", "check") else ()), env=self.env,
                       timeout=timeout)
        assert "Traceback" not in output(result), output(result)
        return result

    def status(self) -> dict[str, Any]:
        """``fleet mux status --json`` of this mode's daemon."""
        result = self.fleet("mux", "status", "--json", timeout=60)
        assert result.returncode == 0, output(result)
        return dict(json.loads(result.stdout))


def make_mode(name: str, directory: Path) -> Mode:
    if name == "kept":  # the default --persist, with a daemon of this test's own
        return Mode(name, {"FLEET_PERSIST": "60", "FLEET_MUX_DIR": str(directory)})
    return Mode(name, {}, ("--persist", "0"))


def warm(lab: ITLab, mode: Mode) -> dict[str, int]:
    """Have the daemon keep an agent on every host (nothing to do without one); their pids."""
    if not mode.kept:
        return {}
    result = mode.fleet("run", "-i", str(lab.inventory), "all", "-a", "true")
    assert result.returncode == 0, output(result)
    kept = {agent["host"]: int(agent["agent_pid"]) for agent in mode.status()["idle"]}
    assert sorted(kept) == sorted(HOSTS)
    return kept


@dataclass
class Strike:
    """A fault that strikes a host while a slow task sleeps there; ``at``: when it struck."""

    action: Callable[[], object]
    at: float | None = None
    errors: list[BaseException] = field(default_factory=list)
    thread: threading.Thread | None = None

    def arm(self, lab: ITLab, host: str, seconds: str) -> None:
        """Strike once ``sleep SECONDS`` runs on ``host``."""

        def run() -> None:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                if lab.container(host).exec_run(["pgrep", "-f", f"^sleep {seconds}$"])[0] == 0:
                    break
                time.sleep(0.1)
            else:
                self.errors.append(AssertionError(f"sleep {seconds} never ran on {host}"))
                return
            time.sleep(0.3)
            try:
                self.action()
                self.at = time.monotonic()
            except BaseException as exc:  # handed to the test
                self.errors.append(exc)

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()

    def join(self) -> float:
        """Wait for the strike; when it happened."""
        assert self.thread is not None
        self.thread.join(120)
        assert not self.errors, self.errors
        assert self.at is not None, "the fault never struck"
        return self.at


PLAYBOOK = """\
- hosts: all
  gather_facts: false
  tasks:
    - name: directory
      file: {{path: {root}, state: directory}}
    - name: slow
      command: "sleep {{{{ '{seconds}' if inventory_hostname == '{victim}' else '{others}' }}}}"
      register: slow  # ends a pipelined request: 'after' is sent once every host has finished 'slow'
    - name: after
      shell: "echo 'done {{{{ inventory_hostname }}}}' > {root}/done && echo $PPID > {root}/agent"
"""


@dataclass
class Outcome:
    """A faulted run: its process, JSON report, and seconds from the fault to its exit."""

    result: subprocess.CompletedProcess[str]
    report: dict[str, Any]
    fault_to_exit: float

    def host(self, name: str) -> dict[str, Any]:
        return dict(self.report["hosts"][name])


def faulted_run(lab: ITLab, mode: Mode, tmp_path: Path, name: str, strike: Strike, victim: str = "itest2",
                seconds: float = 3.0, others: float | None = None) -> Outcome:
    """Run PLAYBOOK under /srv/test-NAME; ``strike`` hits while ``victim`` sleeps ``seconds``
    (the other hosts sleep ``others``, the same by default)."""
    root = f"/srv/test-{name}"
    for host in HOSTS:
        lab.reset(host, root)
    tag = f"{seconds:.0f}.{next(_RUNS):03d}{os.getpid() % 1000:03d}"  # this run's sleep, not a leftover
    other = tag if others is None else f"{others:g}"
    playbook = tmp_path / f"{name}.yml"
    playbook.write_text(PLAYBOOK.format(root=root, seconds=tag, victim=victim, others=other))
    strike.arm(lab, victim, tag)
    result = mode.fleet("apply", "-i", str(lab.inventory), str(playbook), "--json", str(tmp_path / f"{name}.json"))
    ended = time.monotonic()
    struck = strike.join()
    report = json.loads((tmp_path / f"{name}.json").read_text())
    return Outcome(result, report, ended - struck)


def converged(lab: ITLab, outcome: Outcome, name: str, hosts: tuple[str, ...]) -> None:
    """``hosts`` finished the run: every task, and the file its last task writes (its agent's
    pid beside it, in ``agent``)."""
    for host in hosts:
        assert [r["task"] for r in outcome.host(host)["results"]] == ["directory", "slow", "after"], host
        assert outcome.host(host)["status"] == "changed", outcome.host(host)
        assert lab.read(host, f"/srv/test-{name}/done") == f"done {host}\n"


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie waiting for its parent does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"
