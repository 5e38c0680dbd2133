"""sysctl: value parsing and comparison, /proc/sys paths, the file edit, and honest reporting
when the host refuses the runtime value (read-only /proc/sys, EPERM, EINVAL)."""

from __future__ import annotations

import builtins
import errno
import os
from pathlib import Path

import pytest

from fleet.agent.hostio import HostWriter

from .conftest import load_module, run_module

sysctl = load_module("sysctl")


@pytest.mark.parametrize(("given", "parsed"), [
    ("yes", "1"), ("True", "1"), ("on", "1"), ("no", "0"), ("False", "0"), (" 42 ", "42"),
    ("32768 60999", "32768 60999"), (None, ""),
])
def test_parse_value_like_ansible(given, parsed) -> None:
    assert sysctl.parse_value(given) == parsed


def test_values_compared_word_by_word() -> None:
    assert sysctl.same_value("32768\t60999", "32768 60999")
    assert not sysctl.same_value("32768 60999", "32768")
    assert not sysctl.same_value(None, "1")


@pytest.mark.parametrize(("name", "rel"), [
    ("net.ipv4.ip_forward", "net/ipv4/ip_forward"),
    ("net/ipv4/ip_forward", "net/ipv4/ip_forward"),
    ("net.ipv4.conf.eth0/100.rp_filter", "net/ipv4/conf/eth0.100/rp_filter"),
    ("net/ipv4/conf/eth0.100/rp_filter", "net/ipv4/conf/eth0.100/rp_filter"),
    ("kernel.kptr_restrict", "kernel/kptr_restrict"),
])
def test_proc_path(name: str, rel: str) -> None:
    assert sysctl.proc_path("/proc/sys", name) == "/proc/sys/" + rel


def test_edit_keeps_other_lines_byte_for_byte() -> None:
    text = "# c\n  kernel.pid_max =  65536  \n;x\nvm.swappiness=1\n"
    assert sysctl.edit(text, "vm.swappiness", "5", "present") == (
        "# c\n  kernel.pid_max =  65536  \n;x\nvm.swappiness=5\n")
    assert sysctl.edit(text, "vm.swappiness", "5", "absent") == "# c\n  kernel.pid_max =  65536  \n;x\n"
    assert sysctl.file_value("a=1\na = 2\n", "a") == "2"  # the last one wins, as at boot


def _proc(tmp_path: Path, rel: str, value: str) -> str:
    path = tmp_path / "proc" / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(value)
    return str(path)


def _params(tmp_path: Path, **extra) -> dict:
    return {"name": "kernel.kptr_restrict", "value": "1", "sysctl_file": str(tmp_path / "s.conf"),
            "proc_sys": str(tmp_path / "proc"), **extra}


@pytest.fixture
def read_only_proc(monkeypatch, tmp_path: Path) -> str:
    """/proc/sys as a container mounts it: readable, on a read-only file system."""
    proc = _proc(tmp_path, "kernel/kptr_restrict", "0\n")
    real_access, real_statvfs = os.access, os.statvfs

    def access(path, mode, *args, **kwargs):
        if str(path).startswith(str(tmp_path / "proc")) and mode & os.W_OK:
            return False
        return real_access(path, mode, *args, **kwargs)

    class ReadOnly:
        f_flag = os.ST_RDONLY

    def statvfs(path):
        return ReadOnly() if str(path).startswith(str(tmp_path / "proc")) else real_statvfs(path)

    monkeypatch.setattr(os, "access", access)
    monkeypatch.setattr(os, "statvfs", statvfs)
    return proc


