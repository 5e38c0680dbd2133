"""``ansible_connection: chroot``: the agent runs via ``chroot DIR /bin/sh -c …``.

``ansible_host`` (or the inventory name) is the directory tree, e.g. a debootstrap tree that
later becomes a VM or container image. The agent runs as root in the tree with a clean
environment; nothing is mounted (no ``/proc``, ``/sys`` or ``/dev`` unless the tree has them
mounted already), so what a module does touches the tree only. Modules that would change the
running kernel (host name, firewall, sysctl, modules, mounts) persist in the tree and refuse
the runtime part (``fleet.agent.hostenv``); as a second fence the agent gets its own host-name,
IPC and mount namespaces (``unshare``). The network namespace stays the machine's, so apt can
download into the tree. ``chroot`` needs root (``CAP_SYS_CHROOT``) on the controller.
"""

from __future__ import annotations

import os
import posixpath
import shutil

from fleet.errors import ConnectionFailed
from fleet.transport.base import SubprocessTransport

# What the agent sees: the tree's own tools first, never the controller's virtualenv.
CHROOT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
CHROOT_ENV = {"PATH": CHROOT_PATH, "HOME": "/root", "LANG": "C.UTF-8", "USER": "root", "LOGNAME": "root",
              "FLEET_CHROOT": "1"}  # fleet.agent.hostenv: modules never touch the running kernel here
UNSHARE_FLAGS = ("--uts", "--ipc", "--mount", "--propagation", "private")


def find_in_tree(root: str, program: str) -> str | None:
    """Where ``program`` (a name or an absolute path) is inside the tree, as the tree's path.

    Symlinks are followed inside the tree (an absolute link target is taken relative to
    ``root``), so ``/usr/bin/python3 -> python3.11`` resolves as it would after chroot.
    """
    candidates = [program] if program.startswith("/") else [
        posixpath.join(d, program) for d in CHROOT_PATH.split(":")]
    for candidate in candidates:
        if _exists_in_tree(root, candidate):
            return candidate
    return None


def _exists_in_tree(root: str, path: str, depth: int = 0) -> bool:
    if depth > 40:  # a symlink loop
        return False
    parts = [p for p in path.split("/") if p and p != "."]
    current = "/"
    for index, part in enumerate(parts):
        if part == "..":
            current = posixpath.dirname(current.rstrip("/")) or "/"
            continue
        candidate = posixpath.join(current, part)
        real = os.path.join(root, candidate.lstrip("/"))
        if os.path.islink(real):
            target = os.readlink(real)
            target = target if target.startswith("/") else posixpath.join(current, target)
            rest = "/".join(parts[index + 1:])
            return _exists_in_tree(root, posixpath.join(target, rest) if rest else target, depth + 1)
        if not os.path.lexists(real):
            return False
        current = candidate
    real = os.path.join(root, current.lstrip("/"))
    return os.path.isfile(real) and os.access(real, os.X_OK)


class ChrootTransport(SubprocessTransport):
    """Start the agent inside a directory tree with ``chroot``."""

    name = "chroot"

    def __init__(self, root: str, interpreter: str = "python3", chroot: str = "chroot",
                 check_python: bool = True) -> None:
        super().__init__()
        self.root = root
        self.interpreter = interpreter
        self.chroot = chroot
        self.check_python = check_python  # off only to install python (fleet.connection.pyinstall)

    async def connect(self) -> None:
        check_tree(self.root, self.interpreter if self.check_python else None, self.chroot)

    env = CHROOT_ENV  # nothing of the controller's environment leaks into the tree
    cwd = "/"

    def argv_for(self, command: str) -> list[str]:
        return [*self.isolation(), self.chroot, self.root, "/bin/sh", "-c", command]

    @staticmethod
    def isolation() -> list[str]:
        """Own host-name, IPC and mount namespaces (``unshare``) where available: even a module
        that ignored the chroot marker could not rename or remount the build machine."""
        unshare = shutil.which("unshare")
        return [unshare, *UNSHARE_FLAGS] if unshare else []


def check_tree(root: str, interpreter: str | None = "python3", chroot: str = "chroot") -> None:
    """ConnectionFailed with the reason when the agent cannot start in ``root``
    (``interpreter`` None: only a shell is needed)."""
    if not os.path.isdir(root):
        what = "does not exist" if not os.path.lexists(root) else "is not a directory"
        raise ConnectionFailed(f"chroot {root}: {what} (ansible_host must be the tree's directory)")
    if shutil.which(chroot) is None and not os.access(f"/usr/sbin/{chroot}", os.X_OK):
        raise ConnectionFailed(f"the {chroot} command is not installed on the controller (coreutils)")
    if os.geteuid() != 0:
        raise ConnectionFailed(f"chroot {root}: chroot needs root on the controller (run fleet as root)")
    if find_in_tree(root, "/bin/sh") is None:
        raise ConnectionFailed(f"chroot {root}: the tree has no /bin/sh (is it a root filesystem?)")
    if interpreter is not None and find_in_tree(root, interpreter) is None:
        where = interpreter if interpreter.startswith("/") else f"{interpreter} on {CHROOT_PATH}"
        raise ConnectionFailed(
            f"chroot {root}: no {where} in the tree: install Python 3 there (e.g. chroot {root} "
            f"apt-get install python3) or set ansible_python_interpreter")
