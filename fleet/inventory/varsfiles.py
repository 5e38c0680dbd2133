"""``group_vars/`` and ``host_vars/`` next to an inventory source.

As Ansible's ``host_group_vars`` plugin: for a name, the first of ``NAME`` (a file, or a
directory whose files are read recursively in sorted order), ``NAME.yml``, ``NAME.yaml``,
``NAME.json`` is used. In a directory, hidden files and ``~`` backups are skipped and only
files with no extension or ``.yml``/``.yaml``/``.json`` are read. The directory is listed
once; files are parsed on first use and cached.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from fleet.errors import InputError, Location
from fleet.inventory.model import VarsBlock
from fleet.inventory.yamlinv import kind_name
from fleet.yamlsrc import loads, read_text

VARS_EXTENSIONS = ("", ".yml", ".yaml", ".json")


def _dir_files(path: str) -> list[str]:
    found: list[str] = []
    for name in sorted(os.listdir(path)):
        if name.startswith(".") or name.endswith("~"):
            continue
        full = os.path.join(path, name)
        ext = os.path.splitext(name)[1]
        if os.path.isdir(full):
            if not ext:
                found.extend(_dir_files(full))
        elif not ext or ext in VARS_EXTENSIONS:
            found.append(full)
    return found


def load_vars_file(path: str, secrets: Any = None) -> dict[str, Any]:
    """Load one YAML/JSON vars file (vault-encrypted ones with ``secrets``); it must hold a
    mapping (or nothing)."""
    data = loads(read_text(path, "vars file"), path, secrets)
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise InputError(
            f"a vars file must hold a mapping of variables, got {kind_name(data)}",
            Location(path, 1),
        )
    return data if isinstance(data, dict) else dict(data)


class VarsDir:
    """One ``group_vars`` or ``host_vars`` directory (it may not exist)."""

    def __init__(self, path: str, secrets: Any = None) -> None:
        self.path = path
        self.secrets = secrets  # fleet.secrets.Secrets: decrypts vault-encrypted files
        self._entries: dict[str, bool] = {}
        self._cache: dict[str, list[VarsBlock]] = {}
        try:
            with os.scandir(path) as it:
                for entry in it:
                    self._entries[entry.name] = entry.is_dir()
        except (FileNotFoundError, NotADirectoryError):
            pass

    def files_for(self, name: str) -> list[str]:
        """The vars files that apply to ``name``, in the order they are merged."""
        for ext in VARS_EXTENSIONS:
            entry = name + ext
            is_dir = self._entries.get(entry)
            if is_dir is None:
                continue
            full = os.path.join(self.path, entry)
            return _dir_files(full) if is_dir else [full]
        return []

    def blocks_for(self, name: str) -> list[VarsBlock]:
        """Parsed vars files for ``name`` (cached), one block per file."""
        blocks = self._cache.get(name)
        if blocks is None:
            blocks = [VarsBlock(f, load_vars_file(f, self.secrets)) for f in self.files_for(name)]
            self._cache[name] = blocks
        return blocks
