"""``fetch``: a host's file copied to the controller, as Ansible's fetch action.

The agent reads the file (modules/fetch.py, read-only); the controller writes it to
``dest/<inventory_hostname>/<src>``, or to ``dest`` itself with ``flat: true`` (``dest``
ending in ``/``: the file's name under it). A relative ``dest`` is relative to the playbook's
folder. The copy is written only when its SHA-1 differs (``changed``), with the mode a new file
gets from the controller's umask. Check mode writes nothing (skipped, as Ansible).
``fail_on_missing`` (default true) and ``validate_checksum`` as Ansible. ``src`` and the host's
name often come from host data: a path that would climb out of ``dest`` (``..``) is refused,
and so is a ``dest`` computed from host data that is absolute or climbs (``~``, ``..``).
"""

from __future__ import annotations

import base64
import hashlib
import os
from typing import Any

from fleet.executor.outcome import Outcome
from fleet.executor.script import skip
from fleet.templating import confined

OPTIONS = frozenset({"src", "dest", "flat", "fail_on_missing", "validate_checksum"})
MISSING = "the remote file does not exist, not transferring, ignored"
DIRECTORY = "remote file is a directory, fetch cannot work on directories"


def _truthy(value: Any, default: bool) -> bool:
    if value is None:
        return default
    if isinstance(value, str):
        return value.strip().lower() in ("1", "yes", "true", "on", "y", "t")
    return bool(value)


def _digest(path: str, kind: str) -> str | None:
    try:
        with open(path, "rb") as handle:
            return hashlib.new(kind, handle.read()).hexdigest()
    except OSError:
        return None


def _failed(msg: str, **data: Any) -> Outcome:
    return Outcome("failed", False, msg, data)


def destination(dest: str, src: str, host: str, flat: bool, base: str) -> str:
    """Where the copy goes (Ansible's rules); ValueError when it would leave ``dest``."""
    dest = os.path.expanduser(dest)
    root = dest if os.path.isabs(dest) else os.path.join(os.path.abspath(base), dest)
    if flat:
        if os.path.isdir(root) and not dest.endswith("/"):
            raise ValueError("dest is an existing directory, use a trailing slash if you want to fetch src "
                             "into that directory")
        target = os.path.join(root, os.path.basename(src)) if dest.endswith("/") else root
        if dest.endswith("/") and os.path.isdir(target):
            raise ValueError(f"calculated dest '{target}' is an existing directory, use another path that does "
                             "not point to an existing directory")
        return os.path.normpath(target)
    target = os.path.normpath(f"{root}/{host}/{src}")
    inside = os.path.normpath(root)
    if not target.startswith(inside.rstrip("/") + "/") or f"/{host}/" not in target[len(inside):] + "/":
        raise ValueError(f"Detected directory traversal, expected to be contained in '{inside}' but got '{target}'")
    return target


def finish(ctx: Any, outcome: Outcome) -> Outcome:
    """The agent's reading of ``src`` (``outcome``) as Ansible's fetch result, the copy written."""
    if ctx.check:
        return skip("check mode not (yet) supported for this module")
    if outcome.status == "failed":
        return outcome
    args = ctx.args
    unknown = sorted(str(k) for k in args if str(k) not in OPTIONS)
    if unknown:
        return _failed(f"Unsupported parameters for (fetch) module: {', '.join(unknown)}")
    src, dest = args.get("src"), args.get("dest")
    if not isinstance(src, str) or not isinstance(dest, str) or not src or not dest:
        return _failed("src and dest are required")
    # a host never picks where the controller writes: not even inside the playbook's folder
    confined(dest, "fetch dest", ctx.location)
    fail_on_missing = _truthy(args.get("fail_on_missing"), True)
    seen = outcome.data
    if not seen.get("exists"):
        if seen.get("error") and fail_on_missing:
            return _failed(str(seen["error"]))
        return _failed(MISSING) if fail_on_missing else Outcome("ok", False, MISSING, {"file": src})
    if seen.get("isdir"):
        return _failed(DIRECTORY) if fail_on_missing else Outcome("ok", False, f"{DIRECTORY}, not transferring, ignored")
    data = base64.b64decode(seen.get("content_b64") or "")
    remote = hashlib.sha1(data).hexdigest()
    host = str(ctx.variables.get("inventory_hostname", ctx.host))
    try:
        target = destination(dest, src, host, _truthy(args.get("flat"), False), str(ctx.files.playbook_dir))
    except ValueError as exc:
        return _failed(str(exc))
    local = _digest(target, "sha1")
    if local == remote:
        return Outcome("ok", False, "", {"md5sum": _digest(target, "md5"), "file": src, "dest": target,
                                         "checksum": local})
    try:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "wb") as handle:
            handle.write(data)
    except OSError:
        return _failed("Failed to fetch the file.")
    written = _digest(target, "sha1")
    md5 = _digest(target, "md5")
    if _truthy(args.get("validate_checksum"), True) and written != remote:
        return _failed("checksum mismatch", md5sum=md5, file=src, dest=target, remote_md5sum=None,
                       checksum=written, remote_checksum=remote)
    return Outcome("changed", True, "", {"md5sum": md5, "dest": target, "remote_md5sum": None, "checksum": written,
                                         "remote_checksum": remote})
