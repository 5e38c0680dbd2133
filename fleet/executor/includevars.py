"""The ``include_vars`` action, as Ansible's (ansible/plugins/action/include_vars.py).

One file (``file``/free form, found like Ansible finds a vars file) or a directory (``dir``:
relative to the role's ``vars/`` or to the task file's directory, walked in sorted order,
symlinks followed, ``depth``, ``files_matching``, ``ignore_files``, ``extensions``,
``ignore_unknown_extensions``). ``name`` scopes what was loaded under one variable,
``hash_behaviour: merge`` merges each loaded dict into the value the variable had. What the
files hold is a failure of the task (``message``, as Ansible words it); what the task says
(an option include_vars lacks, file and dir options mixed) is a preflight-style input error.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path, PurePath
from typing import Any

from fleet import yamlsrc
from fleet.errors import FleetError, InputError
from fleet.templating import confined, merge_hash

DIR_OPTIONS = frozenset({"dir", "depth", "files_matching", "ignore_files", "extensions", "ignore_unknown_extensions"})
FILE_OPTIONS = frozenset({"file", "_raw_params"})
COMMON_OPTIONS = frozenset({"name", "hash_behaviour"})
DEFAULT_EXTENSIONS = ["yaml", "yml", "json"]
_CONTROLLER_HINT = (" on the Ansible Controller.\nIf you are using a module and expect the file to exist on the remote,"
                    " see the remote_src option")


class _Failed(Exception):
    """What Ansible reports as the task's ``message`` (the task fails, the run goes on)."""


def include_vars(ctx: Any) -> dict[str, Any]:
    """Run include_vars for one host (``ctx``: fleet.executor.actions.ActionContext)."""
    args = ctx.args
    unknown = [k for k in args if k not in DIR_OPTIONS | FILE_OPTIONS | COMMON_OPTIONS]
    if unknown:
        raise InputError(f"{ctx.where}: {unknown[0]} is not a valid option in include_vars", ctx.location)
    if any(k in DIR_OPTIONS for k in args) and any(k in FILE_OPTIONS for k in args):
        raise InputError(f"{ctx.where}: include_vars: you are mixing file only and dir only arguments, "
                         "these are incompatible", ctx.location)
    included: list[str] = []
    results: dict[str, Any] = {}
    try:
        if args.get("dir"):
            _load_dir(ctx, _root_dir(ctx, str(args["dir"])), results, included)
        else:
            results.update(_load(_find_file(ctx), included, ctx))
        scope = args.get("name")
        if scope:
            results = {scope: results}
        hash_behaviour = args.get("hash_behaviour")
        if hash_behaviour == "merge":
            results = {key: _merged(ctx.variables.get(key), value) for key, value in results.items()}
    except _Failed as exc:
        return {"status": "failed", "changed": False, "msg": str(exc),
                "data": {"message": str(exc), "ansible_facts": results, "ansible_included_var_files": included}}
    ctx.runtime.include_vars.update(results)
    return {"status": "ok", "changed": False, "msg": "",
            "data": {"ansible_facts": results, "ansible_included_var_files": included}}


def _find_file(ctx: Any) -> Path:
    name = ctx.args.get("file") or ctx.args.get("_raw_params")
    if isinstance(name, str):
        name = name.rstrip("\n").strip()
    if not name:
        raise _Failed("Could not find file" + _CONTROLLER_HINT)
    confined(name, "include_vars", ctx.location, ctx.within)
    try:
        return ctx.files.find(str(name), ctx.task, "vars")
    except InputError:
        raise _Failed(f"Could not find or access '{name}'" + _CONTROLLER_HINT) from None


def _root_dir(ctx: Any, source: str) -> str:
    """Ansible's ``_set_root_dir``: a role's ``vars/`` (unless the name starts with ``vars``
    and that exists in the role), else the task file's directory; an absolute path as is."""
    confined(source, "include_vars dir", ctx.location, ctx.within)
    role = ctx.task.role
    if role is not None:
        if source.split("/")[0] == "vars":
            candidate = os.path.join(role.path, source)
            return candidate if os.path.exists(candidate) else source
        return os.path.join(role.path, "vars", source)
    return os.path.join(str(ctx.task.base_dir), source)


def _load_dir(ctx: Any, root: str, results: dict[str, Any], included: list[str]) -> None:
    args = ctx.args
    if not os.path.exists(root):
        raise _Failed(f"{root} directory does not exist")
    if not os.path.isdir(root):
        raise _Failed(f"{root} is not a directory")
    extensions = args.get("extensions", DEFAULT_EXTENSIONS)
    if isinstance(extensions, str):
        extensions = list(extensions)  # as Ansible: a string is taken as its characters
    if not isinstance(extensions, list):
        raise InputError(f"{ctx.where}: include_vars: Invalid type for \"extensions\" option, it must be a list",
                         ctx.location)
    ignore = args.get("ignore_files") or []
    if isinstance(ignore, str):
        ignore = ignore.split()
    matcher = re.compile(str(args["files_matching"])) if args.get("files_matching") else None
    depth = int(args.get("depth") or 0)
    only_known = _truthy(args.get("ignore_unknown_extensions", False))
    walked = sorted(os.walk(root, followlinks=True), key=lambda entry: entry[0])
    for current, _dirs, files in walked:
        if depth and len(PurePath(current).relative_to(root).parts) + 1 > depth:
            continue
        for filename in sorted(files):
            if matcher is not None and not matcher.search(filename):
                continue
            known = _valid_extension(filename, extensions)
            if _ignored(filename, ignore) or (only_known and not known):
                continue
            path = os.path.join(current, filename)
            if not known:
                raise _Failed(f"{path} does not have a valid extension: {', '.join(map(str, extensions))}")
            results.update(_load(Path(path), included, ctx))


def _load(path: Path, included: list[str], ctx: Any) -> dict[str, Any]:
    try:
        data = yamlsrc.load_file(path, ctx.templar.secrets)
    except FleetError as exc:
        raise _Failed(exc.message) from None
    if not data:
        data = {}
    if not isinstance(data, dict):
        raise _Failed(f"{path} must be stored as a dictionary/hash")
    included.append(str(path))
    return data


def _valid_extension(filename: str, extensions: list[Any]) -> bool:
    return os.path.splitext(filename)[1][1:] in extensions


def _ignored(filename: str, patterns: list[Any]) -> bool:
    for pattern in patterns:
        try:
            if re.search(f"{pattern}$", filename):
                return True
        except re.error:
            raise _Failed(f"Invalid regular expression: {pattern}") from None
    return False


def _merged(old: Any, new: Any) -> Any:
    if not isinstance(old, Mapping) or not isinstance(new, Mapping):
        raise _Failed(f"failed to combine variables, expected dicts but got a '{type(old).__name__}' "
                      f"and a '{type(new).__name__}': \n{old!r}\n{new!r}")
    return merge_hash(old, new)


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "yes", "true", "on", "y")
    return bool(value)