def test_read_only_runtime_persists_warns_then_is_ok(read_only_proc: str, tmp_path: Path) -> None:
    params = _params(tmp_path)
    check = run_module("sysctl", params, check=True)
    assert check["status"] == "changed" and check["diff"]["fields"] == ["content"]
    assert "warnings" not in check  # nothing is persisted yet: nothing to warn about

    first = run_module("sysctl", params)
    assert first["status"] == "changed", first
    assert first["warnings"] == [
        f"key kernel.kptr_restrict: persisted, not applied at runtime: {tmp_path / 'proc'} is read-only here "
        "(a container?)"]
    assert (tmp_path / "s.conf").read_text() == "kernel.kptr_restrict=1\n"
    assert Path(read_only_proc).read_text() == "0\n"
    assert first["data"]["runtime_value"] == "0"
    assert "read-only" in first["data"]["runtime_refused"]

    again = run_module("sysctl", params)
    assert again["status"] == "ok"
    assert again["warnings"] == first["warnings"]  # said on every run, not only when it changed
    assert "read-only" in again["data"]["runtime_refused"]
    assert run_module("sysctl", params, check=True)["warnings"] == first["warnings"]

    Path(read_only_proc).write_text("1\n")  # the runtime value is right after all: nothing to say
    assert "warnings" not in run_module("sysctl", params)


def test_runtime_refusal_names_the_reason(read_only_proc: str, tmp_path: Path) -> None:
    assert sysctl.runtime_refusal(read_only_proc, True, "/proc/sys") == "/proc/sys is read-only here (a container?)"
    assert sysctl.runtime_refusal(str(tmp_path / "absent"), False) == ""


def _kernel_refuses(monkeypatch, proc: str, error: OSError) -> None:
    """The writer's in-place write of ``proc`` fails as the kernel would fail it."""
    real = HostWriter.overwrite

    def refusing(self, path: str, data: bytes) -> None:
        if str(path) == proc:
            raise error
        real(self, path, data)

    monkeypatch.setattr(HostWriter, "overwrite", refusing)


def test_runtime_write_refused_by_kernel_is_a_warning(monkeypatch, tmp_path: Path) -> None:
    proc = _proc(tmp_path, "kernel/kptr_restrict", "0\n")
    _kernel_refuses(monkeypatch, proc, PermissionError(errno.EPERM, "Operation not permitted"))
    result = run_module("sysctl", _params(tmp_path))
    assert result["status"] == "changed", result
    assert result["warnings"] == ["key kernel.kptr_restrict: persisted, not applied at runtime: Operation not permitted"]
    assert (tmp_path / "s.conf").read_text() == "kernel.kptr_restrict=1\n"


def test_invalid_value_fails_before_the_file_is_written(monkeypatch, tmp_path: Path) -> None:
    proc = _proc(tmp_path, "kernel/kptr_restrict", "0\n")
    _kernel_refuses(monkeypatch, proc, OSError(errno.EINVAL, "Invalid argument"))
    result = run_module("sysctl", _params(tmp_path, value="7"))
    assert result["status"] == "failed"
    assert result["msg"] == "setting kernel.kptr_restrict failed: Invalid argument"
    assert not (tmp_path / "s.conf").exists()


def test_default_file_is_a_sysctl_d_drop_in() -> None:
    assert sysctl.Params(name="x").sysctl_file == "/etc/sysctl.d/99-fleet.conf"


def test_shadowing_names_later_files_with_another_value() -> None:
    texts = {
        "/usr/lib/sysctl.d/50-default.conf": "kernel.kptr_restrict=0\n",
        "/etc/sysctl.d/99-sysctl.conf": "# link to /etc/sysctl.conf\nkernel.kptr_restrict = 0\n",
        "/etc/sysctl.d/99-zz.conf": "kernel.kptr_restrict=1\n",
    }
    chosen = {os.path.basename(p): p for p in texts}
    own = "/etc/sysctl.d/99-fleet.conf"
    assert sysctl.shadowing("kernel.kptr_restrict", "1", own, chosen, texts.get) == [
        "/etc/sysctl.d/99-sysctl.conf (kernel.kptr_restrict=0)"]
    assert sysctl.shadowing("kernel.kptr_restrict", "0", own, chosen, texts.get) == [
        "/etc/sysctl.d/99-zz.conf (kernel.kptr_restrict=1)"]
    assert sysctl.shadowing("kernel.kptr_restrict", "1", "/etc/sysctl.conf", chosen, texts.get) == []
    masked = {**chosen, "99-fleet.conf": "/run/other/99-fleet.conf"}
    assert sysctl.shadowing("kernel.kptr_restrict", "1", own, masked, texts.get) == []


