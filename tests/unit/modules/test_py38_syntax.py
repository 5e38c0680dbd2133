"""Code that runs on target hosts must parse as Python 3.8 (modules and the agent)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
FILES = sorted((ROOT / "modules").glob("*.py")) + sorted((ROOT / "fleet" / "agent").glob("*.py"))


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_parses_as_python38(path: Path) -> None:
    ast.parse(path.read_text("utf-8"), filename=str(path), feature_version=(3, 8))
