"""Insert, update or remove a block of lines between marker lines in a file.

Behaves like ``ansible.builtin.blockinfile`` (same default marker, so blocks written by
Ansible are recognised and updated in place):

* The block sits between ``marker`` lines with ``{mark}`` replaced by ``marker_begin``
  (``BEGIN``) and ``marker_end`` (``END``). When both markers are found the block between
  them (markers included) is replaced; an empty ``block`` or ``state: absent`` removes it.
* A new block goes to the end (``insertafter: EOF``, the default), the start
  (``insertbefore: BOF``), or after/before the last line matching the regex; a regex with
  ``(?m)`` is matched against the whole file. If the regex matches nothing: the end.
* ``prepend_newline``/``append_newline`` put a blank line before/after a new block unless
  one is already there (or it is the start/end of the file).
* A missing file is an error unless ``create: true`` (which also creates its directory).
* The file is rewritten atomically (through a symlink, to its real path); ``validate``
  runs on the new content first; ``backup: true`` keeps a timestamped copy
  (``backup_file``). ``msg`` is ``Block inserted``, ``Block removed`` or ``File created``.

Difference from Ansible: mode/owner/group always apply to the real file; ``marker_begin``
and ``marker_end`` are substituted literally (Ansible runs them through ``re.sub``).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Literal

from fleet.agent.contract import Outcome, param
from fleet.agent.hostio import ModuleFailure, display_text, wanted_attrs
from fleet.agent.textfile import observe_file, replace_file, wanted_attrs_of

ALIASES = {"dest": "path", "destfile": "path", "name": "path", "content": "block"}
DIFF_TEXT = ("content",)
SEP = os.linesep.encode()


@dataclass(frozen=True)
class Params:
    path: str = param("the file to edit")
    block: str = param(
        "the text between the markers (empty with state=present removes the block's lines)", "")
    marker: str = param(
        "marker line template; {mark} becomes marker_begin or marker_end",
        "# {mark} ANSIBLE MANAGED BLOCK")
    marker_begin: str = param("what replaces {mark} in the opening marker", "BEGIN")
    marker_end: str = param("what replaces {mark} in the closing marker", "END")
    state: Literal["present", "absent"] = param(
        "present puts the block in the file, absent removes it with its markers", "present")
    insertafter: str | None = param(
        "a new block goes after the last line matching this regex (or EOF)", None)
    insertbefore: str | None = param(
        "a new block goes before the last line matching this regex (or BOF)", None)
    create: bool = param("create the file when it does not exist", False)
    backup: bool = param(
        "keep a timestamped copy of the old file before changing it (backup_file)", False)
    mode: int | str | None = param(
        "permissions of the file: octal (\"0644\") or symbolic (\"u=rw,g=r,o=r\")", None)
    owner: str | None = param("user that should own the file (kept as it is when not given)", None)
    group: str | None = param("group that should own the file (kept as it is when not given)", None)
    validate: str | None = param(
        "command run on the candidate file before it replaces the old one; %s is its path", None)
    append_newline: bool = param(
        "add a blank line after the block when the next line is not blank", False)
    prepend_newline: bool = param(
        "add a blank line before the block when the previous line is not blank", False)


def observe(p: Params, host) -> dict:
    """The file, and this task's edit of it (``new``: computed once per observation)."""
    cur = observe_file(p.path, host, is_dir="Path {} is a directory !")
    cur["new"] = edit(p, cur["raw"])
    return cur


def check(p: Params) -> None:
    """Ansible's rules between parameters."""
    if p.insertafter is not None and p.insertbefore is not None:
        raise ModuleFailure("parameters are mutually exclusive: insertbefore|insertafter")
    if p.validate is not None and "%s" not in p.validate:
        raise ModuleFailure(f"validate must contain %s: {p.validate}")