def test_boot_files_earlier_directory_masks_same_name() -> None:
    class Host:
        def listdir(self, directory: str) -> list:
            return {"/etc/sysctl.d": ["10-a.conf", "README"], "/usr/lib/sysctl.d": ["10-a.conf", "50-b.conf"]}.get(
                directory, [])

    assert sysctl.boot_files(Host()) == {"10-a.conf": "/etc/sysctl.d/10-a.conf",
                                         "50-b.conf": "/usr/lib/sysctl.d/50-b.conf"}


def test_read_only_runtime_already_right_gives_no_warning(read_only_proc: str, tmp_path: Path) -> None:
    Path(read_only_proc).write_text("1\n")
    result = run_module("sysctl", _params(tmp_path))
    assert result["status"] == "changed" and "warnings" not in result, result
    assert result["diff"]["fields"] == ["content"]


def test_write_only_key_is_persisted_with_a_warning(monkeypatch, tmp_path: Path) -> None:
    proc = _proc(tmp_path, "vm/drop_caches", "")
    real_open = builtins.open

    def write_only(file, mode="r", *args, **kwargs):
        if str(file) == proc and "w" not in mode:
            raise PermissionError(errno.EACCES, "Permission denied")
        return real_open(file, mode, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", write_only)
    params = _params(tmp_path, name="vm.drop_caches", value="3")
    result = run_module("sysctl", params)
    assert result["status"] == "changed", result
    assert result["warnings"] == [f"key vm.drop_caches: persisted, not applied at runtime: {proc} cannot be read: "
                                  "Permission denied"]
    assert run_module("sysctl", params)["status"] == "ok"


def test_proc_not_mounted_persists_warns_then_is_ok(tmp_path: Path) -> None:
    """A chroot: no /proc/sys at all, so no key is unknown and none can be set; said every run."""
    params = _params(tmp_path, name="kernel.yama.ptrace_scope")
    warning = (f"key kernel.yama.ptrace_scope: persisted, not applied at runtime: {tmp_path / 'proc'} is not "
               "mounted here (a chroot?)")
    check = run_module("sysctl", params, check=True)
    assert check["status"] == "changed" and check["diff"]["fields"] == ["content"]
    first = run_module("sysctl", params)
    assert first["status"] == "changed" and first["warnings"] == [warning], first
    assert (tmp_path / "s.conf").read_text() == "kernel.yama.ptrace_scope=1\n"
    assert not (tmp_path / "proc").exists()
    again = run_module("sysctl", params)
    assert again["status"] == "ok" and again["warnings"] == [warning]
    assert again["data"]["runtime_value"] is None
    assert "warnings" not in run_module("sysctl", {**params, "reload": False})  # runtime not asked for


def test_chroot_with_proc_mounted_never_writes_the_build_machines_kernel(tmp_path: Path, monkeypatch) -> None:
    """/proc mounted in a tree is the build machine's: persisted only, and no key is 'unknown'."""
    monkeypatch.setenv("FLEET_CHROOT", "1")  # what the chroot transport sets
    proc = _proc(tmp_path, "kernel/kptr_restrict", "0\n")
    warning = "persisted, not applied at runtime: a chroot: the running kernel is the build machine's"
    first = run_module("sysctl", _params(tmp_path))
    assert first["status"] == "changed" and first["warnings"] == [f"key kernel.kptr_restrict: {warning}"], first
    assert Path(proc).read_text() == "0\n" and first["data"]["runtime_value"] is None
    assert (tmp_path / "s.conf").read_text() == "kernel.kptr_restrict=1\n"
    assert run_module("sysctl", _params(tmp_path))["status"] == "ok"
    unknown = run_module("sysctl", _params(tmp_path, name="kernel.not_on_the_build_machine"))
    assert unknown["status"] == "changed" and unknown["warnings"] == [f"key kernel.not_on_the_build_machine: {warning}"]
