"""In a chroot the kernel is the build machine's: modules persist in the tree and never apply
at runtime there (host name, kernel modules, mounts, firewall), and package scripts start no
service. The chroot transport marks the agent's environment (FLEET_CHROOT)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from fleet.agent import hostenv
from fleet.transport.chroot import CHROOT_ENV

from . import conftest
from .conftest import run_module
from .fakes import HOSTNAME, install

CHROOT = "a chroot: the running kernel is the build machine's"


@pytest.fixture
def chroot(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(hostenv.CHROOT_MARKER, "1")


def test_the_chroot_transport_marks_the_agent_environment() -> None:
    assert CHROOT_ENV[hostenv.CHROOT_MARKER] == "1"
    assert hostenv.chroot_reason() == ""  # this test process is not in a chroot


def test_hostname_is_persisted_never_set_on_the_build_machine(chroot, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    fake = install(monkeypatch, tmp_path, {"hostname": HOSTNAME, "hostnamectl": HOSTNAME}, {"hostname": "old"})
    (tmp_path / "hostname").write_text("old\n")
    args = {"name": "baked", "hostname_file": str(tmp_path / "hostname")}
    run_module("hostname", args, check=True)
    monkeypatch.setattr(conftest._MODULES["hostname"], "runtime_settable", lambda: True)  # root here
    first = run_module("hostname", args)
    assert first["status"] == "changed" and (tmp_path / "hostname").read_text() == "baked\n"
    assert fake.state["hostname"] == "old"  # the build machine keeps its name
    assert all(len(call) <= 1 for call in fake.calls()), fake.calls()  # nothing tried to set it
    assert first["warnings"] == [f"running: persisted, not applied at runtime: {CHROOT}"]
    again = run_module("hostname", args)
    assert again["status"] == "ok" and again["warnings"] == first["warnings"]


def test_kernel_modules_and_mounts_are_refused_at_runtime(chroot, tmp_path: Path) -> None:
    loaded = run_module("kernel_module", {"name": "dummy", "persistent": "present",
                                          "root": "/"}, check=True)
    assert loaded["data"]["load_refused"] == CHROOT
    mounted = run_module("mount", {"path": str(tmp_path / "mnt"), "src": "tmpfs", "fstype": "tmpfs",
                                   "state": "mounted", "fstab": str(tmp_path / "fstab")})
    assert mounted["status"] == "changed" and not os.path.ismount(tmp_path / "mnt")
    assert mounted["warnings"] == [f"mount {tmp_path / 'mnt'}: fstab entry written, not mounted: {CHROOT}"]


def test_nftables_writes_the_file_and_loads_nothing(chroot, tmp_path: Path) -> None:
    conf = tmp_path / "nftables.conf"
    result = run_module("nftables", {"path": str(conf), "content": "flush ruleset\n", "validate": None})
    assert result["status"] == "changed" and conf.read_text() == "flush ruleset\n"
    assert result["warnings"] == [f"ruleset: persisted, not loaded: {CHROOT}"]


class _Writer:
    def __init__(self) -> None:
        self.written: list[str] = []

    def write_file(self, path: str, data: bytes, mode: str | None = None) -> None:
        self.written.append(path)
        assert data.endswith(b"exit 101\n") and mode == "0755"

    def remove(self, path: str) -> None:
        self.written.remove(path)


def test_package_scripts_start_no_service_in_a_chroot(chroot, monkeypatch: pytest.MonkeyPatch,
                                                      tmp_path: Path) -> None:
    monkeypatch.setattr(hostenv, "POLICY_RC_D", str(tmp_path / "policy-rc.d"))
    writer = _Writer()
    with hostenv.services_held(writer):
        assert writer.written == [str(tmp_path / "policy-rc.d")]
    assert writer.written == []
    (tmp_path / "policy-rc.d").write_text("#!/bin/sh\nexit 0\n")  # the tree's own: left alone
    with hostenv.services_held(writer):
        assert writer.written == []
    monkeypatch.delenv(hostenv.CHROOT_MARKER)
    (tmp_path / "policy-rc.d").unlink()
    with hostenv.services_held(writer):  # a running system: services start as packages say
        assert writer.written == []
