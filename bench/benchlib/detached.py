"""Processes a tool leaves running after it exits: find them by command line, count, end them.

OpenSSH ``ControlPersist`` masters fork into the background and outlive the command that
started them, so ``wait4`` on the tool never sees their CPU time. A runner that enables them
gives them a control path under a directory of its own, and after each run
:func:`end_matching` reads their CPU time (``/proc/PID/stat``: user + system, plus reaped
children) and peak RSS (``VmHWM``) and then ends them (SIGTERM, by pid), so that the next run
starts cold like every other tool's and its masters' cost is added to the run that made them.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path

from benchlib.toolbase import Detached


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def matching_pids(needle: str) -> list[int]:
    """Pids of this user's processes whose command line contains ``needle`` (not ours)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if entry.stat().st_uid != os.geteuid():
                continue
        except OSError:
            continue
        if needle in _cmdline(int(entry.name)):
            found.append(int(entry.name))
    return found


def _cpu_seconds(pid: int) -> float:
    """user + system CPU of ``pid`` and of the children it reaped, in seconds (0 if gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    ticks = sum(int(fields[i]) for i in (11, 12, 13, 14))
    return ticks / os.sysconf("SC_CLK_TCK")


def _peak_rss_kib(pid: int) -> int:
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


def end_matching(needle: str, timeout: float = 5.0) -> Detached:
    """Measure, then end (SIGTERM, SIGKILL after ``timeout``), the processes matching ``needle``."""
    pids = matching_pids(needle)
    if not pids:
        return Detached()
    cpu = sum(_cpu_seconds(pid) for pid in pids)
    rss = max(_peak_rss_kib(pid) for pid in pids)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while any(_alive(pid) for pid in pids):
        if time.monotonic() > deadline:
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            break
        time.sleep(0.01)
    return Detached(len(pids), round(cpu, 3), rss)
