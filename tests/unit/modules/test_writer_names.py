"""The writer's temporary names cannot be claimed in advance by someone who can write the
directory (a name built from the agent's pid could: a link task would then fail)."""

from __future__ import annotations

import os
from pathlib import Path

from .conftest import run_module


def test_a_planted_pid_temp_name_does_not_stop_a_link(tmp_path: Path) -> None:
    dest = tmp_path / "current"
    planted = tmp_path / f"current.fleet-{os.getpid()}.tmp"  # the name the agent used to pick
    planted.symlink_to("/etc/shadow")
    (tmp_path / "v2").mkdir()
    result = run_module("file", {"path": str(dest), "src": str(tmp_path / "v2"), "state": "link"})
    assert result["status"] == "changed", result
    assert os.readlink(dest) == str(tmp_path / "v2")
    assert os.readlink(planted) == "/etc/shadow"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["current", "v2", planted.name])


def test_touch_creates_a_missing_file_and_only_updates_times_of_an_existing_one(tmp_path: Path) -> None:
    path = tmp_path / "stamp"
    assert run_module("file", {"path": str(path), "state": "touch", "mode": "0640"})["status"] == "changed"
    assert path.is_file() and path.stat().st_mode & 0o777 == 0o640
    path.write_text("kept\n")
    run_module("file", {"path": str(path), "state": "touch"})
    assert path.read_text() == "kept\n"
