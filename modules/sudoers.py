"""Manage a sudoers drop-in file (one rule per file under /etc/sudoers.d).

Behaves like ``community.general.sudoers``:

* ``state: present`` writes ``sudoers_path/name`` (mode ``0440``, owned by ``root:root``)
  holding one rule for ``user`` or ``group`` (``%group``; exactly one of them):
  ``USER HOST=(RUNAS)NOEXEC:NOPASSWD:SETENV: CMD, CMD`` (the same bytes Ansible writes),
  preceded by one ``Defaults:USER ...`` line per ``defaults`` entry. ``commands`` is a list
  (or a comma-separated string); ``ALL`` allows every command. ``nopassword`` defaults to
  true, as in Ansible; ``host`` defaults to ``ALL``; ``runas`` is the target user.
* ``validation: detect`` (default) checks the rule with ``visudo -c`` when visudo is
  installed, ``required`` fails without it, ``absent`` skips the check. A rule visudo
  refuses fails the task (``Failed to validate sudoers rule: ...``), in check mode too, and
  nothing is written; the new file is also checked with ``visudo -cf`` before it replaces
  the old one (atomically).
* ``state: absent`` removes the file.
* ``name`` must be a file name sudo reads from an ``@includedir``: no ``.`` anywhere and no
  trailing ``~`` (sudo silently skips those), no ``/``.
* Returns ``name``, ``path`` and ``state``.

Differences from Ansible: names sudo would skip are refused (Ansible writes a file sudo
ignores); a newline in any value is refused (it would add lines to the rule file); the
owner ``root:root`` is enforced along with the mode.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Literal

from fleet.agent.commands import SYSTEM_DIRS, find_program
from fleet.agent.contract import Outcome, param
from fleet.agent.hostio import MissingUntilApplied, ModuleFailure, expand_path

ALIASES: dict = {}
DIFF_TEXT = ("content",)


@dataclass(frozen=True)
class Params:
    name: str = param("name of the file in sudoers_path")
    state: Literal["present", "absent"] = param(
        "present writes the rule, absent removes its file", "present")
    user: str | None = param("the user the rule is for", None)
    group: str | None = param("the group the rule is for (instead of user)", None)
    commands: list[str] | str | None = param("commands the rule allows (full paths, or ALL)", None)
    nopassword: bool = param("allow them without a password (NOPASSWD)", True)
    setenv: bool = param("let the user keep their environment (SETENV)", False)
    noexec: bool = param("keep the commands from executing others (NOEXEC)", False)
    host: str = param("hosts the rule applies on", "ALL")
    runas: str | None = param("who the commands may be run as", None)
    defaults: list[str] | None = param("Defaults lines for the rule's user or group", None)
    sudoers_path: str = param("the sudoers drop-in directory", "/etc/sudoers.d")
    validation: Literal["absent", "detect", "required"] = param(
        "check the file with visudo: detect (if present), required or absent", "detect")


def name_problem(name: str) -> str | None:
    """Why sudo's ``@includedir`` would not read a file of this name (None: it would)."""
    if not name:
        return "name must not be empty"
    if "/" in name or "\0" in name or "\n" in name:
        return "name must be a plain file name (no '/')"
    if "." in name:
        return "sudo skips files in an includedir whose name contains a '.'"
    if name.endswith("~"):
        return "sudo skips files in an includedir whose name ends in '~'"
    return None


def command_list(value) -> list:
    if value is None:
        return []
    items = value.split(",") if isinstance(value, str) else value
    return [str(c).strip() for c in items if str(c).strip()]


def check(p: Params) -> None:
    """A file name sudo reads, exactly one of user/group, commands, one-line values."""
    problem = name_problem(p.name)
    if problem:
        raise ModuleFailure(f"invalid sudoers file name {p.name!r}: {problem}")
    if p.state == "absent":
        return
    if p.user and p.group:
        raise ModuleFailure("parameters are mutually exclusive: user|group")
    if not (p.user or p.group):
        raise ModuleFailure("one of user or group is required with state=present")
    if not command_list(p.commands):
        raise ModuleFailure("state is present but all of the following are missing: commands")
    values = [p.user, p.group, p.host, p.runas, *command_list(p.commands), *(p.defaults or [])]
    if any(v is not None and ("\n" in v or "\r" in v) for v in values):
        raise ModuleFailure("sudoers values must not contain a newline")


def content(p: Params) -> str:
    """The rule file, byte for byte as community.general.sudoers writes it."""
    owner = p.user if p.user else f"%{p.group}"
    defaults = "".join(f"Defaults:{owner} {d}\n" for d in p.defaults or [])
    tags = ("NOEXEC:" if p.noexec else "") + ("NOPASSWD:" if p.nopassword else "") + (
        "SETENV:" if p.setenv else "")
    runas = f"({p.runas})" if p.runas is not None else ""
    return f"{defaults}{owner} {p.host}={runas}{tags} {', '.join(command_list(p.commands))}\n"


def visudo() -> str | None:
    return find_program("visudo")


def observe(p: Params, host) -> dict:
    directory = expand_path(p.sudoers_path)
    path = os.path.join(directory, p.name)
    raw = host.read_bytes(path)
    cur: dict = {"path": path, "dir_exists": os.path.isdir(directory),
                 "state": "absent" if raw is None else "present",
                 "content": None if raw is None else raw.decode("utf-8", errors="replace")}
    info = host.path_info(path, follow=True)
    if info is not None:
        cur.update(mode=info["mode"], uid=info["uid"], gid=info["gid"])
    if p.state == "present" and p.validation != "absent":
        cur["_visudo"] = visudo()
        if cur["_visudo"] is None and p.validation == "required":
            raise ModuleFailure("Failed to find required executable \"visudo\" in paths: "
                                + os.pathsep.join([os.environ.get("PATH", ""), *SYSTEM_DIRS]))
        if cur["_visudo"] is not None:
            rc, out, err = host.query([cur["_visudo"], "-c", "-f", "-"], stdin=content(p))
            if rc != 0:
                cur["_invalid"] = (out + err).strip()
    return cur


def desired(p: Params, cur: dict) -> dict:
    if p.state == "absent":
        return {"state": "absent"}
    if "_invalid" in cur:
        raise ModuleFailure("Failed to validate sudoers rule:\n" + cur["_invalid"])
    want = {"state": "present", "content": content(p), "mode": "0440", "uid": 0, "gid": 0}
    if not cur["dir_exists"]:
        directory = os.path.dirname(cur["path"])
        raise MissingUntilApplied(f"{directory} does not exist (is sudo installed?)", want)
    return want


def apply(p: Params, host, cur: dict, want: dict, ctx: Outcome) -> None:
    path = cur["path"]
    if want["state"] == "absent":
        host.remove(path)
        return
    if cur["content"] != want["content"]:
        check = f"{cur['_visudo']} -c -f %s" if cur.get("_visudo") else None
        host.write_file(path, want["content"].encode("utf-8"), mode="0440", owner=0, group=0,
                        validate=check)
    else:
        host.set_attrs(path, {"mode": "0440", "uid": 0, "gid": 0})


def result(p: Params, state: dict) -> dict:
    return {"name": p.name, "path": state["path"], "state": state["state"]}
