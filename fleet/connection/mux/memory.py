"""Keeping the daemon's memory to itself, as ssh-agent does: no tracing, no core dumps.

The daemon holds sudo and SSH passwords for as long as it takes to start an agent, and the
agents it keeps are as good as those passwords. ``PR_SET_DUMPABLE`` 0 makes the kernel refuse
ptrace and ``/proc/PID/mem``/``environ`` to other processes of the same user (only a process
with CAP_SYS_PTRACE, such as root's, may still look), and makes no core dump; ``RLIMIT_CORE``
0, soft and hard, makes none either should dumpable be turned back on.
"""

from __future__ import annotations

import ctypes
import os
import resource
import sys
from typing import Any

PR_GET_DUMPABLE = 3
PR_SET_DUMPABLE = 4


def _prctl(option: int, arg: int = 0) -> int:
    libc = ctypes.CDLL(None, use_errno=True)
    result = int(libc.prctl(ctypes.c_int(option), ctypes.c_ulong(arg), ctypes.c_ulong(0),
                            ctypes.c_ulong(0), ctypes.c_ulong(0)))
    if result < 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"prctl({option}): {os.strerror(errno)}")
    return result


def protect() -> None:
    """Core dumps off (soft and hard limit 0) and the process not dumpable; OSError if either
    cannot be done (the daemon then does not start, and runs connect directly)."""
    if not sys.platform.startswith("linux"):
        raise OSError(f"cannot make the process non-dumpable on {sys.platform} (Linux's prctl is needed)")
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    _prctl(PR_SET_DUMPABLE, 0)


def protection() -> dict[str, Any]:
    """What the kernel says about this process: ``dumpable`` and ``core_limit`` (soft, hard)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_CORE)
    return {"dumpable": bool(_prctl(PR_GET_DUMPABLE)), "core_limit": [soft, hard]}
