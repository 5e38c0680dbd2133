"""Add, change or remove a local group (groupadd, groupmod, groupdel).

Behaves like ``ansible.builtin.group`` on Linux:

* ``state: present`` creates the group with ``groupadd`` (``gid``; ``system: true`` picks a
  system gid with ``-r``); an existing group whose gid differs from ``gid`` gets
  ``groupmod -g`` (files keep their old numeric gid, as with Ansible). ``non_unique: true``
  allows a gid that another group already has (``-o``).
* ``state: absent`` removes the group with ``groupdel`` (``force: true`` adds ``-f``, which
  removes it even when it is a user's primary group).
* ``system`` only matters when the group is created; it cannot be changed later.
* Returns ``name``, ``state``, ``gid`` and ``system`` (Ansible's return values).

The state is read from ``/etc/group`` (the local group database the ``group*`` tools
edit); the commands run are returned as ``commands``.

Differences from Ansible: ``local`` (``lgroupadd``), ``gid_min``/``gid_max`` and non-Linux
platforms are not supported; groups known only through NSS (LDAP, sssd) are not seen, so
``state: present`` creates a local group of that name as ``groupadd`` would refuse to.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from fleet.agent.accounts import parse_group
from fleet.agent.commands import find_program
from fleet.agent.contract import Outcome, param
from fleet.agent.hostio import ModuleFailure

ALIASES: dict = {}
GROUP_FILE = "/etc/group"


@dataclass(frozen=True)
class Params:
    name: str = param("name of the group")
    state: Literal["present", "absent"] = param(
        "present creates the group, absent removes it", "present")
    gid: int | None = param("numeric id the group should have", None)
    system: bool = param("create it as a system group (id from the system range)", False)
    non_unique: bool = param("allow a gid another group already has (with gid)", False)
    force: bool = param("with state=absent, remove it even if it is a user's primary group", False)


def observe(p: Params, host) -> dict:
    groups = parse_group(host.read_text(GROUP_FILE, "") or "")
    entry = groups.get(p.name)
    if entry is None:
        return {"name": p.name, "state": "absent"}
    return {"name": p.name, "state": "present", "gid": entry["gid"]}


def check(p: Params) -> None:
    """A name /etc/group can hold; no negative gid; non_unique only with a gid."""
    if not p.name or ":" in p.name or "\n" in p.name or "," in p.name:
        raise ModuleFailure(f"invalid group name: {p.name!r}")
    if p.gid is not None and p.gid < 0:
        raise ModuleFailure(f"gid must not be negative: {p.gid}")
    if p.non_unique and p.gid is None:  # Ansible's required_if, in its words
        raise ModuleFailure("non_unique is True but all of the following are missing: gid")


def desired(p: Params, cur: dict) -> dict:
    if p.state == "absent":
        return {"state": "absent"}
    want: dict = {"state": "present"}
    if p.gid is not None:
        want["gid"] = p.gid
    return want


def command_plan(p: Params, cur: dict, want: dict) -> list:
    """The commands that take the group from ``cur`` to ``want`` (argv lists)."""
    if want.get("state") == "absent":
        if cur["state"] == "absent":
            return []
        return [["groupdel"] + (["-f"] if p.force else []) + [p.name]]
    if cur["state"] == "absent":
        argv = ["groupadd"]
        if p.gid is not None:
            argv += ["-g", str(p.gid)] + (["-o"] if p.non_unique else [])
        if p.system:
            argv.append("-r")
        return [argv + [p.name]]
    if "gid" in want and cur.get("gid") != want["gid"]:
        return [["groupmod", "-g", str(want["gid"])] + (["-o"] if p.non_unique else []) + [p.name]]
    return []


def which(name: str) -> str:
    """``name`` found on PATH or in the sbin directories (agents may run without them)."""
    found = find_program(name)
    if found is None:
        raise ModuleFailure(f"{name} is not installed on the host (needed to manage groups)")
    return found


def apply(p: Params, host, cur: dict, want: dict, ctx: Outcome) -> None:
    done: list = []
    ctx.report(commands=done)
    for argv in command_plan(p, cur, want):
        rc, out, err = host.run([which(argv[0])] + argv[1:])
        if rc != 0:
            raise ModuleFailure(f"{argv[0]} failed (rc {rc}): {(err or out).strip()}")
        done.append(argv)


def result(p: Params, state: dict) -> dict:
    """Ansible's return values (``name``, ``state``, ``gid``, ``system``) and ``commands``."""
    out = {"name": p.name, "state": state["state"], "system": p.system}
    if "gid" in state:
        out["gid"] = state["gid"]
    out["commands"] = []
    return out
