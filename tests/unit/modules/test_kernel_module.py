"""kernel_module: loaded/builtin detection, why loading is refused, the modprobe commands,
the persistent file plan, and what is reported when the host cannot load modules."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from fleet.agent import runner
from fleet.agent.hostio import HostWriter

from .conftest import controller_params, load_module, run_module

km = load_module("kernel_module")

PROC = "loop 32768 0 - Live 0x0\nnf_conntrack 172032 0 - Live 0x0\n"
BUILTIN = "kernel/fs/ext4/ext4.ko\nkernel/drivers/block/virtio_blk.ko\n"


@pytest.mark.parametrize(("name", "loaded"), [
    ("loop", True), ("nf-conntrack", True), ("nf_conntrack", True), ("ext4", True),
    ("virtio-blk", True), ("dummy", False), ("loo", False),
])
def test_is_loaded(name: str, loaded: bool) -> None:
    assert km.is_loaded(name, PROC, BUILTIN, False) is loaded


def test_sys_module_counts_and_builtin_is_told_apart() -> None:
    assert km.is_loaded("dummy", "", None, True)
    assert km.is_builtin("ext4", BUILTIN) and not km.is_builtin("loop", BUILTIN)


def test_load_refusal_reasons() -> None:
    assert km.load_refusal("/", True, "/sbin/modprobe", "/lib/modules/6.1") == ""
    assert km.load_refusal("/", False, "/sbin/modprobe", "/lib/modules/6.1") == "no CAP_SYS_MODULE here (a container?)"
    assert km.load_refusal("/", True, None, "/lib/modules/6.1") == "modprobe is not installed (package kmod)"
    assert "does not exist here" in km.load_refusal("/", True, "/sbin/modprobe", None)
    assert km.load_refusal("/img", True, "m", "d") == "root is /img, not the running system"


def test_modprobe_commands() -> None:
    p = km.Params(name="dummy", params="numdummies=2 'x=a b'")
    assert km.modprobe_command(p, True) == ["modprobe", "dummy", "numdummies=2", "x=a b"]
    assert km.modprobe_command(p, False) == ["modprobe", "-r", "dummy"]


def test_persisted_files_plan() -> None:
    p = km.Params(name="dummy", params="numdummies=2", persistent="present")
    load = {"/l/dummy.conf": None, "/l/m.conf": "#dummy\n"}
    opts = {"/o/dummy.conf": None, "/o/a.conf": "options dummy numdummies=1\noptions dummy x=1 y=2\n"}
    assert km.persisted_files(p, "/l", load, "/o", opts) == {
        "/l/dummy.conf": "dummy\n",
        # a line with two parameters is not one Ansible's pattern knows: left alone
        "/o/a.conf": "#options dummy numdummies=1\noptions dummy x=1 y=2\n",
        "/o/dummy.conf": "options dummy numdummies=2\n",
    }
    done = {"/o/dummy.conf": "options dummy numdummies=2\n"}
    assert km.persisted_files(p, "/l", {"/l/x.conf": " dummy ; boot\n"}, "/o", done) == {}
    absent = km.Params(name="dummy", persistent="absent")
    assert km.persisted_files(absent, "/l", {"/l/x.conf": "dummy\nloop\n"}, "/o", done) == {
        "/l/x.conf": "#dummy\nloop\n", "/o/dummy.conf": "#options dummy numdummies=2\n"}


def test_refused_load_is_persisted_with_a_warning_then_ok(tmp_path: Path) -> None:
    params = {"name": "dummy", "persistent": "present", "root": str(tmp_path)}
    first = run_module("kernel_module", params)
    assert first["status"] == "changed"
    assert first["warnings"] == [f"module dummy: persisted, not loaded: root is {tmp_path}, not the running system"]
    assert (tmp_path / "etc/modules-load.d/dummy.conf").read_text() == "dummy\n"
    again = run_module("kernel_module", params)
    assert again["status"] == "ok" and again["warnings"] == first["warnings"]  # every run
    assert again["data"]["load_refused"] == f"root is {tmp_path}, not the running system"


def _run_allowed(monkeypatch, tmp_path: Path, outcome, params: dict) -> tuple[dict, list]:
    """Run with loading allowed and modprobe replaced by ``outcome(argv)``."""
    module = load_module("kernel_module")
    monkeypatch.setattr(module, "load_refusal", lambda *args: "")
    calls: list = []

    def fake_run(self, argv, *args, **kwargs):
        calls.append(argv)
        return outcome(argv)

    monkeypatch.setattr(HostWriter, "run", fake_run)
    params = controller_params("kernel_module", {"root": str(tmp_path), **params})
    return runner.execute(module, params, False, False), calls


def test_load_runs_modprobe_then_persists(monkeypatch, tmp_path: Path) -> None:
    def load(argv):
        (tmp_path / "proc").mkdir(exist_ok=True)
        (tmp_path / "proc/modules").write_text("dummy 16384 0 - Live 0x0\n")
        return 0, "", ""

    result, calls = _run_allowed(monkeypatch, tmp_path, load,
                                 {"name": "dummy", "params": "numdummies=2", "persistent": "present"})
    assert result["status"] == "changed" and "warnings" not in result, result
    assert calls == [["modprobe", "dummy", "numdummies=2"]]
    assert (tmp_path / "etc/modprobe.d/dummy.conf").read_text() == "options dummy numdummies=2\n"


def test_failed_modprobe_fails_and_persists_nothing(monkeypatch, tmp_path: Path) -> None:
    result, _ = _run_allowed(monkeypatch, tmp_path, lambda argv: (1, "", "modprobe: FATAL: Module dummy not found\n"),
                             {"name": "dummy", "persistent": "present"})
    assert result["status"] == "failed" and result["msg"] == "modprobe: FATAL: Module dummy not found"
    assert not (tmp_path / "etc").exists()


def test_modprobe_that_loads_nothing_is_a_warning(monkeypatch, tmp_path: Path) -> None:
    result, _ = _run_allowed(monkeypatch, tmp_path, lambda argv: (0, "", ""), {"name": "dummy"})
    assert result["status"] == "changed"
    assert result["warnings"] == ["module dummy: modprobe dummy succeeded but the module is not loaded"]


def test_unload_of_a_builtin_fails(tmp_path: Path) -> None:
    (tmp_path / "sys/module/ext4").mkdir(parents=True)
    release = os.uname().release
    (tmp_path / f"lib/modules/{release}").mkdir(parents=True)
    (tmp_path / f"lib/modules/{release}/modules.builtin").write_text(BUILTIN)
    result = run_module("kernel_module", {"name": "ext4", "state": "absent", "root": str(tmp_path)})
    assert result["status"] == "failed" and "built into the kernel" in result["msg"]
