"""Manage entries of /etc/hosts: one line per IP address, each host name on one address.

Ansible has no such module (playbooks use lineinfile or blockinfile); this one parses the file.

* ``state: present`` (``ip`` and ``hostnames`` required): the address gets exactly one line,
  ``IP<TAB>NAME ALIAS...`` with the names in the order given (the first is the canonical
  name). An existing line for the address is rewritten in place (its trailing comment kept)
  or left untouched when its names are already right, whatever its spacing; further lines
  for the same address are removed; a new line goes to the end. Addresses are compared as
  addresses (``::1`` = ``0::1``).
* ``exclusive: true`` (the default): a name given here must not stay on another address of
  the same family, so it is removed from other IPv4 lines (for an IPv4 ``ip``) or IPv6
  lines (IPv6); a line left without names is removed. ``localhost`` on ``127.0.0.1`` and on
  ``::1`` is therefore fine. ``exclusive: false`` leaves other lines alone.
* ``state: absent``: with ``ip`` alone every line of that address is removed; with
  ``hostnames`` those names are removed from the address's lines (from every line when no
  ``ip`` is given), and lines left without names go.
* Comments, blank lines and lines the task does not concern are kept byte for byte. Names
  are compared case-insensitively (as the resolver does).
* The file (``path``, default ``/etc/hosts``) is replaced atomically where it can be; in a
  container ``/etc/hosts`` is a bind mount (rename gives EBUSY), so there it is rewritten in
  place from the finished temp file. ``backup: true`` keeps a timestamped copy
  (``backup_file``). ``msg`` says what was done.
"""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass
from typing import Literal

from fleet.agent.contract import Outcome, param
from fleet.agent.errors import ModuleFailure
from fleet.agent.modes import display_text
from fleet.agent.textfile import observe_file

ALIASES = {"dest": "path", "address": "ip", "names": "hostnames"}
DIFF_TEXT = ("content",)
HOSTNAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")


@dataclass(frozen=True)
class Params:
    ip: str | None = param("IPv4 or IPv6 address of the line", None)
    hostnames: list[str] | str = param(
        "names for the address, the canonical one first", factory=list)
    state: Literal["present", "absent"] = param(
        "present makes the line so, absent removes the address or the names", "present")
    path: str = param("the hosts file to edit", "/etc/hosts")
    exclusive: bool = param("remove these names from other addresses of the same family", True)
    backup: bool = param(
        "keep a timestamped copy of the old file before changing it (backup_file)", False)


def _address(text: str):
    """An ``ipaddress`` object for comparison (zone index kept apart), or None if not an IP."""
    base, _sep, zone = text.partition("%")
    try:
        return ipaddress.ip_address(base), zone
    except ValueError:
        return None


def names_of(p: Params) -> list:
    names = p.hostnames.split() if isinstance(p.hostnames, str) else list(p.hostnames)
    seen = set()
    for name in names:
        if not HOSTNAME.match(name):
            raise ModuleFailure(f"hostnames: {name!r} is not a host name")
        if name.lower() in seen:
            raise ModuleFailure(f"hostnames: {name!r} is given twice")
        seen.add(name.lower())
    return names


def check(p: Params) -> None:
    """What each state needs; malformed addresses and names."""
    entry_of(p)


def entry_of(p: Params) -> tuple:
    """``(address or None, names)``; ModuleFailure for missing or malformed parameters."""
    names = names_of(p)
    address = None
    if p.ip is not None:
        address = _address(p.ip.strip())
        if address is None:
            raise ModuleFailure(f"ip: {p.ip!r} is not an IP address")
    if p.state == "present" and (address is None or not names):
        raise ModuleFailure("state=present needs ip and at least one hostname")
    if p.state == "absent" and address is None and not names:
        raise ModuleFailure("state=absent needs ip, hostnames or both")
    return address, names


class Line:
    """One line of the file: an entry (address, names, comment) or anything else, kept as is."""

    def __init__(self, raw: str) -> None:
        self.raw = raw
        body, hash_, comment = raw.rstrip("\r\n").partition("#")
        self.comment = hash_ + comment
        fields = body.split()
        self.address = _address(fields[0]) if fields else None
        self.ip = fields[0] if fields else ""
        self.names = fields[1:] if self.address is not None else []

    def render(self, names: list) -> str:
        comment = " " + self.comment if self.comment else ""
        return f"{self.ip}\t{' '.join(names)}{comment}\n"


def _same_family(a, b) -> bool:
    return a is not None and b is not None and a[0].version == b[0].version


def edit(p: Params, text: str) -> tuple:
    """``(new text, msg)`` for this task."""
    address, names = entry_of(p)
    lines = [Line(raw) for raw in text.splitlines(True)]
    wanted = {n.lower() for n in names}
    out: list = []
    found = False
    msgs: list = []
    for line in lines:
        if line.address is None:
            out.append(line.raw)
            continue
        ours = address is not None and line.address == address
        if p.state == "present" and ours:
            if found:
                msgs.append(f"duplicate line for {p.ip} removed")
                continue
            found = True
            if [n.lower() for n in line.names] == [n.lower() for n in names]:
                out.append(line.raw)
            else:
                out.append(line.render(names))
                msgs.append(f"entry for {p.ip} replaced")
            continue
        if p.state == "absent" and ours and not names:
            msgs.append(f"entry for {p.ip} removed")
            continue
        strip = (p.state == "absent" and (ours or address is None)) or (
            p.state == "present" and p.exclusive and _same_family(line.address, address))
        if not strip or not any(n.lower() in wanted for n in line.names):
            out.append(line.raw)
            continue
        kept = [n for n in line.names if n.lower() not in wanted]
        gone = [n for n in line.names if n.lower() in wanted]
        msgs.append(f"{' '.join(gone)} removed from {line.ip}")
        if kept:
            out.append(line.render(kept))
    if p.state == "present" and not found:
        if out and not out[-1].endswith("\n"):
            out[-1] += "\n"
        out.append(f"{(p.ip or '').strip()}\t{' '.join(names)}\n")
        msgs.append(f"entry for {p.ip} added")
    new = "".join(out)
    return new, ("; ".join(dict.fromkeys(msgs)) if new != text else "")


def observe(p: Params, host) -> dict:
    """The file and this task's edit of it (``new``, ``msg``: once per observation)."""
    cur = observe_file(p.path, host, real=False, attrs=("mode",), is_dir="{} is a directory")
    if cur["raw"] is not None:
        new, cur["msg"] = edit(p, cur["raw"].decode("utf-8", "surrogateescape"))
        cur["new"] = new.encode("utf-8", "surrogateescape")
    return cur


def desired(p: Params, cur: dict) -> dict:
    if cur["raw"] is None:
        if p.state == "absent":
            return {}
        raise ModuleFailure(f"{cur['path']} does not exist")
    return {} if cur["new"] == cur["raw"] else {"content": display_text(cur["new"])}


def apply(p: Params, host, cur: dict, want: dict, ctx: Outcome) -> None:
    backup = host.backup(cur["path"]) if p.backup else ""
    host.write_file(os.path.realpath(cur["path"]), cur["new"])
    ctx.report(msg=cur["msg"], **({"backup_file": backup} if backup else {}))


def result(p: Params, state: dict) -> dict:
    """``path``, ``msg`` (what the edit would do; apply reports what it did), ``mode``."""
    out = {"path": state["path"], "msg": state.get("msg", "")}
    if state.get("mode"):
        out["mode"] = state["mode"]
    return out
