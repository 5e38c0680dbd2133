"""File-module behaviour that a table cannot express: backups, atomic replace, times."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest

BACKUP = r"\.\d+\.\d{4}-\d\d-\d\d@\d\d:\d\d:\d\d(\.\d+)?~"


def _backups(path: Path) -> list[Path]:
    return sorted(
        p for p in path.parent.iterdir() if re.fullmatch(re.escape(path.name) + BACKUP, p.name)
    )


@pytest.mark.parametrize(
    ("module", "params", "key"),
    [
        ("lineinfile", {"line": "new"}, "backup"),
        ("blockinfile", {"block": "new"}, "backup_file"),
        ("copy", {"content": "new\n"}, "backup_file"),
    ],
)
def test_backup_keeps_original(run, tmp_path, module, params, key):
    target = tmp_path / "conf"
    target.write_text("original\n")
    os.chmod(target, 0o640)
    path_key = "dest" if module == "copy" else "path"
    args = {path_key: str(target), "backup": True, **params}

    first = run(module, args)
    assert first["status"] == "changed"
    backup = first["data"][key]
    assert re.fullmatch(re.escape(str(target)) + BACKUP, backup), backup
    assert Path(backup).read_text() == "original\n"
    assert Path(backup).stat().st_mode & 0o777 == 0o640  # metadata kept

    again = run(module, args)  # nothing to change: no new backup
    assert again["status"] == "ok"
    assert again["data"].get(key, "") == ""
    assert _backups(target) == [Path(backup)]


def test_two_backups_in_one_second_do_not_collide(run, tmp_path):
    target = tmp_path / "conf"
    target.write_text("one\n")
    first = run("copy", {"dest": str(target), "content": "two\n", "backup": True})
    second = run("copy", {"dest": str(target), "content": "three\n", "backup": True})
    names = {first["data"]["backup_file"], second["data"]["backup_file"]}
    assert len(names) == 2
    assert sorted(Path(n).read_text() for n in names) == ["one\n", "two\n"]


def test_no_backup_in_check_mode(run, tmp_path):
    target = tmp_path / "conf"
    target.write_text("a\n")
    result = run("lineinfile", {"path": str(target), "line": "b", "backup": True}, check=True)
    assert result["status"] == "changed"
    assert result["data"]["backup"] == ""
    assert _backups(target) == []


@pytest.mark.parametrize("module", ["copy", "lineinfile", "blockinfile"])
def test_replace_is_atomic_rename(run, tmp_path, module):
    """The new content arrives by rename: a reader holding the old file keeps old bytes."""
    target = tmp_path / "f"
    target.write_text("old\n")
    inode = target.stat().st_ino
    with open(target) as held:
        key = "dest" if module == "copy" else "path"
        extra = {
            "copy": {"content": "new\n"},
            "lineinfile": {"line": "new"},
            "blockinfile": {"block": "new"},
        }[module]
        assert run(module, {key: str(target), **extra})["status"] == "changed"
        assert held.read() == "old\n"
    assert target.stat().st_ino != inode
    assert [p.name for p in tmp_path.iterdir()] == ["f"]  # no temp file left behind


def test_validate_runs_on_temp_file_with_final_mode(run, tmp_path):
    target = tmp_path / "f"
    seen = tmp_path / "seen"
    check = f'sh -c \'stat -c %%a "$1" > {seen}; grep -q ok "$1"\' validator %s'
    result = run(
        "copy", {"dest": str(target), "content": "ok\n", "mode": "0600", "validate": check}
    )
    assert result["status"] == "changed", result
    assert seen.read_text() == "600\n"
    assert target.read_text() == "ok\n"


def test_validate_path_with_spaces(run, tmp_path):
    folder = tmp_path / "with space"
    folder.mkdir()
    target = folder / "f"
    result = run(
        "lineinfile", {"path": str(target), "line": "x", "create": True, "validate": "grep -q x %s"}
    )
    assert result["status"] == "changed", result
    assert target.read_text() == "x\n"


def test_touch_sets_exact_times_and_reports_them(run, tmp_path):
    target = tmp_path / "t"
    before = time.time()
    result = run("file", {"path": str(target), "state": "touch"})
    assert result["status"] == "changed"
    after = result["diff"]["after"]
    st = target.stat()
    assert st.st_mtime_ns == round(after["mtime"] * 1e6) * 1000
    assert st.st_atime_ns == round(after["atime"] * 1e6) * 1000
    assert before - 1 <= after["mtime"] <= time.time() + 1


def test_modification_time_with_format(run, tmp_path):
    target = tmp_path / "f"
    target.write_text("x")
    args = {"path": str(target), "modification_time": "202401021304.05", "access_time": "now"}
    result = run("file", args)
    assert result["status"] == "changed", result
    expected = time.mktime(time.strptime("202401021304.05", "%Y%m%d%H%M.%S"))
    assert target.stat().st_mtime == expected
    preserve = run(
        "file",
        {"path": str(target), "modification_time": "202401021304.05", "access_time": "preserve"},
    )
    assert preserve["status"] == "ok"


def test_binary_content_is_json_safe_and_exact(run, tmp_path):
    target = tmp_path / "bin"
    target.write_bytes(b"\xff\x00\x01")
    result = run("copy", {"dest": str(target), "content_b64": "/wAC"}, diff=True)
    assert result["status"] == "changed"
    unified = result["diff"]["unified"]["content"]
    assert "-(binary content: 3 bytes" in unified and "+(binary content: 3 bytes" in unified
    assert target.read_bytes() == b"\xff\x00\x02"


def test_lineinfile_on_latin1_file_keeps_other_bytes(run, tmp_path):
    target = tmp_path / "latin1"
    target.write_bytes(b"caf\xe9=1\nk=1\n")
    result = run("lineinfile", {"path": str(target), "regexp": "^k=", "line": "k=2"}, diff=True)
    assert result["status"] == "changed"
    assert target.read_bytes() == b"caf\xe9=1\nk=2\n"


def test_diff_text_only_when_asked(run, tmp_path):
    target = tmp_path / "f"
    target.write_text("a\n")
    result = run("lineinfile", {"path": str(target), "line": "b"}, check=True, diff=False)
    assert result["diff"]["fields"] == ["content"]
    assert "content" not in result["diff"]["before"] and "unified" not in result["diff"]


def test_recurse_with_follow_reaches_linked_targets(run, tmp_path):
    outside = tmp_path / "outside"
    outside.write_text("x")
    os.chmod(outside, 0o644)
    tree = tmp_path / "tree"
    tree.mkdir()
    os.symlink(outside, tree / "lnk")
    args = {"path": str(tree), "state": "directory", "recurse": True, "mode": "0600"}
    assert run("file", dict(args, follow=False))["status"] == "changed"
    assert outside.stat().st_mode & 0o777 == 0o644
    assert run("file", args)["status"] == "changed"
    assert outside.stat().st_mode & 0o777 == 0o600
    assert run("file", args)["status"] == "ok"
