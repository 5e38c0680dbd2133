"""Manage files, directories, symlinks and hard links, and their mode, owner and group.

Behaves like ``ansible.builtin.file``:

* ``state`` defaults to the path's current kind when it exists, else ``directory`` when
  ``recurse`` is set, else ``file``. ``file`` never creates anything: it only manages the
  attributes of an existing file (``file (PATH) is absent, cannot continue`` otherwise).
* ``directory`` creates missing parents like ``mkdir -p``; every directory it creates gets
  ``mode``/``owner``/``group``. ``recurse: true`` applies them to the whole tree below too.
* ``link``/``hard`` point ``path`` at ``src``; converting a file or an empty directory needs
  ``force: true``, and so does a symlink to a ``src`` that does not exist.
* ``follow`` (default true) manages the target of a symlink instead of the link itself.
* ``absent`` removes a file, a link or a whole directory tree.
* ``touch`` creates an empty file if needed and sets the access and modification times to
  now, so it reports ``changed`` on every run, as Ansible does. It is an ordinary state
  change: the wanted ``mtime``/``atime`` are the time of the task (microseconds), so check
  mode reports the change without writing and the apply is verified like any other field.
  ``modification_time``/``access_time`` (``now``, ``preserve`` or a time in the ``*_format``)
  work with every state.

Differences from Ansible: timestamps are not applied recursively with ``recurse``; a
symlink's own mode (``follow: false``) is not managed (Linux cannot change it, Ansible
reports a change it cannot make); a symlink replaced by ``state: hard`` is always relinked.
"""

from __future__ import annotations

import grp
import os
import pwd
import stat
import time
from dataclasses import dataclass
from typing import Literal

from fleet.agent.contract import Outcome, param
from fleet.agent.hostio import MissingUntilApplied, ModuleFailure, expand_path, wanted_attrs

ALIASES = {"dest": "path", "name": "path", "_diff_peek": "diff_peek"}
ATTRS = ("mode", "owner", "group", "uid", "gid")
PENDING_SHOWN = 20


@dataclass(frozen=True)
class Params:
    path: str = param("the path to manage")
    state: Literal["absent", "directory", "file", "hard", "link", "touch"] | None = param(
        "file, directory, link, hard, touch or absent (default: what the path is)", None)
    mode: int | str | None = param(
        "permissions of the file: octal (\"0644\") or symbolic (\"u=rw,g=r,o=r\")", None)
    owner: str | None = param("user that should own the path", None)
    group: str | None = param("group that should own the path", None)
    src: str | None = param("target of the link (state=link or hard)", None)
    recurse: bool = param(
        "with state=directory, set owner/group/mode on everything below too", False)
    force: bool = param("with state=link, replace a file or a missing target's link anyway", False)
    follow: bool = param("set attributes on a symlink's target rather than the link", True)
    modification_time: str | None = param(
        "mtime to set: now, preserve, or a time in modification_time_format", None)
    modification_time_format: str = param("strftime format of modification_time", "%Y%m%d%H%M.%S")
    access_time: str | None = param(
        "atime to set: now, preserve, or a time in access_time_format", None)
    access_time_format: str = param("strftime format of access_time", "%Y%m%d%H%M.%S")
    diff_peek: bool | None = param(
        "(_diff_peek, for Ansible's action plugins) only say if the file appears binary", None)


def _kind(path: str) -> str:
    """Ansible's get_state: absent, link, directory, hard (nlink > 1) or file."""
    try:
        st = os.lstat(path)
    except OSError:
        return "absent"
    if stat.S_ISLNK(st.st_mode):
        return "link"
    if stat.S_ISDIR(st.st_mode):
        return "directory"
    return "hard" if st.st_nlink > 1 else "file"


def _task_path(p: Params) -> str:
    path = expand_path(p.path)
    if p.state not in ("link", "absent") and p.src and os.path.isdir(path):
        path = os.path.join(path, os.path.basename(expand_path(p.src)))
    return path


