"""hosts: the container case (/etc/hosts is a bind mount: written in place) and a typical
Debian container file."""

from __future__ import annotations

import errno
import os

import pytest

from .conftest import load_module

M = load_module("hosts")

CONTAINER = ("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
             "fe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\n"
             "ff02::2\tip6-allrouters\n172.18.0.2\tlab1\n")


def test_container_hosts_file_fleet_entries():
    p = M.Params(ip="172.18.0.3", hostnames=["lab2.fleet", "lab2"])
    new, msg = M.edit(p, CONTAINER)
    assert new == CONTAINER + "172.18.0.3\tlab2.fleet lab2\n"
    assert msg == "entry for 172.18.0.3 added"
    assert M.edit(p, new) == (new, "")


def test_hostname_moves_to_new_address():
    p = M.Params(ip="10.1.0.2", hostnames=["lab1"])
    new, msg = M.edit(p, CONTAINER)
    assert "172.18.0.2" not in new and new.endswith("10.1.0.2\tlab1\n")
    assert msg == "lab1 removed from 172.18.0.2; entry for 10.1.0.2 added"


def test_zone_index_addresses():
    p = M.Params(ip="fe80::1%eth0", hostnames=["router"])
    new, _ = M.edit(p, "fe80::1%eth1 other\n")
    assert new == "fe80::1%eth1 other\nfe80::1%eth0\trouter\n"


def test_hostnames_as_text_split_on_spaces():
    assert M.names_of(M.Params(ip="10.0.0.1", hostnames="a.example a")) == ["a.example", "a"]
    with pytest.raises(M.ModuleFailure, match="given twice"):
        M.names_of(M.Params(ip="10.0.0.1", hostnames=["a", "A"]))


def test_bind_mounted_file_is_written_in_place(tmp_path, run, monkeypatch):
    """rename() over a mount point fails with EBUSY: the writer falls back to in-place."""
    target = tmp_path / "hosts"
    target.write_text(CONTAINER)
    inode = target.stat().st_ino
    real_rename = os.rename

    def rename(src, dst, *args, **kwargs):
        if os.fspath(dst) in (str(target), target.name):  # by path, or relative to a dir_fd
            raise OSError(errno.EBUSY, "Device or resource busy")
        return real_rename(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "rename", rename)
    result = run("hosts", {"path": str(target), "ip": "172.18.0.4", "hostnames": ["lab3"]})
    assert result["status"] == "changed", result
    assert target.read_text() == CONTAINER + "172.18.0.4\tlab3\n"
    assert target.stat().st_ino == inode
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hosts"]  # temp file gone


def test_check_mode_reports_and_writes_nothing(tmp_path, run):
    target = tmp_path / "hosts"
    target.write_text(CONTAINER)
    result = run("hosts", {"path": str(target), "ip": "172.18.0.2", "hostnames": ["lab1.fleet", "lab1"]},
                 check=True, diff=True)
    assert result["status"] == "changed"
    assert result["data"]["msg"] == "entry for 172.18.0.2 replaced"
    assert "+172.18.0.2\tlab1.fleet lab1\n" in result["diff"]["unified"]["content"]
    assert target.read_text() == CONTAINER
