"""Reading systemd's answers: ``systemctl show`` output and whether a unit is active.

Used by the modules that manage units or reload a service after a change (systemd,
sshd_config, networkd). Queries only.
"""

from __future__ import annotations

import contextlib
import os
import time

from fleet.agent.errors import ModuleFailure
from fleet.agent.hostenv import chroot_reason

SYSTEMD_RUNNING = "/run/systemd/system"  # exists when systemd is PID 1 (sd_booted())


def systemd_running() -> bool:
    """Whether systemd manages this system (not a chroot, where systemctl would reach the
    build machine's systemd)."""
    return os.path.isdir(SYSTEMD_RUNNING) and not chroot_reason()


def parse_show(text: str) -> list:
    """``systemctl show`` output as a list of property dicts (one per blank-line block).

    Values of ``Exec*`` properties may span lines inside ``{ ... }`` (as Ansible parses them).
    """
    units: list = []
    cur: dict = {}
    key, multi = None, []
    for line in text.splitlines():
        if key is not None:
            multi.append(line)
            if line.rstrip().endswith("}"):
                cur[key] = "\n".join(multi).strip()
                key, multi = None, []
            continue
        if not line.strip():
            if cur:
                units.append(cur)
            cur = {}
            continue
        if "=" not in line:
            continue
        k, v = line.split("=", 1)
        if k.startswith("Exec") and v.lstrip().startswith("{") and not v.rstrip().endswith("}"):
            key, multi = k, [v]
            continue
        cur[k] = v.strip()
    if cur:
        units.append(cur)
    return units


def unit_state(host, unit: str) -> str:
    """``systemctl is-active UNIT``'s word (``active``, ``inactive``, ``failed``...; ``""``
    when it printed nothing)."""
    return host.query(["systemctl", "is-active", unit])[1].strip()


def listening(host, pid: str) -> set:
    """Inodes of the TCP sockets process ``pid`` listens on (empty when unreadable)."""
    links = set()
    with contextlib.suppress(OSError):
        for fd in os.listdir(f"/proc/{pid}/fd"):
            with contextlib.suppress(OSError):  # closed meanwhile (listdir's own fd, say)
                links.add(os.readlink(f"/proc/{pid}/fd/{fd}"))
    rows = [r.split() for n in ("/proc/net/tcp", "/proc/net/tcp6")
            for r in (host.read_text(n) or "").splitlines()]
    return {r[9] for r in rows if len(r) > 9 and r[3] == "0A" and f"socket:[{r[9]}]" in links}


def reload_listener(host, service: str, wait: float = 10) -> None:
    """``systemctl reload SERVICE`` (through the writer ``host``), then wait (<= ``wait`` s)
    until its main process listens on new sockets: a daemon that re-executes on SIGHUP
    (sshd) refuses connections until then. ModuleFailure when the reload fails."""
    pid = host.query(["systemctl", "show", "-p", "MainPID", "--value", service])[1].strip()
    before = listening(host, pid)
    rc, out, err = host.run(["systemctl", "reload", service])
    if rc != 0:
        raise ModuleFailure(f"systemctl reload {service} failed: {(err or out).strip()}")
    deadline = time.monotonic() + wait
    while before and time.monotonic() < deadline and not (listening(host, pid) - before):
        time.sleep(0.05)
