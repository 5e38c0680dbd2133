"""Set the host's name: persisted in /etc/hostname and applied to the running system.

Behaves like ``ansible.builtin.hostname``:

* ``name``: the host name (at most 64 characters, no blanks; a leading ``-`` is refused).
* ``use``: the strategy. ``systemd`` (the default when systemd runs the host) and ``debian``
  (the default otherwise) write ``/etc/hostname``; ``alpine`` writes it too; ``sles``
  writes ``/etc/HOSTNAME``; ``generic`` only sets the running name. The running name is set
  with ``hostnamectl --transient set-hostname NAME`` under ``systemd`` (``hostname NAME``
  when systemd-hostnamed cannot be reached), ``hostname -F FILE`` under ``alpine`` and
  ``hostname NAME`` otherwise.
* ``hostname_file`` (fleet only, for tests and unusual layouts): the file to persist the
  name in, instead of the strategy's.

The file is rewritten atomically with ``NAME\\n`` (a new one gets mode 0644). The running
name can only be changed with ``CAP_SYS_ADMIN`` (a container usually lacks it): then the name
is persisted, the task warns ``persisted, not applied at runtime: ...`` instead of failing,
and later runs report ``ok`` once the file is right, with the same warning (the running name
is out of the task's reach: ``running_hostname`` in the result shows it).

Returns ``name``, ``static_hostname``, ``running_hostname`` and ``ansible_facts``
(``ansible_hostname``, ``ansible_nodename``) as ``setup`` would now gather them.

Differences from Ansible: the pretty hostname (``/etc/machine-info``) is not set; the
``ansible_fqdn``/``ansible_domain`` facts are not returned (resolving them can hang on DNS);
``/etc/hostname`` is written directly (no ``hostnamectl --static``), so systemd-hostnamed
need not run; ``use`` values for other systems (``redhat``, ``openrc``, the BSDs, macOS,
Solaris) are refused.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Literal

from fleet.agent.contract import Outcome, param
from fleet.agent.hostenv import CAP_SYS_ADMIN, chroot_reason, has_capability
from fleet.agent.hostio import ModuleFailure

ALIASES: dict = {}
RETURNS_FACTS = True  # ansible_hostname and ansible_nodename, as setup would now gather them
FILES = {"systemd": "/etc/hostname", "debian": "/etc/hostname", "alpine": "/etc/hostname",
         "sles": "/etc/HOSTNAME", "generic": None}


@dataclass(frozen=True)
class Params:
    name: str = param("the host name to set")
    use: Literal[
        "alpine", "debian", "freebsd", "generic", "macos", "macosx", "darwin", "openbsd",
        "openrc", "redhat", "sles", "solaris", "systemd",
    ] | None = param(
        "which system's files to write (default: systemd if it runs, else debian)", None)
    hostname_file: str | None = param(
        "fleet only: the file that persists the name (default: per use)", None)


def check(p: Params) -> None:
    """A host name the kernel takes; a ``use`` fleet supports."""
    name = p.name
    if not name or len(name) > 64:
        raise ModuleFailure("name must be 1 to 64 characters long")
    if any(c.isspace() for c in name) or name.startswith("-") or "/" in name:
        raise ModuleFailure(f"invalid host name {name!r}: no blanks, no '/', no leading '-'")
    if p.use is not None and p.use not in FILES:
        raise ModuleFailure(
            f"use: {p.use} is not supported by fleet"
            " (Linux with systemd, Debian, Alpine, SLES, generic)"
        )


def strategy(p: Params, systemd: bool) -> str:
    return p.use or ("systemd" if systemd else "debian")


def _running(host) -> str:
    try:
        rc, out, _err = host.query(["hostname"])
    except ModuleFailure:  # no hostname command
        rc, out = 1, ""
    return out.strip() if rc == 0 and out.strip() else os.uname().nodename


def runtime_settable() -> bool:
    """Whether this process may change the kernel's host name (root with CAP_SYS_ADMIN)."""
    return os.geteuid() == 0 and has_capability(CAP_SYS_ADMIN, unknown=True)  # no /proc: try


def observe(p: Params, host) -> dict:
    use = strategy(p, os.path.isdir("/run/systemd/system"))
    path = p.hostname_file or FILES[use]
    cur: dict = {"use": use, "path": path, "running": _running(host),
                 "settable": runtime_settable() and not chroot_reason(), "chroot": chroot_reason()}
    if path:
        raw = host.read_bytes(path)
        cur["static"] = None if raw is None else raw.decode("utf-8", "replace").strip()
    return cur


def desired(p: Params, cur: dict) -> dict:
    want: dict = {}
    if cur["path"]:
        want["static"] = p.name
    if cur["settable"]:
        want["running"] = p.name
    return want


def caveats(p: Params, state: dict) -> dict:
    """The running name this host does not let fleet change, reported on every run."""
    if state["running"] == p.name or state["settable"]:
        return {}
    prefix = "persisted, not applied at runtime: " if state["path"] else "not applied: "
    if state.get("chroot"):
        return {"running": prefix + state["chroot"]}
    return {"running": prefix + "the kernel host name cannot be changed here (no CAP_SYS_ADMIN, "
            f"e.g. a container); it stays {state['running']!r}"}


def set_running_command(use: str, name: str, path: str | None) -> list:
    if use == "systemd":
        return ["hostnamectl", "--transient", "set-hostname", name]
    if use == "alpine" and path:
        return ["hostname", "-F", path]
    return ["hostname", name]


def apply(p: Params, host, cur: dict, want: dict, ctx: Outcome) -> None:
    if "static" in want and cur["static"] != p.name:
        parent = os.path.dirname(cur["path"])
        if parent and not os.path.isdir(parent):
            host.mkdir(parent)
        exists = host.path_info(cur["path"], follow=True) is not None
        host.write_file(cur["path"], (p.name + "\n").encode(), mode=None if exists else "0644")
    if cur["running"] == p.name or not cur["settable"]:  # not settable: caveats() says so
        return
    prefix = "persisted, not applied at runtime: " if cur["path"] else "not applied: "
    errors = []
    commands = [set_running_command(cur["use"], p.name, cur["path"])]
    if commands[0][0] == "hostnamectl":  # systemd-hostnamed unreachable: the plain command
        commands.append(["hostname", p.name])
    for argv in commands:
        try:
            rc, out, err = host.run(argv)
        except ModuleFailure as exc:  # command not found
            rc, out, err = 127, "", str(exc)
        if rc == 0:
            now = _running(host)
            if now == p.name:
                return
            errors.append(f"{argv[0]} succeeded but the running name is still {now!r}")
        else:
            errors.append(f"{argv[0]}: {(err or out).strip() or f'rc={rc}'}")
    ctx.warn("running", prefix + "; ".join(errors))


def result(p: Params, state: dict) -> dict:
    running = state["running"]
    return {
        "name": p.name,
        "static_hostname": state.get("static"),
        "running_hostname": running,
        "ansible_facts": {"ansible_hostname": running.split(".")[0], "ansible_nodename": running},
    }
