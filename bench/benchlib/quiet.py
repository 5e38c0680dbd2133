"""The machine's other load: how busy the CPUs were with work that is not the benchmark's.

The benchmark may share its machine with other work (a developer's test run, CI). Each run
records the CPU the whole machine used meanwhile (``/proc/stat``) minus what the tool and the
hosts used: "other CPU". And before each run the harness waits, for a bounded time, until
the machine is nearly idle.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

IDLE_FIELDS = (3, 4)  # idle, iowait in the "cpu" line of /proc/stat (0-based after the label)


def busy_seconds() -> float | None:
    """CPU seconds the whole machine has spent busy since boot (all cores); None without /proc."""
    try:
        first = Path("/proc/stat").read_text().splitlines()[0].split()
    except (OSError, IndexError):
        return None
    values = [int(v) for v in first[1:9]]  # user nice system idle iowait irq softirq steal
    busy = sum(v for i, v in enumerate(values) if i not in IDLE_FIELDS)
    return busy / os.sysconf("SC_CLK_TCK")


def wait_until_quiet(max_wait: float, max_busy_cores: float = 0.15, window: float = 0.5) -> float:
    """Wait until the machine used at most ``max_busy_cores`` over a ``window``; at most ``max_wait`` s.

    Returns the busy cores of the last window (so the caller can say the machine was not quiet).
    """
    deadline = time.monotonic() + max_wait
    while True:
        before = busy_seconds()
        if before is None:
            return 0.0
        time.sleep(window)
        after = busy_seconds()
        busy = ((after or before) - before) / window
        if busy <= max_busy_cores or time.monotonic() >= deadline:
            return busy
