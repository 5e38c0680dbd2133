"""Kernel limits a lab of systemd containers needs, checked before anything starts.

systemd in each container holds inotify instances (5 at boot, more for services a playbook
adds), charged to root's ``fs.inotify.max_user_instances`` on the host: containers do not get
their own. Debian's default, 128, runs out at about 25 hosts, and then systemd in the next
container exits at once ("stopped while booting"). ``fleet lab up`` counts what is in use,
raises the limit when it runs as root (saying so), and otherwise stops with the value to set.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from fleet.errors import FleetError

SYSCTL = "fs.inotify.max_user_instances"
PER_HOST = 8  # inotify instances one lab host may hold: 5 measured at boot, room for services
HEADROOM = 32  # for the host's own programs that start meanwhile


@dataclass(frozen=True)
class InotifyBudget:
    """The limit, what root uses now, and what ``hosts`` more lab hosts need."""

    limit: int
    in_use: int
    hosts: int

    @property
    def needed(self) -> int:
        return self.in_use + self.hosts * PER_HOST + HEADROOM

    @property
    def enough(self) -> bool:
        return self.limit >= self.needed

    @property
    def target(self) -> int:
        """The value to raise the limit to: what is needed, rounded up to a multiple of 256."""
        return -(-self.needed // 256) * 256


def inotify_in_use(proc: Path = Path("/proc")) -> int:
    """Inotify instances held by the user that holds most (root, where containers run), over
    the processes this user may look at. The limit is per user; a lab host's systemd charges
    root most, and one or two to a service user of the container."""
    counts: dict[int, int] = {}
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            uid = entry.stat().st_uid
            fds = os.listdir(entry / "fd")
        except OSError:  # gone meanwhile, or not ours to see
            continue
        for fd in fds:
            try:
                if os.readlink(entry / "fd" / fd) == "anon_inode:inotify":
                    counts[uid] = counts.get(uid, 0) + 1
            except OSError:
                continue
    return max(counts.values(), default=0)


def check_inotify(hosts: int, say: Callable[[str], None], running_hosts: int = 0, proc: Path = Path("/proc"),
                  euid: int | None = None) -> InotifyBudget:
    """Make room for ``hosts`` more lab hosts: raise the limit as root (and say so), else
    FleetError naming the sysctl and the value to set. ``running_hosts`` lab hosts already
    run (their use is counted even where this user cannot see root's processes)."""
    path = proc / "sys" / "fs" / "inotify" / "max_user_instances"
    try:
        limit = int(path.read_text().strip())
    except (OSError, ValueError):
        return InotifyBudget(0, 0, 0)  # no such limit here: nothing to check
    euid = os.geteuid() if euid is None else euid
    budget = InotifyBudget(limit, max(inotify_in_use(proc), running_hosts * PER_HOST), hosts)
    if budget.enough:
        return budget
    need = (f"{SYSCTL} is {limit}, and {hosts} more lab host(s) need about {budget.needed} (systemd in each "
            f"container holds about {PER_HOST} inotify instances of root's; {budget.in_use} are in use)")
    if euid == 0:
        try:
            path.write_text(f"{budget.target}\n")
        except OSError as exc:
            raise FleetError(f"{need}, and raising it failed ({exc.strerror}): set {SYSCTL}={budget.target} "
                             f"on the machine that runs docker") from None
        say(f"raised {SYSCTL} from {limit} to {budget.target} for {hosts} lab host(s): this lasts until the next "
            f"reboot (to keep it: echo {SYSCTL}={budget.target} > /etc/sysctl.d/60-fleet-lab.conf)")
        return InotifyBudget(budget.target, budget.in_use, hosts)
    raise FleetError(f"{need}: as root, run 'sysctl -w {SYSCTL}={budget.target}' (or run fleet lab up as root, "
                     f"which raises it), then try again")


def exhausted(proc: Path = Path("/proc")) -> str:
    """A sentence when root's inotify instances are (nearly) used up, else ``""``: why a
    systemd container may have stopped while booting."""
    try:
        limit = int((proc / "sys" / "fs" / "inotify" / "max_user_instances").read_text().strip())
    except (OSError, ValueError):
        return ""
    used = inotify_in_use(proc)
    if used < limit - PER_HOST:
        return ""
    return (f"root holds {used} inotify instances and {SYSCTL} is {limit}: systemd cannot start in one more "
            f"container (raise {SYSCTL})")
