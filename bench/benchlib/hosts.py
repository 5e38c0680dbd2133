"""Benchmark hosts: one local sshd, N inventory hosts that reach it, a directory per host.

When the harness runs as root, the hosts log in as a dedicated user (:data:`BENCH_USER`,
login shell ``/bin/sh``, created once) instead of root: root's shell start-up files on a
developer machine can cost hundreds of milliseconds per SSH session (``pyenv init`` in
``~/.bashrc``), a cost of the machine rather than of any tool being measured. Run as another
user, the hosts log in as that user.
"""

from __future__ import annotations

import os
import pwd
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from benchlib.workloads import HOST_GROUP
from fleet.testing.sshd import LocalSSHD, ensure_login_user

BENCH_USER = "fleetbench"
SYSTEM_PYTHON = "/usr/bin/python3"
REAPER = Path(__file__).resolve().parent / "reaper.py"


def choose_login_user() -> str:
    """:data:`BENCH_USER` (created if needed) when running as root, else the current user."""
    if os.geteuid() == 0:
        ensure_login_user(BENCH_USER)
        return BENCH_USER
    return pwd.getpwuid(os.geteuid()).pw_name


def unreachable_dir(path: Path, user: str) -> Path | None:
    """The first directory on the way to ``path`` that ``user`` may not enter, if any."""
    entry = pwd.getpwnam(user)
    if entry.pw_uid == 0:
        return None
    groups = set(os.getgrouplist(user, entry.pw_gid))
    for directory in [*reversed(path.resolve().parents), path.resolve()]:
        st = directory.stat()
        if st.st_uid == entry.pw_uid:
            bit = 0o100
        elif st.st_gid in groups:
            bit = 0o010
        else:
            bit = 0o001
        if not st.st_mode & bit:
            return directory
    return None


def _give(path: Path, user: str) -> None:
    """Make ``path`` belong to ``user`` (only possible, and only needed, as root)."""
    if os.geteuid() == 0:
        entry = pwd.getpwnam(user)
        os.chown(path, entry.pw_uid, entry.pw_gid)


@dataclass
class HostSet:
    """N inventory hosts h1..hN on one sshd, each working under its own root directory."""

    base: Path
    count: int
    login_user: str
    connection: dict[str, object]
    roots: dict[str, Path] = field(init=False)

    def __post_init__(self) -> None:
        self.roots = {f"h{i}": self.base / f"h{i}" for i in range(1, self.count + 1)}

    def reset(self) -> None:
        """Fresh, empty host directories owned by the login user (a never-configured fleet)."""
        shutil.rmtree(self.base, ignore_errors=True)
        self.base.mkdir(parents=True)
        _give(self.base, self.login_user)
        for root in self.roots.values():
            root.mkdir()
            _give(root, self.login_user)

    def host_vars(self, name: str) -> dict[str, object]:
        """What a workload needs per host: its ``root`` and the ``bench_user`` owning it."""
        return {"root": str(self.roots[name]), "bench_user": self.login_user}

    def write_ansible_inventory(self, path: Path) -> Path:
        """An Ansible YAML inventory: group ``bench`` with every host and the connection vars."""
        members = {name: self.host_vars(name) for name in self.roots}
        data = {"all": {"children": {HOST_GROUP: {"hosts": members, "vars": self.connection}}}}
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        return path


