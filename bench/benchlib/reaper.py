"""Run a command as a child subreaper, so that the CPU time of all its descendants is counted.

    python reaper.py COMMAND [ARGS...]

sshd does not wait for every process it starts: a session's processes can outlive the
connection's monitor process and are then re-parented, and their CPU time is lost to
sshd's own accounting. Under this wrapper (``PR_SET_CHILD_SUBREAPER``) such orphans are
re-parented here instead and reaped, so ``cutime + cstime`` of this process plus the
command's own ``utime + stime + cutime + cstime`` is the CPU of everything the command ran.
SIGTERM and SIGINT are passed on to the command; the wrapper exits with its exit code.
Standard library only, no imports from the harness: it runs as its own process.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys

PR_SET_CHILD_SUBREAPER = 36


def become_subreaper() -> bool:
    """Ask Linux to re-parent orphaned descendants to this process; False if unsupported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: reaper.py COMMAND [ARGS...]", file=sys.stderr)
        return 2
    become_subreaper()
    child = subprocess.Popen(argv)

    def forward(signum: int, _frame: object) -> None:
        if child.returncode is None:
            child.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    while True:
        try:
            pid, status = os.wait()  # the command, or any orphan re-parented to us
        except ChildProcessError:
            return 0
        except InterruptedError:
            continue
        if pid == child.pid:
            child.returncode = os.waitstatus_to_exitcode(status)
            return child.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
