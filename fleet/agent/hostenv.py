"""What kind of system the agent runs on, for modules that touch the running kernel.

In a chroot (``fleet bake --rootfs``, ``ansible_connection: chroot``) the files are the tree's
but the kernel, its host name, modules, mounts, firewall and network are the build machine's:
modules must persist their settings in the tree and never apply them at runtime there.
"""

from __future__ import annotations

import contextlib
import os

CHROOT_MARKER = "FLEET_CHROOT"  # set by the chroot transport in the agent's environment
CAP_SYS_MODULE, CAP_SYS_ADMIN = 16, 21  # linux/capability.h


def has_capability(bit: int, unknown: bool = False, status: str = "/proc/self/status") -> bool:
    """Whether this process has capability ``bit`` in its effective set (``CapEff:``), e.g.
    no ``CAP_SYS_ADMIN`` in a container; ``unknown`` when that cannot be read (no /proc)."""
    try:
        with open(status) as handle:
            for line in handle:
                if line.startswith("CapEff:"):
                    return bool(int(line.split()[1], 16) >> bit & 1)
    except OSError:
        pass
    return unknown


def chroot_reason() -> str:
    """Why runtime (kernel) changes must not be made here, or ``""`` on a running system."""
    if os.environ.get(CHROOT_MARKER):
        return "a chroot: the running kernel is the build machine's"
    if not os.path.isdir("/proc/self"):  # no running system lacks /proc: a tree (become drops the marker)
        return "a chroot: the running kernel is the build machine's"
    try:  # /proc mounted inside a tree: our root is not init's (only root may look)
        ours, init = os.stat("/"), os.stat("/proc/1/root")
        if (ours.st_dev, ours.st_ino) != (init.st_dev, init.st_ino):
            return "a chroot: the running kernel is the build machine's"
    except OSError:
        pass
    return ""


POLICY_RC_D = "/usr/sbin/policy-rc.d"
# Debian's way to keep package scripts from starting services (invoke-rc.d asks it; 101 = no).
_REFUSE_ALL = b"#!/bin/sh\n# fleet: no service starts in a chroot (removed after the package run)\nexit 101\n"


@contextlib.contextmanager
def services_held(host):
    """While the body runs in a chroot, package scripts start no service: a daemon started
    there would run on the build machine. A policy-rc.d already in the tree is left alone."""
    if not chroot_reason() or os.path.lexists(POLICY_RC_D) or not os.path.isdir(os.path.dirname(POLICY_RC_D)):
        yield
        return
    host.write_file(POLICY_RC_D, _REFUSE_ALL, mode="0755")
    try:
        yield
    finally:
        host.remove(POLICY_RC_D)
