"""Ensure a particular line is in a file, or replace an existing line using a regex.

Behaves like ``ansible.builtin.lineinfile`` (the file is handled as bytes, line by line):

* ``state: present`` with ``regexp`` (or ``search_string``): the last matching line is
  replaced by ``line`` (the first one with ``firstmatch``). Without a match, or without
  ``regexp``, the line is added unless an identical line already exists: at the end
  (``insertafter: EOF``, the default), at the start (``insertbefore: BOF``), or after/before
  the last line matching ``insertafter``/``insertbefore`` (the first one with
  ``firstmatch``); when that regex matches nothing the line goes to the end.
* ``backrefs: true`` expands ``\\1``/``\\g<name>`` from the ``regexp`` match into ``line``;
  when the regexp matches nothing the file is left unchanged.
* ``state: absent`` removes every line matching ``regexp``, ``search_string`` or ``line``.
* A missing file is an error unless ``create: true`` (which also creates its directory).
* The file is rewritten atomically (through a symlink, to its real path); ``validate``
  runs on the new content first; ``backup: true`` keeps a timestamped copy.
* Returns ``msg`` (``line added``/``line replaced``/``N line(s) removed``), ``backup`` and,
  for ``state: absent``, ``found``.

Difference from Ansible: inserting after a matching last line that has no newline adds
the newline first (Ansible glues the two lines together there); mode/owner/group always apply
to the real file. An empty ``regexp``/``search_string`` gives Ansible's warning.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Literal

from fleet.agent.contract import Outcome, param
from fleet.agent.hostio import ModuleFailure, display_text, wanted_attrs
from fleet.agent.textfile import observe_file, replace_file, wanted_attrs_of

ALIASES = {
    "dest": "path",
    "destfile": "path",
    "name": "path",
    "value": "line",
    "regex": "regexp",
}
DIFF_TEXT = ("content",)
SEP = os.linesep.encode()


@dataclass(frozen=True)
class Params:
    path: str = param("the file to edit")
    line: str | None = param("the line to put in the file (required with state=present)", None)
    regexp: str | None = param(
        "regex of the line to replace (present) or the lines to remove (absent)", None)
    search_string: str | None = param(
        "literal text of the line to replace or remove (instead of regexp)", None)
    state: Literal["present", "absent"] = param(
        "present puts the line in the file, absent removes matching lines", "present")
    insertafter: str | None = param(
        "a new line goes after the last line matching this regex, or EOF", None)
    insertbefore: str | None = param(
        "a new line goes before the last line matching this regex, or BOF", None)
    backrefs: bool = param(
        "line may use regexp's groups (\\1); nothing changes when regexp does not match", False)
    create: bool = param("create the file when it does not exist", False)
    backup: bool = param(
        "keep a timestamped copy of the old file before changing it (backup_file)", False)
    firstmatch: bool = param(
        "insertafter/insertbefore use the first matching line, not the last", False)
    mode: int | str | None = param(
        "permissions of the file: octal (\"0644\") or symbolic (\"u=rw,g=r,o=r\")", None)
    owner: str | None = param("user that should own the file (kept as it is when not given)", None)
    group: str | None = param("group that should own the file (kept as it is when not given)", None)
    validate: str | None = param(
        "command run on the candidate file before it replaces the old one; %s is its path", None)


def observe(p: Params, host) -> dict:
    """The file, and this task's edit of it (``edit``: computed once per observation)."""
    cur = observe_file(p.path, host, is_dir="Path {} is a directory !")
    raw = cur["raw"]
    if raw is not None or p.create or p.state == "absent":
        cur["edit"] = edit(p, raw or b"")
    return cur


def warnings(p: Params, check: bool) -> list:
    """Ansible's warning for an empty ``regexp``/``search_string`` (it matches every line)."""
    if "" not in (p.regexp, p.search_string):
        return []
    what = "regular expression" if p.regexp == "" else "search string"
    text = (f"The {what} is an empty string, which will match every line in the file. "
            "This may have unintended consequences, such as replacing the last line in "
            "the file rather than appending.")
    if p.regexp == "":
        text += (" If this is desired, use '^' to match every line in the file and avoid "
                 "this warning.")
    return [text]


def check(p: Params) -> None:
    """Ansible's rules between parameters (mutually exclusive ones, what each state needs)."""
    for a, b in (
        ("insertbefore", "insertafter"),
        ("regexp", "search_string"),
        ("backrefs", "search_string"),
    ):
        if getattr(p, a) not in (None, False) and getattr(p, b) not in (None, False):
            raise ModuleFailure(f"parameters are mutually exclusive: {a}|{b}")
    if p.state == "present":
        if p.backrefs and p.regexp is None:
            raise ModuleFailure("regexp is required with backrefs=true")
        if p.line is None:
            raise ModuleFailure("line is required with state=present")
    elif (p.regexp, p.search_string, p.line) == (None, None, None):
        raise ModuleFailure("one of line, search_string, or regexp is required with state=absent")
    if p.validate is not None and "%s" not in p.validate:
        raise ModuleFailure(f"validate must contain %s: {p.validate}")