def edit(p: Params, original: bytes | None) -> bytes:
    """The file's new content for this task (``original`` None: the file is absent)."""
    lines = original.splitlines(True) if original else []
    present = p.state == "present"
    after, before = p.insertafter, p.insertbefore
    if after is None and before is None:
        after = "EOF"
    where_re = None
    if after not in (None, "EOF"):
        where_re = re.compile(after.encode())
    elif before not in (None, "BOF"):
        where_re = re.compile(before.encode())

    marker = p.marker.encode()
    begin = marker.replace(b"{mark}", p.marker_begin.encode()) + SEP
    end = marker.replace(b"{mark}", p.marker_end.encode()) + SEP
    block = p.block.encode()
    blocklines = []
    if present and block:
        if not block.endswith(SEP):
            block += SEP
        blocklines = [begin] + block.splitlines(True) + [end]

    n0 = n1 = None
    for i, line in enumerate(lines):
        if line == begin:
            n0 = i
        if line == end:
            n1 = i

    if n0 is None or n1 is None:
        n0 = _insert_at(lines, original or b"", where_re, after, before)
    elif n0 < n1:
        lines[n0 : n1 + 1] = []
    else:
        lines[n1 : n0 + 1] = []
        n0 = n1

    if n0 > 0 and not lines[n0 - 1].endswith(SEP):
        lines[n0 - 1] += SEP
    if p.prepend_newline and present and n0 != 0 and lines[n0 - 1] != SEP:
        lines[n0:n0] = [SEP]
        n0 += 1
    lines[n0:n0] = blocklines
    if p.append_newline and present:
        after_block = n0 + len(blocklines)
        if after_block < len(lines) and lines[after_block] != SEP:
            lines[after_block:after_block] = [SEP]
    return b"".join(lines)


def _insert_at(lines: list, original: bytes, where_re, after, before) -> int:
    """Index where a new block goes (Ansible's rules for insertafter/insertbefore)."""
    if where_re is None:
        return 0 if before is not None else len(lines)
    n0 = None
    if where_re.flags & re.MULTILINE:
        match = where_re.search(original)
        if match:
            n0 = original.count(b"\n", 0, match.end() if after else match.start())
    else:
        for i, line in enumerate(lines):
            if where_re.search(line):
                n0 = i
    if n0 is None:
        return len(lines)
    return n0 + 1 if after is not None else n0


def _msg(original: bytes | None, new: bytes, removed: bool) -> str:
    if original == new:
        return ""
    if original is None:
        return "File created"
    return "Block removed" if removed else "Block inserted"


def desired(p: Params, cur: dict) -> dict:
    raw = cur["raw"]
    if raw is None:
        if not p.create:
            raise ModuleFailure("Path {} does not exist !".format(cur["path"]))
        if p.state == "absent":
            return {}
    new = cur["new"]
    want = {} if new == raw else {"content": display_text(new)}
    want.update(wanted_attrs(p.mode, p.owner, p.group, cur.get("info"), False, cur["umask"]))
    return want


def apply(p: Params, host, cur: dict, want: dict, ctx: Outcome) -> None:
    raw = cur["raw"]
    if "content" not in want:
        host.set_attrs(cur["real"], wanted_attrs_of(want))
        return
    backup = replace_file(
        host, cur["real"], cur["new"], want, raw is not None, p.validate, p.backup
    )
    ctx.report(msg=_msg(raw, cur["new"], not (p.state == "present" and p.block)))
    if backup:
        ctx.report(backup_file=backup)


def result(p: Params, state: dict) -> dict:
    """``msg`` (what the edit would do to ``state``; apply reports what it did), plus the
    file's attributes; apply adds ``backup_file`` when it made one."""
    raw = state["raw"]
    if raw is None and p.state == "absent":
        msg = "File {} not present".format(state["path"])
    elif raw is None and not p.create:
        msg = ""
    else:
        msg = _msg(raw, state["new"], not (p.state == "present" and p.block))
    out = {"path": state["path"], "msg": msg}
    for key in ("mode", "owner", "group", "uid", "gid", "size"):
        if key in state:
            out[key] = state[key]
    return out