def _seconds(ns: int) -> float:
    """A timestamp as the fields carry it: seconds with microsecond precision."""
    return (ns // 1000) / 1e6


def _ns(seconds: float) -> int:
    return round(seconds * 1e6) * 1000


def _wanted_state(p: Params, prev: str) -> str:
    if p.state is not None:
        return p.state
    if prev != "absent":
        return prev
    return "directory" if p.recurse else "file"


def observe(p: Params, host) -> dict:
    if p.diff_peek is not None:  # Ansible's short-circuit: a NUL in the first 8 KiB
        path = expand_path(p.path)
        head = host.read_head(path, 8192) or b""
        return {"path": path, "peek": True, "appears_binary": b"\x00" in head}
    path = _task_path(p)
    prev = _kind(path)
    state = _wanted_state(p, prev)
    cur = {"path": path, "state": prev, "umask": host.umask, "wanted_state": state}
    target = attr_path = path
    if prev == "link":
        cur["src"] = os.readlink(path)
    if state in ("file", "directory", "touch") and p.follow and prev == "link":
        target = attr_path = os.path.realpath(path)
        cur["state"] = _kind(target)
    elif state == "link":
        # no src: an existing link keeps its target (Ansible's "update an existing link")
        src = expand_path(p.src) if p.src else cur.get("src") or os.path.realpath(path)
        base = path if prev == "directory" else os.path.dirname(path)
        cur["link_src"] = src
        cur["src_exists"] = os.path.exists(os.path.join(base, src))
        if p.follow and cur["src_exists"]:
            attr_path = os.path.join(os.path.dirname(path), src)
    elif state == "hard" and p.src:
        src = expand_path(p.src)
        cur["src_exists"] = os.path.exists(src)
        if prev in ("file", "hard") and cur["src_exists"] and os.path.samefile(path, src):
            cur["src"] = src
        attr_path = src if cur["src_exists"] else path
    cur["target"], cur["attr_path"] = target, attr_path
    if cur["state"] == "absent" and state == "directory":
        cur["missing"] = _missing_dirs(target)
    cur["parent_exists"] = os.path.isdir(os.path.dirname(os.path.abspath(target)))
    follow_attrs = not (state == "link" and not p.follow)
    info = host.path_info(attr_path, follow=follow_attrs)
    if info is not None:
        cur.update({k: info[k] for k in ("mode", "owner", "group", "uid", "gid", "size")})
        st = os.stat(attr_path) if follow_attrs else os.lstat(attr_path)
        cur["mtime"], cur["atime"] = _seconds(st.st_mtime_ns), _seconds(st.st_atime_ns)
        cur["info"] = info
    # Listing a directory can bump its atime: only after its times have been read.
    if cur["state"] == "directory" and state in ("link", "hard"):
        cur["empty"] = not os.listdir(target)
    if state == "directory" and p.recurse and cur["state"] == "directory":
        cur["recurse_pending"] = _pending(p, host, target)
    return cur


def _missing_dirs(path: str) -> list:
    missing = []
    while path and not os.path.lexists(path):
        missing.append(path)
        parent = os.path.dirname(path)
        if parent == path:
            break
        path = parent
    return list(reversed(missing))


def _tree(root: str, follow: bool):
    """Yield ``(path, is_link)`` below ``root``; with ``follow``, link targets as well."""
    seen = {os.path.realpath(root)}
    stack = [root]
    while stack:
        top = stack.pop()
        try:
            names = sorted(os.listdir(top))
        except OSError:
            continue
        for name in names:
            full = os.path.join(top, name)
            if not os.path.islink(full):
                yield full, False
                if os.path.isdir(full):
                    stack.append(full)
                continue
            yield full, True
            if follow:
                linked = os.path.join(top, os.readlink(full))
                if os.path.exists(linked):
                    yield linked, False
                    real = os.path.realpath(linked)
                    if os.path.isdir(linked) and real not in seen:
                        seen.add(real)
                        stack.append(linked)


def _entry_want(p: Params, info: dict, is_link: bool, umask: int) -> dict:
    if is_link:
        return wanted_attrs(None, p.owner, p.group, info, False, umask)
    is_dir = info["state"] == "directory"
    return wanted_attrs(p.mode, p.owner, p.group, info, is_dir, umask)


def _pending(p: Params, host, root: str) -> list:
    """Paths below ``root`` whose attributes differ from what the task wants."""
    pending = []
    for path, is_link in _tree(root, p.follow):
        info = host.path_info(path)
        if info is None:
            continue
        want = _entry_want(p, info, is_link, host.umask)
        if any(info.get(k) != v for k, v in want.items()):
            pending.append(os.path.relpath(path, root))
    if len(pending) > PENDING_SHOWN:
        pending = pending[:PENDING_SHOWN] + [f"... and {len(pending) - PENDING_SHOWN} more"]
    return pending


def _times(p: Params, state: str) -> dict:
    mtime, atime = p.modification_time, p.access_time
    if state == "touch":
        mtime, atime = mtime or "now", atime or "now"
    now = _seconds(time.time_ns())
    want = {}
    for key, value, fmt in (
        ("mtime", mtime, p.modification_time_format),
        ("atime", atime, p.access_time_format),
    ):
        if value is None or value == "preserve":
            continue
        if value == "now":
            want[key] = now
            continue
        try:
            want[key] = float(int(time.mktime(time.strptime(value, fmt))))
        except (ValueError, OverflowError) as exc:
            raise ModuleFailure(
                f"Error while obtaining timestamp for time {value} using format {fmt}: {exc}"
            ) from None
    return want


def warnings(p: Params, check: bool) -> list:
    """Ansible's check-mode warnings for an owner or group the host does not know yet."""
    if not check or p.state == "absent":
        return []
    out = []
    for value, kind, lookup, by_id in ((p.owner, "user", pwd.getpwnam, pwd.getpwuid),
                                        (p.group, "group", grp.getgrnam, grp.getgrgid)):
        if value in (None, ""):
            continue
        numeric = str(value).isdigit()
        try:
            by_id(int(value)) if numeric else lookup(str(value))
        except KeyError:
            key = "uid" if kind == "user" else "gid"
            what = f"{kind} with {key} {value}" if numeric else f"{kind} {value}"
            out.append(f"failed to look up {what}. Create {kind} up to this point in real play")
    return out


def desired(p: Params, cur: dict) -> dict:
    if cur.get("peek"):
        return {}
    state, kind = cur["wanted_state"], cur["state"]
    if p.recurse and state != "directory":
        raise ModuleFailure("recurse option requires state to be 'directory'")
    if p.src and state not in ("link", "hard"):
        raise ModuleFailure("src option requires state to be 'link' or 'hard'")
    if state == "absent":
        return {"state": "absent"}
    info = cur.get("info")
    is_dir = info["state"] == "directory" if info else state == "directory"
    attrs = wanted_attrs(p.mode, p.owner, p.group, info, is_dir, cur["umask"])
    want: dict = {}
    if state == "file":
        if kind not in ("file", "hard"):
            raise ModuleFailure("file ({}) is {}, cannot continue".format(cur["target"], kind))
    elif state == "directory":
        if kind not in ("absent", "directory"):
            raise ModuleFailure("{} already exists as a {}".format(cur["target"], kind))
        want["state"] = "directory"
        if "recurse_pending" in cur:
            want["recurse_pending"] = []
    elif state == "touch":
        if kind == "absent" and not cur["parent_exists"]:
            raise MissingUntilApplied(
                "Error, could not touch target: no such directory: {}".format(
                    os.path.dirname(cur["target"])
                ),
                dict(attrs, state="file"),
            )
        want["state"] = "file" if kind == "absent" else kind
    elif state == "link":
        want.update(_link_want(p, cur))
        if not p.follow:
            attrs.pop("mode", None)
        elif not cur["src_exists"]:
            attrs = {}
    else:
        want.update(_hard_want(p, cur))
    want.update(attrs)
    want.update(_times(p, state))
    return want


def _link_want(p: Params, cur: dict) -> dict:
    path, kind = cur["path"], cur["state"]
    if p.src is None and (kind != "link" and not p.follow or kind == "absent"):
        raise ModuleFailure("src is required for creating new symlinks")
    src = cur["link_src"]
    if not p.force and not cur["src_exists"] and p.src is not None:
        base = path if kind == "directory" else os.path.dirname(path)
        raise ModuleFailure(
            'src file does not exist, use "force=yes" if you really want to create the '
            f"link: {os.path.join(base, src)}"
        )
    if kind == "directory":
        if not p.force:
            raise ModuleFailure(f"refusing to convert from directory to symlink for {path}")
        if not cur["empty"]:
            raise ModuleFailure(f"the directory {path} is not empty, refusing to convert it")
    elif kind in ("file", "hard") and not p.force:
        raise ModuleFailure(f"refusing to convert from {kind} to symlink for {path}")
    return {"state": "link", "src": src}


def _hard_want(p: Params, cur: dict) -> dict:
    path, kind = cur["path"], cur["state"]
    if p.src is None:
        raise ModuleFailure("src is required for creating new hardlinks")
    src = expand_path(p.src)
    if not cur["src_exists"]:
        raise ModuleFailure("src does not exist")
    if cur.get("src") != src and not p.force:
        if kind == "hard":
            raise ModuleFailure("Cannot link, different hard link exists at destination")
        if kind == "file":
            raise ModuleFailure("Cannot link, file exists at destination")
        if kind == "directory":
            raise ModuleFailure("Cannot link: different hard link exists at destination")
    if kind == "directory" and not cur["empty"]:
        raise ModuleFailure(f"the directory {path} is not empty, refusing to convert it")
    return {"state": "hard", "src": src}


def apply(p: Params, host, cur: dict, want: dict, ctx: Outcome) -> None:
    path, target, kind = cur["path"], cur["target"], cur["state"]
    new_state = want.get("state")
    if new_state == "absent":
        host.remove(path)
        return
    attrs = {k: want[k] for k in ATTRS if k in want}
    try:
        if new_state == "directory" and kind == "absent":
            for directory in cur["missing"]:
                host.mkdir(directory)
                host.set_attrs(directory, attrs)
        elif new_state == "file" and kind == "absent":
            host.touch(target)
        elif new_state in ("link", "hard") and (kind != new_state or cur.get("src") != want["src"]):
            if kind == "directory":
                host.remove(path)
            if new_state == "link":
                host.symlink(want["src"], path)
            else:
                host.hardlink(want["src"], path)
    except OSError as exc:
        raise ModuleFailure(f"Error while creating {target}: {exc}") from None
    state = observe(p, host)
    follow = not (new_state == "link" and not p.follow)
    if attrs:
        host.set_attrs(state["attr_path"], attrs, follow=follow)
    if want.get("recurse_pending") == [] and state.get("recurse_pending"):
        for entry, is_link in _tree(target, p.follow):
            info = host.path_info(entry)
            if info is not None:
                entry_want = _entry_want(p, info, is_link, host.umask)
                if any(info.get(k) != v for k, v in entry_want.items()):
                    host.set_attrs(entry, entry_want, follow=not is_link)
    if "mtime" in want or "atime" in want:  # last: walking the tree bumps atimes
        host.set_times(
            state["attr_path"],
            _ns(want["atime"]) if "atime" in want else None,
            _ns(want["mtime"]) if "mtime" in want else None,
            follow=follow,
        )


def result(p: Params, state: dict) -> dict:
    """Ansible's return values: path (dest for links), state, mode, owner, group, ids, size."""
    if state.get("peek"):
        return {"path": state["path"], "appears_binary": state["appears_binary"]}
    out = {"path": state["target"], "state": state["state"]}
    if state["wanted_state"] in ("link", "hard", "touch"):
        out["dest"] = state["path"]
    if state["wanted_state"] in ("link", "hard") and (p.src or state.get("link_src")):
        out["src"] = expand_path(p.src) if p.src else state["link_src"]
    for key in ("mode", "owner", "group", "uid", "gid", "size"):
        if key in state:
            out[key] = state[key]
    if state["state"] == "link":
        out["mode"] = "0777"
    return out
