"""A managed file as the file-editing modules see it: observed, then replaced through the writer.

``observe_file`` expands ``~``/``$VARS``, refuses a directory, resolves symlinks (the real file
is the one edited), reads the bytes and adds their display text and the file's attributes;
``replace_file`` writes new bytes there (backup first, missing directory made, the wanted
mode/owner/group, ``validate`` on the temp file). Both take the host handle the runner gave.
"""

from __future__ import annotations

import os

from fleet.agent.commands import expand_path
from fleet.agent.errors import ModuleFailure
from fleet.agent.modes import display_text

ATTRS = ("mode", "owner", "group", "uid", "gid", "size")
WRITABLE = ("mode", "owner", "group", "uid", "gid")


def observe_file(path: str, host, real: bool = True, attrs=ATTRS,
                 is_dir: str = "{} is a directory") -> dict:
    """``{path, real, raw, content, umask, info}`` plus ``attrs`` of an existing file.

    ``raw`` is None (and ``info`` None, no ``attrs``) when the file does not exist; ``is_dir``
    is the message when ``path`` names a directory (``{}``: the path)."""
    path = expand_path(path)
    if os.path.isdir(path):
        raise ModuleFailure(is_dir.format(path))
    target = os.path.realpath(path) if real else path
    raw = host.read_bytes(target)
    info = host.path_info(target, follow=True)
    cur = {"path": path, "real": target, "raw": raw, "content": display_text(raw),
           "umask": host.umask, "info": info}
    if info is not None:
        cur.update({k: info[k] for k in attrs})
    return cur


def wanted_attrs_of(want: dict) -> dict:
    """The mode/owner/group fields of ``want`` (as ``HostWriter.set_attrs`` takes them)."""
    return {k: want[k] for k in WRITABLE if k in want}


def replace_file(host, path: str, data: bytes, want: dict, exists: bool, validate=None,
                 backup: bool = False) -> str:
    """Replace ``path`` with ``data`` and the wanted attributes; returns the backup's path
    (``""`` without one). A missing parent directory is made first."""
    attrs = wanted_attrs_of(want)
    saved = host.backup(path) if backup and exists else ""
    parent = os.path.dirname(path)
    if parent and not os.path.isdir(parent):
        host.mkdir(parent)
    host.write_file(path, data, mode=attrs.get("mode"), owner=attrs.get("owner", attrs.get("uid")),
                    group=attrs.get("group", attrs.get("gid")), validate=validate)
    return saved


def file_snapshot(host, path: str) -> dict:
    """What ``revert`` needs to put ``path`` back exactly: ``{path, content}`` (base64 bytes,
    None when there is no file) with ``mode``/``uid``/``gid``; read-only."""
    import base64

    info = host.path_info(path, follow=True)
    raw = host.read_bytes(path) if info is not None and info["state"] == "file" else None
    if raw is None or info is None:
        return {"path": path, "content": None}
    return {"path": path, "content": base64.b64encode(raw).decode("ascii"), "mode": info["mode"],
            "uid": info["uid"], "gid": info["gid"]}


def restore_file(host, entry: dict) -> None:
    """Put back a :func:`file_snapshot` through the writer: its bytes, mode and owner, or no
    file (a file or link made since is removed)."""
    import base64

    if entry["content"] is None:
        if os.path.isfile(entry["path"]) or os.path.islink(entry["path"]):
            host.remove(entry["path"])
        return
    host.write_file(entry["path"], base64.b64decode(entry["content"]), mode=entry["mode"],
                    owner=entry["uid"], group=entry["gid"])
