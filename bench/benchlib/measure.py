"""Running one tool command and measuring it: wall time, controller CPU, peak RSS.

The command is started directly (no shell) and reaped with ``os.wait4``, whose resource usage
covers the process *and every descendant it waited for*: the whole controller process tree
(a tool's own worker processes, ``ssh`` clients it spawned...). Processes that detach and are
never waited for by the tree (e.g. OpenSSH ``ControlPersist`` masters) are not included:
the tool runner that enables them ends them after the run and their CPU time is added as
``detached_cpu_s`` (see :mod:`benchlib.detached`). ``ru_maxrss`` is the peak resident set of
the largest single process in that tree, in KiB on Linux.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True)
class Measurement:
    """What one run of a command cost on the controller (and, if known, on the hosts)."""

    wall_s: float
    user_s: float
    sys_s: float
    max_rss_kib: int
    exit_code: int
    timed_out: bool = False
    target_cpu_s: float | None = None
    other_cpu_s: float | None = None
    detached_cpu_s: float = 0.0  # processes the run left behind (ControlPersist masters)
    detached_processes: int = 0

    @property
    def cpu_s(self) -> float:
        """Controller CPU time: user + system of the whole controller process tree, detached ones included."""
        return self.user_s + self.sys_s + self.detached_cpu_s

    def to_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["cpu_s"] = round(self.cpu_s, 4)
        return data


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def run_measured(argv: Sequence[str], *, env: Mapping[str, str] | None = None, cwd: Path | None = None,
                 log: Path, timeout: float = 1800.0) -> Measurement:
    """Run ``argv`` with stdout+stderr to ``log``; measure it. Killed after ``timeout`` s."""
    log.parent.mkdir(parents=True, exist_ok=True)
    fired = threading.Event()
    with open(log, "wb") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(list(argv), stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env=dict(env) if env is not None else None, cwd=cwd, start_new_session=True)

        def expire() -> None:
            fired.set()
            _kill_group(proc.pid)

        timer = threading.Timer(timeout, expire)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait again
    return Measurement(wall_s=wall, user_s=usage.ru_utime, sys_s=usage.ru_stime, max_rss_kib=usage.ru_maxrss,
                       exit_code=proc.returncode, timed_out=fired.is_set())
