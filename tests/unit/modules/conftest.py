"""A tiny module runner for the module tests, plus helpers for file trees.

Modules are loaded the way the agent loads them (the source executed into a fresh
``types.ModuleType`` registered in ``sys.modules``) and called through the real
``fleet.agent.runner.execute`` on real temp directories. Task arguments first go through
the controller's validation (``fleet.registry.ModuleSpec.validate``: aliases, pydantic,
JSON dump), so the tests also prove every ``Params`` is pydantic-friendly.
"""

from __future__ import annotations

import base64
import os
import re
import stat
import sys
import types
from pathlib import Path
from typing import Any

import pytest

from fleet.agent import runner, wire
from fleet.registry import ModuleSpec

ROOT = Path(__file__).resolve().parents[3]
MODULES_DIR = ROOT / "modules"
TMP = "@TMP@"


def load_module(name: str) -> types.ModuleType:
    """Execute ``modules/NAME.py`` into a fresh module object, like the agent does."""
    source = (MODULES_DIR / f"{name}.py").read_text("utf-8")
    module = types.ModuleType(f"fleet_module_test_{name}")
    module.__file__ = f"<fleet module {name}>"
    sys.modules[module.__name__] = module
    exec(compile(source, module.__file__, "exec"), module.__dict__)
    return module


_SPECS: dict[str, ModuleSpec] = {}
_MODULES: dict[str, types.ModuleType] = {}


def controller_params(name: str, args: dict) -> dict:
    """What the controller would send for ``args``: aliases applied, validated, JSON-ready."""
    if name not in _SPECS:
        path = MODULES_DIR / f"{name}.py"
        _SPECS[name] = ModuleSpec(name, path, path.read_text("utf-8"))
    return _SPECS[name].validate(args, f"test {name}", None)


def unchecked_params(name: str, args: dict) -> dict:
    """``args`` as the controller would send them, but without the module's ``check``: what
    another controller (or a bug) might send; the host must refuse it on its own."""
    spec = _SPECS.get(name) or ModuleSpec(name, MODULES_DIR / f"{name}.py",
                                          (MODULES_DIR / f"{name}.py").read_text("utf-8"))
    return spec.adapter.dump_python(spec.adapter.validate_python(spec.canonical(args, "t", None)),
                                    mode="json")


def run_unchecked(name: str, args: dict, check: bool = False) -> dict:
    """Run the module on the host with :func:`unchecked_params` (the host's own checks)."""
    if name not in _MODULES:
        _MODULES[name] = load_module(name)
    return runner.execute(_MODULES[name], unchecked_params(name, args), check, False)


def run_module(name: str, args: dict, check: bool = False, diff: bool = False) -> dict:
    """Validate ``args`` like the controller, run the module like the agent, return result."""
    if name not in _MODULES:
        _MODULES[name] = load_module(name)
    params = controller_params(name, args)
    result = runner.execute(_MODULES[name], params, check, diff)
    wire.encode(result)  # every result must survive the wire (JSON, UTF-8)
    return result


@pytest.fixture
def run():
    return run_module


# -- file trees --------------------------------------------------------------------------


def substitute(value: Any, tmp: str) -> Any:
    """Replace ``@TMP@`` in every string of a (nested) value."""
    if isinstance(value, str):
        return value.replace(TMP, tmp)
    if isinstance(value, list):
        return [substitute(v, tmp) for v in value]
    if isinstance(value, dict):
        return {k: substitute(v, tmp) for k, v in value.items()}
    return value


def build_tree(root: Path, spec: dict) -> None:
    """Create files from a case's ``files`` mapping.

    ``name: "text"`` is a file; ``name: {content|b64, mode, owner, group}`` a file with
    attributes; ``name/: {mode}`` a directory; ``name: {link: target}`` a symlink;
    ``name: {hardlink: other}`` a hard link to an earlier entry.
    """
    for name, entry in (spec or {}).items():
        path = root / name.rstrip("/")
        path.parent.mkdir(parents=True, exist_ok=True)
        entry = {"content": entry} if isinstance(entry, str) else dict(entry or {})
        if name.endswith("/"):
            path.mkdir(exist_ok=True)
        elif "link" in entry:
            os.symlink(entry["link"], path)
            continue
        elif "hardlink" in entry:
            os.link(root / entry["hardlink"], path)
            continue
        elif "b64" in entry:
            path.write_bytes(base64.b64decode(entry["b64"]))
        else:
            path.write_bytes(str(entry.get("content", "")).encode("utf-8"))
        if "owner" in entry or "group" in entry:
            os.chown(path, int(entry.get("owner", -1)), int(entry.get("group", -1)))
        if "mode" in entry:
            os.chmod(path, int(str(entry["mode"]), 8))


def snapshot(root: Path) -> dict:
    """Everything check mode must not touch: paths, kinds, bytes, modes, owners, mtimes."""
    tree = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in sorted(dirnames + filenames):
            path = os.path.join(dirpath, name)
            st = os.lstat(path)
            entry: dict = {
                "mode": stat.S_IMODE(st.st_mode),
                "uid": st.st_uid,
                "gid": st.st_gid,
                "mtime_ns": st.st_mtime_ns,
            }
            if stat.S_ISLNK(st.st_mode):
                entry = {"link": os.readlink(path), "uid": st.st_uid}
            elif stat.S_ISDIR(st.st_mode):
                entry["dir"] = True
            else:
                entry["bytes"] = Path(path).read_bytes()
                entry["ino"] = st.st_ino
            tree[os.path.relpath(path, root)] = entry
    return tree


def check_tree(root: Path, expected: dict) -> None:
    """Assert the files named in a case's ``after`` mapping (``absent`` for none)."""
    for name, entry in (expected or {}).items():
        path = root / name.rstrip("/")
        if entry == "absent":
            assert not os.path.lexists(path), f"{name} should not exist"
            continue
        assert os.path.lexists(path), f"{name} should exist"
        entry = {"content": entry} if isinstance(entry, str) else dict(entry or {})
        st = os.lstat(path)
        if name.endswith("/"):
            assert stat.S_ISDIR(st.st_mode), f"{name} should be a directory"
        if "link" in entry:
            assert os.readlink(path) == substitute(entry["link"], str(root)), name
        if "content" in entry:
            assert path.read_bytes() == entry["content"].encode("utf-8"), name
        if "b64" in entry:
            assert path.read_bytes() == base64.b64decode(entry["b64"]), name
        if "mode" in entry:
            assert f"{stat.S_IMODE(st.st_mode):04o}" == str(entry["mode"]), name
        if "owner" in entry:
            assert st.st_uid == int(entry["owner"]), name
        if "group" in entry:
            assert st.st_gid == int(entry["group"]), name
        if "same_inode" in entry:
            assert st.st_ino == os.lstat(root / entry["same_inode"]).st_ino, name


def matches(actual: Any, expected: Any, tmp: str) -> bool:
    """Subset match: dicts by their expected keys, ``~re:PATTERN`` strings as regexes."""
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            k in actual and matches(actual[k], v, tmp) for k, v in expected.items()
        )
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(actual) == len(expected)
            and all(matches(a, e, tmp) for a, e in zip(actual, expected, strict=True))
        )
    if isinstance(expected, str) and expected.startswith("~re:"):
        pattern = expected[4:].replace(TMP, re.escape(tmp))
        return isinstance(actual, str) and re.fullmatch(pattern, actual, re.S) is not None
    if isinstance(expected, str):
        return actual == expected.replace(TMP, tmp)
    return actual == expected