def edit(p: Params, data: bytes) -> tuple:
    """Apply the task to ``data``: ``(new bytes, msg, lines found for state=absent)``."""
    lines = data.splitlines(True)
    if p.state == "absent":
        kept = [line for line in lines if not _matches(p, line)]
        found = len(lines) - len(kept)
        return b"".join(kept), (f"{found} line(s) removed" if found else ""), found
    return _present(p, lines)


def _matches(p: Params, line: bytes) -> bool:
    if p.regexp is not None:
        return re.search(p.regexp.encode(), line) is not None
    if p.search_string is not None:
        return p.search_string.encode() in line
    return line.rstrip(b"\r\n") == p.line.encode()


def _present(p: Params, lines: list) -> tuple:
    line = p.line.encode()
    after, before = p.insertafter, p.insertbefore
    if after is None and before is None:
        after = "EOF"
    where_re = None
    if after not in (None, "BOF", "EOF"):
        where_re = re.compile(after.encode())
    elif before not in (None, "BOF"):
        where_re = re.compile(before.encode())

    found, where, match = -1, -1, None
    if p.regexp is not None or p.search_string is not None:
        for i, cur in enumerate(lines):
            if p.regexp is not None:
                hit = re.search(p.regexp.encode(), cur)
            else:
                hit = p.search_string.encode() in cur or None
            if hit:
                found, match = i, hit
                if p.firstmatch:
                    break
    if not match:
        for i, cur in enumerate(lines):
            if cur.rstrip(b"\r\n") == line:
                found = i
            elif where_re is not None and where_re.search(cur):
                where = i + 1 if after else i
                if p.firstmatch:
                    break

    if found != -1:
        new = match.expand(line) if p.backrefs and match is not None else line
        if not new.endswith(SEP):
            new += SEP
        if lines[found] == new:
            return b"".join(lines), "", 0
        lines[found] = new
        return b"".join(lines), "line replaced", 0
    if p.backrefs:
        return b"".join(lines), "", 0  # no match: not safe to build the line
    if "BOF" in (after, before):
        lines.insert(0, line + SEP)
    elif after == "EOF" or where == -1:
        _end_with_newline(lines)
        lines.append(line + SEP)
    elif after:
        if where == len(lines):
            if lines[where - 1].rstrip(b"\r\n") == line:
                return b"".join(lines), "", 0
            _end_with_newline(lines)
            lines.append(line + SEP)
        elif lines[where].rstrip(b"\r\n") == line:
            return b"".join(lines), "", 0
        else:
            lines.insert(where, line + SEP)
    else:
        lines.insert(where, line + SEP)
    return b"".join(lines), "line added", 0


def _end_with_newline(lines: list) -> None:
    if lines and lines[-1][-1:] not in (b"\n", b"\r"):
        lines[-1] += SEP


def desired(p: Params, cur: dict) -> dict:
    raw = cur["raw"]
    if raw is None:
        if p.state == "absent":
            return {}
        if not p.create:
            raise ModuleFailure("Destination {} does not exist !".format(cur["path"]))
    new, _msg, _found = cur["edit"]
    if raw is None and new == b"":
        return {}
    want = {} if new == raw else {"content": display_text(new)}
    want.update(wanted_attrs(p.mode, p.owner, p.group, cur.get("info"), False, cur["umask"]))
    return want


def apply(p: Params, host, cur: dict, want: dict, ctx: Outcome) -> None:
    new, msg, found = cur["edit"]
    ctx.report(msg=msg, **({"found": found} if p.state == "absent" else {}))
    if "content" not in want:
        host.set_attrs(cur["real"], wanted_attrs_of(want))
        return
    exists = cur["raw"] is not None
    ctx.report(backup=replace_file(host, cur["real"], new, want, exists, p.validate, p.backup))


def result(p: Params, state: dict) -> dict:
    """``msg``, ``backup`` and (state=absent) ``found``, plus the file's attributes: what the
    edit would do to ``state`` (apply reports what it did instead)."""
    if state["raw"] is None:
        msg, found = "file not present" if p.state == "absent" else "", 0
    else:
        _new, msg, found = state["edit"]
    out = {"path": state["path"], "msg": msg, "backup": ""}
    if p.state == "absent":
        out["found"] = found
    for key in ("mode", "owner", "group", "uid", "gid", "size"):
        if key in state:
            out[key] = state[key]
    return out
