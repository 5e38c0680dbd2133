"""``backup: true`` copies: created private (0600, never through a planted symlink), then given
the source's owner and mode through their descriptor; at no moment readable by more people
than the source."""

from __future__ import annotations

import os
import pwd
import stat
import time
from pathlib import Path

import pytest

from fleet.agent.hostio import HostWriter, ModuleFailure
from tests.conftest import require

from .conftest import run_module


def test_content_is_only_ever_written_while_the_copy_is_private(tmp_path, monkeypatch) -> None:
    source = tmp_path / "secret.conf"
    source.write_text("password=hunter2\n" * 1000)
    os.chmod(source, 0o600)
    seen: list = []
    real_write = os.write

    def write(fd, data):
        st = os.fstat(fd)
        if stat.S_ISREG(st.st_mode) and st.st_nlink:
            seen.append(stat.S_IMODE(st.st_mode))
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", write)
    umask = os.umask(0)  # a careless umask changes nothing
    try:
        backup = HostWriter(umask=0).backup(str(source))
    finally:
        os.umask(umask)
        monkeypatch.undo()
    assert seen and set(seen) == {0o600}, seen
    assert Path(backup).read_text() == source.read_text()
    assert stat.S_IMODE(os.stat(backup).st_mode) == 0o600


def test_backup_gets_the_sources_owner_group_mode_and_times(tmp_path) -> None:
    require(os.geteuid() == 0, "chowning to another user needs root")
    nobody = pwd.getpwnam("nobody")
    source = tmp_path / "app.conf"
    source.write_text("old\n")
    os.chown(source, nobody.pw_uid, 4)  # group adm
    os.chmod(source, 0o640)
    os.utime(source, ns=(1_600_000_000_000_000_000, 1_600_000_000_000_000_000))
    result = run_module("copy", {"dest": str(source), "content": "new\n", "backup": True})
    assert result["status"] == "changed", result
    st = os.stat(result["data"]["backup_file"])
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (nobody.pw_uid, 4, 0o640)
    assert st.st_mtime_ns == 1_600_000_000_000_000_000
    assert Path(result["data"]["backup_file"]).read_text() == "old\n"


def test_a_planted_symlink_at_the_backup_name_is_not_followed(tmp_path) -> None:
    source = tmp_path / "hosts"
    source.write_text("127.0.0.1 localhost\n")
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    os.chmod(victim, 0o600)
    now = time.time()
    planted = []
    for offset in range(0, 6):  # the names the next seconds' backups would get
        stamp = time.strftime("%Y-%m-%d@%H:%M:%S", time.localtime(now + offset))
        link = tmp_path / f"hosts.{os.getpid()}.{stamp}~"
        link.symlink_to(victim)
        planted.append(link)
    backup = Path(HostWriter().backup(str(source)))
    assert victim.read_text() == "precious\n" and stat.S_IMODE(victim.stat().st_mode) == 0o600
    assert all(link.is_symlink() and os.readlink(link) == str(victim) for link in planted)
    assert not backup.is_symlink() and backup.read_text() == "127.0.0.1 localhost\n"
    assert backup.name.endswith(".1~"), backup


def test_what_is_no_regular_file_is_not_backed_up(tmp_path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(ModuleFailure, match="not a regular file"):
        HostWriter().backup(str(fifo))
    assert HostWriter().backup(str(tmp_path / "absent")) == ""
