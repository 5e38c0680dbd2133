"""Copy content to a file on the host, atomically, with mode/owner/group, backup and validate.

Behaves like ``ansible.builtin.copy`` for single files:

* The bytes come from ``content`` (a dict or list is written as JSON, as Ansible does),
  from ``content_b64``, or with ``remote_src: true`` from the file ``src`` already on the
  host. ``content_b64`` is internal: the controller sets it to the base64 bytes of a local
  ``src`` it has read (a playbook's ``copy: src=...`` never reaches the host as a path).
* The new file is written to a temp file beside ``dest`` and renamed over it; ``validate``
  (a command containing ``%s``) runs on that temp file first, and if it fails the task
  fails with ``dest`` untouched. An existing file keeps its mode and owner unless told.
* ``dest`` ending in ``/`` or naming a directory gets the file inside it, named after
  ``src`` (with ``content_b64`` the controller's ``src`` name may be passed along for
  this); ``content`` into a directory is an error, as in Ansible. A missing directory is
  created only for a ``dest`` ending in ``/``.
* ``force: false`` only creates a missing ``dest``; ``backup: true`` keeps the old file as
  ``dest.PID.YYYY-MM-DD@HH:MM:SS~``; ``follow: true`` writes through a symlink ``dest``,
  otherwise the link is replaced by a file.
* Content is compared byte for byte; ``--diff`` shows text, and binary data as a marker.

``mode: preserve`` gives the copy its source's mode (the controller's file, or with
``remote_src`` the host's).

Differences from Ansible: ``remote_src`` copies one file (not a directory tree); a failed
``validate`` reports ``failed to validate: rc:N error:...`` in ``msg``.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
from dataclasses import dataclass
from typing import Any

from fleet.agent.contract import Outcome, param
from fleet.agent.hostio import (
    MissingUntilApplied,
    ModuleFailure,
    display_text,
    expand_path,
    wanted_attrs,
)
from fleet.agent.textfile import replace_file, wanted_attrs_of

ALIASES: dict = {}
DIFF_TEXT = ("content",)


@dataclass(frozen=True)
class Params:
    dest: str = param(
        "the file to write (a directory, or a path ending in /, gets src's name inside)")
    content: str | dict[str, Any] | list[Any] | None = param(
        "the file's text (a dict or list is written as JSON)", None)
    content_b64: str | None = param(
        "internal: the bytes of the controller's src, base64 (set by fleet)", None)
    src: str | None = param("file to copy: on the controller, or on the host with remote_src", None)
    remote_src: bool = param("src is a file already on the host", False)
    decrypt: bool = param("a vault-encrypted controller src is sent decrypted (no: as it is)", True)
    mode: int | str | None = param(
        'permissions of the file: octal ("0644") or symbolic ("u=rw,g=r,o=r");'
        " preserve keeps src's",
        None,
    )
    owner: str | None = param("user that should own the file (kept as it is when not given)", None)
    group: str | None = param("group that should own the file (kept as it is when not given)", None)
    backup: bool = param(
        "keep a timestamped copy of the old file before changing it (backup_file)", False)
    force: bool = param(
        "replace a file whose content differs; false only creates a missing file", True)
    validate: str | None = param(
        "command run on the candidate file before it replaces the old one; %s is its path", None)
    follow: bool = param("write through a symlink dest instead of replacing the link", False)


def _kind(path: str) -> str:
    try:
        os.lstat(path)
    except OSError:
        return "absent"
    if os.path.islink(path):
        return "link"
    if os.path.isdir(path):
        return "directory"
    return "file" if os.path.isfile(path) else "other"


def _dest(p: Params) -> str:
    """The file to write: ``dest``, or a file inside it named after ``src``."""
    dest = expand_path(p.dest)
    if dest.endswith("/") or os.path.isdir(dest):
        name = os.path.basename(expand_path(p.src).rstrip("/")) if p.src else ""
        if p.content is not None or not name:
            raise ModuleFailure("can not use content with a dir as dest")
        dest = os.path.join(dest, name)
    if p.follow and os.path.islink(dest):
        dest = os.path.realpath(dest)
    return dest


def observe(p: Params, host) -> dict:
    dest = _dest(p)
    raw = host.read_bytes(dest) if os.path.isfile(dest) else None
    cur = {"dest": dest, "state": _kind(dest), "content": display_text(raw), "umask": host.umask}
    parent = os.path.dirname(dest) or "."
    cur["parent_missing"] = not os.path.isdir(parent)
    if raw is not None:
        cur["checksum"] = hashlib.sha1(raw).hexdigest()
        with contextlib.suppress(ValueError):  # no md5 in FIPS mode
            cur["md5sum"] = hashlib.md5(raw).hexdigest()
    info = host.path_info(dest, follow=True) if cur["state"] != "absent" else None
    if info is not None:
        cur.update({k: info[k] for k in ("mode", "owner", "group", "uid", "gid", "size")})
        cur["info"] = info
    if p.remote_src and p.src:
        src = expand_path(p.src)
        if not os.path.exists(src):
            raise ModuleFailure(f"Source {src} not found")
        if os.path.isdir(src):
            raise ModuleFailure(
                "remote_src with a directory src is not supported: copy files one by one "
                f"or use the file module for directories ({src})"
            )
        if not os.access(src, os.R_OK):
            raise ModuleFailure(f"Source {src} not readable")
        cur["src_bytes"] = host.read_bytes(src)
        cur["src_mode"] = host.path_info(src, follow=True)["mode"]
    return cur


def _payload(p: Params, cur: dict) -> bytes:
    """The bytes ``dest`` should hold."""
    if p.content_b64 is not None:
        try:
            return base64.b64decode(p.content_b64, validate=True)
        except ValueError as exc:
            raise ModuleFailure(f"content_b64 is not valid base64: {exc}") from None
    if p.content is not None:
        text = p.content if isinstance(p.content, str) else json.dumps(p.content)
        return text.encode("utf-8")
    return cur["src_bytes"]


def desired(p: Params, cur: dict) -> dict:
    sources = [x is not None for x in (p.content, p.content_b64)]
    if sum(sources) > 1:
        raise ModuleFailure("content and content_b64 are mutually exclusive")
    if p.remote_src:
        if p.content is not None or p.content_b64 is not None:
            raise ModuleFailure("src and content are mutually exclusive")
        if not p.src:
            raise ModuleFailure("src is required with remote_src")
    elif not any(sources):
        if p.src:
            raise ModuleFailure(
                f"src {p.src} is a controller path: the controller sends its content "
                "(content_b64); use remote_src: true for a file on the host"
            )
        raise ModuleFailure("src (or content) is required")
    if p.validate is not None and "%s" not in p.validate:
        raise ModuleFailure(f"validate must contain %s: {p.validate}")
    if cur["state"] == "directory":
        raise ModuleFailure("dest {} is a directory".format(cur["dest"]))
    if cur["state"] != "absent" and not p.force:
        return {}
    mode = p.mode
    if mode == "preserve":
        if not p.remote_src:
            raise ModuleFailure("mode: preserve is only supported with remote_src: true")
        mode = cur["src_mode"]
    info = cur.get("info") if cur["state"] == "file" else None
    want = {"state": "file", "content": display_text(_payload(p, cur))}
    want.update(wanted_attrs(mode, p.owner, p.group, info, False, cur["umask"]))
    if cur["parent_missing"] and not expand_path(p.dest).endswith("/"):
        raise MissingUntilApplied(
            "Destination directory {} does not exist".format(os.path.dirname(cur["dest"])), want
        )
    return want


def apply(p: Params, host, cur: dict, want: dict, ctx: Outcome) -> None:
    dest = cur["dest"]
    if cur["state"] == "file" and cur["content"] == want["content"]:
        host.set_attrs(dest, wanted_attrs_of(want))
        return
    exists = cur["state"] != "absent"
    backup = replace_file(host, dest, _payload(p, cur), want, exists, p.validate, p.backup)
    if backup:
        ctx.report(backup_file=backup)


def result(p: Params, state: dict) -> dict:
    """Ansible's return values: dest, checksum, md5sum, size, mode, owner, group, ids."""
    out = {"dest": state["dest"], "state": state["state"]}
    for key in ("checksum", "md5sum", "size", "mode", "owner", "group", "uid", "gid"):
        if key in state:
            out[key] = state[key]
    if p.src:
        out["src"] = p.src
    return out