class BenchHosts:
    """A workspace and the sshd every benchmark host reaches; a context manager.

    ``host_set(label, n)`` gives n hosts under ``workspace/label/hosts``;
    ``target_cpu_seconds()`` is the CPU time sshd and everything it ran (sessions, agents,
    modules) used so far: the host side's cost, separate from the controller's. sshd runs
    under ``reaper.py`` so that session processes sshd does not wait for are counted too.
    """

    def __init__(self, workspace: Path, login_user: str, max_sessions: int = 1000) -> None:
        self.workspace = workspace
        self.login_user = login_user
        self.max_sessions = max_sessions
        self.sshd: LocalSSHD | None = None

    def __enter__(self) -> BenchHosts:
        self.workspace.mkdir(parents=True, exist_ok=True)
        self.workspace.chmod(0o755)  # the login user must reach the host directories
        blocked = unreachable_dir(self.workspace, self.login_user)
        if blocked is not None:
            raise RuntimeError(f"the hosts' login user {self.login_user!r} cannot enter {blocked}: "
                               "choose a workspace under a directory it can reach (e.g. /tmp)")
        sshd_dir = self.workspace / "sshd"
        shutil.rmtree(sshd_dir, ignore_errors=True)  # new keys every time
        sshd_dir.mkdir(mode=0o700)
        self.sshd = LocalSSHD.start(sshd_dir, self.max_sessions, login_user=self.login_user,
                                    launcher=[sys.executable, str(REAPER)])
        return self

    def __exit__(self, *exc: object) -> None:
        if self.sshd is not None:
            self.sshd.stop()
            self.sshd = None

    def _server(self) -> LocalSSHD:
        if self.sshd is None:
            raise RuntimeError("BenchHosts is not started (use it as a context manager)")
        return self.sshd

    def connection_vars(self) -> dict[str, object]:
        """Ansible connection variables of every host (same sshd, same key, same user)."""
        found = dict(self._server().host_vars())
        if os.access(SYSTEM_PYTHON, os.X_OK):  # no interpreter discovery, for every tool
            found["ansible_python_interpreter"] = SYSTEM_PYTHON
        return found

    def host_set(self, label: str, count: int) -> HostSet:
        """``count`` hosts under ``workspace/label/hosts`` (not created: call ``reset``)."""
        base = self.workspace / label / "hosts"
        base.parent.mkdir(parents=True, exist_ok=True)
        return HostSet(base, count, self.login_user, self.connection_vars())

    def _pids(self) -> tuple[int, int | None]:
        """The reaper's pid and sshd's (None until sshd has written its PidFile)."""
        server = self._server()
        try:
            return server.process.pid, int(server.pid_file.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return server.process.pid, None

    def settle(self, timeout: float = 15.0, kept: bool = False) -> None:
        """Wait until the last run's sessions have ended and been reaped.

        That is: sshd has no child left, and the reaper none but sshd. With ``kept`` (a tool
        that keeps its sessions and agents between runs) sessions stay: wait until the host
        side has used no CPU for a moment instead.
        """
        reaper, sshd = self._pids()
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            try:
                if set(_children(reaper)) <= {sshd} and (sshd is None or not _children(sshd)):
                    return
                if kept:
                    now = self.target_cpu_seconds()
                    if now is not None and now == last:
                        return
                    last = now
                    time.sleep(0.2)
            except OSError:
                return  # no /proc children files: nothing to wait on
            time.sleep(0.02)

    def target_cpu_seconds(self) -> float | None:
        """CPU (user+sys) of sshd and everything it ran so far; None without /proc.

        Processes still running (a kept session's agent) count with what they used so far."""
        reaper, sshd = self._pids()
        try:
            total = _cpu_ticks(reaper, own=False) + (_cpu_ticks(sshd, own=True) if sshd else 0)
            total += sum(_cpu_ticks(pid, own=True) for pid in _descendants(reaper) if pid != sshd)
        except OSError:
            return None
        return total / os.sysconf("SC_CLK_TCK")


def _descendants(pid: int) -> list[int]:
    """Every live process below ``pid`` (one that ends meanwhile is left out)."""
    found, todo = [], [pid]
    while todo:
        try:
            children = _children(todo.pop())
        except OSError:
            continue
        found += children
        todo += children
    return found


def _children(pid: int) -> list[int]:
    """Direct children of ``pid`` (zombies included) from /proc."""
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    return [int(p) for p in text.split()]


def _cpu_ticks(pid: int, own: bool) -> int:
    """Clock ticks of a process's reaped children, plus its own when ``own`` (0 once it is gone
    if it is not the reaper: its parent has its ticks then)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        if own:
            return 0
        raise
    utime, stime, cutime, cstime = (int(fields[i]) for i in (11, 12, 13, 14))
    return cutime + cstime + (utime + stime if own else 0)
