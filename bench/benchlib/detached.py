"""Processes a tool leaves running after it exits: find them, count what they used, end them.

OpenSSH ``ControlPersist`` masters (Ansible) and fleet's persistence daemon detach and outlive
the command that started them, so ``wait4`` on the tool never sees their CPU time. A runner
that leaves such processes gives them something of the run's own to be found by (a control
path under the run's directory, a ``FLEET_MUX_DIR`` in their environment), and after each run
:func:`end` reads their CPU time (``/proc/PID/stat``: user + system, plus reaped children) and
peak RSS (``VmHWM``) and then ends them (a polite request if the tool has one, then SIGTERM,
by pid), so that the next run starts cold like every other tool's and what they cost is added
to the run that made them.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

from benchlib.toolbase import Detached


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _environ(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return b""


def matching_pids(needle: str, environ_has: str | None = None) -> list[int]:
    """Pids of this user's processes whose command line contains ``needle`` (not ours).

    With ``environ_has``, only those whose environment also has that ``NAME=value`` entry.
    """
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if entry.stat().st_uid != os.geteuid():
                continue
        except OSError:
            continue
        pid = int(entry.name)
        if needle not in _cmdline(pid):
            continue
        if environ_has is None or environ_has.encode() in _environ(pid).split(b"\0"):
            found.append(pid)
    return found


def cpu_seconds(pid: int) -> float:
    """user + system CPU of ``pid`` and of the children it reaped, in seconds (0 if gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    ticks = sum(int(fields[i]) for i in (11, 12, 13, 14))
    return ticks / os.sysconf("SC_CLK_TCK")


def peak_rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def _wait_gone(pids: list[int], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while any(_alive(pid) for pid in pids):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def _signal_all(pids: list[int], signum: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signum)


def end(pids: list[int], ask: Callable[[], object] | None = None, timeout: float = 5.0) -> Detached:
    """Measure ``pids``, then end them: ``ask()`` first if given, SIGTERM, SIGKILL after ``timeout``."""
    if not pids:
        return Detached()
    cpu = sum(cpu_seconds(pid) for pid in pids)
    rss = max(peak_rss_kib(pid) for pid in pids)
    if ask is not None:
        with contextlib.suppress(OSError, ValueError):
            ask()
    if ask is None or not _wait_gone(pids, timeout):
        _signal_all(pids, signal.SIGTERM)
        if not _wait_gone(pids, timeout):
            _signal_all(pids, signal.SIGKILL)
    return Detached(len(pids), round(cpu, 3), rss)


def end_matching(needle: str, timeout: float = 5.0) -> Detached:
    """Measure, then end (SIGTERM, SIGKILL after ``timeout``), the processes matching ``needle``."""
    return end(matching_pids(needle), timeout=timeout)
