"""Manage one limit in a PAM limits file (limits.conf or a limits.d drop-in).

Behaves like ``community.general.pam_limits``: the line for (``domain``, ``limit_type``,
``limit_item``) is ``DOMAIN<TAB>TYPE<TAB>ITEM<TAB>VALUE`` (plus ``<TAB>#COMMENT``):

* An existing line for the triple (fields separated by any whitespace) gets the new value;
  a line that already has it is left as it is. Without one, the line is added at the end.
* ``use_max``/``use_min`` keep the larger/smaller of the existing and the given value
  (``unlimited``, ``infinity`` and ``-1`` are larger than any number); they cannot be
  combined.
* ``value`` must be ``unlimited``, ``infinity``, ``-1`` or a number of 0 or more; for
  ``nice`` and ``priority`` a number from -20 to 19.
* ``comment`` is written after the value; without it a replaced line keeps its own comment.
* ``dest`` (default ``/etc/security/limits.conf``) is created when missing if its
  directory exists (a missing directory fails, as in Ansible). ``backup: true`` keeps a
  timestamped copy (``backup_file``). Returns ``msg``: the line as it now is.

Differences from Ansible: a replaced line keeps its own comment (Ansible may take the comment
of an earlier line); ``-1`` means unlimited for ``use_max``/``use_min`` except for
``nice``/``priority``, where it is a number (Ansible tests the limit type there, not the
item); only the line being changed is validated (Ansible fails on any invalid line); a file
whose last line has no newline gets one before a new line is added.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Literal

from fleet.agent.contract import Outcome, param
from fleet.agent.errors import ModuleFailure
from fleet.agent.textfile import observe_file

DIFF_TEXT = ("content",)
UNLIMITED = ("unlimited", "infinity", "-1")
PRIORITY_ITEMS = ("nice", "priority")


@dataclass(frozen=True)
class Params:
    domain: str = param("who the limit is for: a user, @group, * or a uid/gid range")
    limit_type: Literal["hard", "soft", "-"] = param("soft, hard or - (both)")
    limit_item: Literal[
        "core", "data", "fsize", "memlock", "nofile", "rss", "stack", "cpu", "nproc", "as",
        "maxlogins", "maxsyslogins", "priority", "locks", "sigpending", "msgqueue", "nice",
        "rtprio", "chroot",
    ] = param("the limited resource (nofile, nproc, core...)")
    value: str = param("the limit's value (a number, unlimited or infinity)")
    use_max: bool = param("keep the existing value when it is larger", False)
    use_min: bool = param("keep the existing value when it is smaller", False)
    backup: bool = param(
        "keep a timestamped copy of the old file before changing it (backup_file)", False)
    dest: str = param("the limits file to edit", "/etc/security/limits.conf")
    comment: str = param("comment written at the end of the line", "")


def check_value(item: str, value: str, prefix: str = "") -> None:
    if item in PRIORITY_ITEMS:
        try:
            valid = -20 <= int(value) <= 19
        except ValueError:
            valid = False
        if not valid:
            raise ModuleFailure(
                f"{prefix}Value of {value!r} for item {item!r} is invalid. Value must be a number "
                "in the range -20 to 19 inclusive. Refer to the limits.conf(5) manual pages"
                " for more details."
            )
    elif not (value in UNLIMITED or value.isdigit()):
        raise ModuleFailure(
            f"{prefix}Value of {value!r} for item {item!r} is invalid. Value must either be "
            "'unlimited', 'infinity' or -1, all of which indicate no limit, or a limit of 0 or "
            "larger. Refer to the limits.conf(5) manual pages for more details."
        )


def pick_value(item: str, value: str, actual: str, use_max: bool, use_min: bool) -> str:
    """The value to write over ``actual`` (Ansible's use_max/use_min rules)."""
    if item in PRIORITY_ITEMS:
        actual_unlimited = value_unlimited = False
    else:
        actual_unlimited, value_unlimited = actual in UNLIMITED, value in UNLIMITED
    if use_max:
        if actual_unlimited:
            return actual
        if value_unlimited:
            return value
        return str(max(int(value), int(actual)))
    if use_min:
        if actual_unlimited and value_unlimited:
            return actual
        if actual_unlimited:
            return value
        if value_unlimited:
            return actual
        return str(min(int(value), int(actual)))
    return value


def _line(p: Params, value: str, comment: str) -> str:
    tail = f"\t#{comment}" if comment else ""
    return f"{p.domain}\t{p.limit_type}\t{p.limit_item}\t{value}{tail}\n"


def edit(p: Params, text: str) -> tuple:
    """``(new text, the limit's line)`` for the task applied to ``text``."""
    out, message, found = [], "", False
    for line in text.splitlines(True):
        if line.startswith("#"):
            out.append(line)
            continue
        body = line.split("#", 1)[0].split()
        if len(body) != 4 or tuple(body[:3]) != (p.domain, p.limit_type, p.limit_item):
            out.append(line)
            continue
        found = True
        actual = body[3]
        check_value(p.limit_item, actual, f"Invalid configuration found in '{p.dest}'. ")
        new_value = pick_value(p.limit_item, p.value, actual, p.use_max, p.use_min)
        if new_value == actual:
            out.append(line)
            message = line
            continue
        old_comment = line.split("#", 1)[1].strip() if "#" in line else ""
        message = _line(p, new_value, p.comment or old_comment)
        out.append(message)
    if not found:
        if out and not out[-1].endswith("\n"):
            out[-1] += "\n"
        message = _line(p, p.value, p.comment)
        out.append(message)
    return "".join(out), message


def observe(p: Params, host) -> dict:
    cur = observe_file(p.dest, host, real=False, attrs=())
    path, raw = cur["path"], cur["raw"]
    if raw is not None and not os.access(path, os.W_OK):
        cur["problem"] = f"{path} is not writable. Use sudo"
    elif raw is None:
        parent = os.path.dirname(path)
        if not (os.path.isdir(parent) and os.access(parent, os.W_OK)):
            cur["problem"] = (
                f"directory {parent} is not writable (check presence, access rights, use sudo)"
            )
    return cur


def check(p: Params) -> None:
    """use_max and use_min exclude each other; the value must suit the item."""
    if p.use_max and p.use_min:
        raise ModuleFailure("Cannot use use_min and use_max at the same time.")
    check_value(p.limit_item, p.value)


def desired(p: Params, cur: dict) -> dict:
    if cur.get("problem"):
        raise ModuleFailure(cur["problem"])
    new, _line_text = edit(p, cur["content"] or "")
    return {} if new == cur["content"] else {"content": new}


def apply(p: Params, host, cur: dict, want: dict, ctx: Outcome) -> None:
    if p.backup and cur["content"] is not None:
        ctx.report(backup_file=host.backup(cur["path"]))
    host.write_file(cur["path"], want["content"].encode("utf-8"))


def result(p: Params, state: dict) -> dict:
    _new, line = edit(p, state["content"] or "")
    return {"dest": state["path"], "msg": line, "backup_file": ""}
