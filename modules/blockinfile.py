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

from fleet.agent.hostio import ModuleFailure, display_text, expand_path, wanted_attrs

ALIASES = {"dest": "path", "destfile": "path", "name": "path", "content": "block"}
DIFF_TEXT = ("content",)
ATTRS = ("mode", "owner", "group", "uid", "gid")
SEP = os.linesep.encode()


@dataclass
class Params:
    path: str
    block: str = ""
    marker: str = "# {mark} ANSIBLE MANAGED BLOCK"
    marker_begin: str = "BEGIN"
    marker_end: str = "END"
    state: Literal["present", "absent"] = "present"
    insertafter: str | None = None
    insertbefore: str | None = None
    create: bool = False
    backup: bool = False
    mode: int | str | None = None
    owner: str | None = None
    group: str | None = None
    validate: str | None = None
    append_newline: bool = False
    prepend_newline: bool = False


def observe(p: Params, host) -> dict:
    path = expand_path(p.path)
    if os.path.isdir(path):
        raise ModuleFailure(f"Path {path} is a directory !")
    real = os.path.realpath(path)
    raw = host.read_bytes(real)
    cur = {"path": path, "real": real, "raw": raw, "content": display_text(raw)}
    cur["umask"] = host.umask
    info = host.path_info(real, follow=True)
    if info is not None:
        cur.update({k: info[k] for k in ("mode", "owner", "group", "uid", "gid", "size")})
        cur["info"] = info
    return cur


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
    if p.insertafter is not None and p.insertbefore is not None:
        raise ModuleFailure("parameters are mutually exclusive: insertbefore|insertafter")
    if p.validate is not None and "%s" not in p.validate:
        raise ModuleFailure(f"validate must contain %s: {p.validate}")
    raw = cur["raw"]
    if raw is None:
        if not p.create:
            raise ModuleFailure("Path {} does not exist !".format(cur["path"]))
        if p.state == "absent":
            return {}
    new = edit(p, raw)
    want = {} if new == raw else {"content": display_text(new)}
    want.update(wanted_attrs(p.mode, p.owner, p.group, cur.get("info"), False, cur["umask"]))
    return want


def apply(p: Params, host, cur: dict, want: dict):
    real, raw = cur["real"], cur["raw"]
    attrs = {k: want[k] for k in ATTRS if k in want}
    if "content" not in want:
        host.set_attrs(real, attrs)
        return None
    if p.backup and raw is not None:
        p.__dict__["_backup_file"] = host.backup(real)
    parent = os.path.dirname(real)
    if raw is None and parent and not os.path.isdir(parent):
        host.mkdir(parent)
    host.write_file(
        real,
        edit(p, raw),
        mode=attrs.get("mode"),
        owner=attrs.get("owner", attrs.get("uid")),
        group=attrs.get("group", attrs.get("gid")),
        validate=p.validate,
    )
    p.__dict__["_msg"] = _msg(raw, edit(p, raw), not (p.state == "present" and p.block))
    return None


def result(p: Params, state: dict) -> dict:
    """``msg`` and ``backup_file`` (when one was made), plus the file's attributes."""
    msg = p.__dict__.get("_msg")
    if msg is None:  # check mode or nothing to do: describe what the edit would do
        raw = state["raw"]
        if raw is None and p.state == "absent":
            msg = "File {} not present".format(state["path"])
        elif raw is None and not p.create:
            msg = ""
        else:
            msg = _msg(raw, edit(p, raw), not (p.state == "present" and p.block))
    out = {"path": state["path"], "msg": msg}
    if p.__dict__.get("_backup_file"):
        out["backup_file"] = p.__dict__["_backup_file"]
    for key in ("mode", "owner", "group", "uid", "gid", "size"):
        if key in state:
            out[key] = state[key]
    return out
