"""Fixtures for inventory tests: write a tree of files, load one inventory text."""

from __future__ import annotations

import os
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from fleet.inventory import Inventory

WriteTree = Callable[[dict[str, str]], Path]
LoadText = Callable[[str, str], Inventory]


@pytest.fixture
def write_tree(tmp_path: Path) -> WriteTree:
    """Write ``{relative path: text}`` under tmp_path (dedented; ``#!`` files made executable)."""

    def write(files: dict[str, str]) -> Path:
        for rel, text in files.items():
            path = tmp_path / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            body = textwrap.dedent(text).lstrip("\n")
            path.write_text(body, encoding="utf-8")
            if body.startswith("#!"):
                os.chmod(path, 0o755)
        return tmp_path

    return write


@pytest.fixture
def load_text(write_tree: WriteTree) -> LoadText:
    """Write one inventory file (name, text) under tmp_path and load it."""

    def load(filename: str, text: str) -> Inventory:
        root = write_tree({filename: text})
        return Inventory.load(str(root / filename))

    return load
