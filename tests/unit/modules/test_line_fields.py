"""sysctl names that would leave /proc/sys and fstab fields that would break their line are
refused by the controller's validation (literal values before anything connects, rendered
ones before the call is sent) and again on the host."""

from __future__ import annotations

import pytest

from fleet.agent import runner
from fleet.errors import InputError, Location
from fleet.registry import ModuleSpec

from .conftest import MODULES_DIR, load_module

sysctl = load_module("sysctl")
mount = load_module("mount")
WHERE = Location("site.yml", 7)


def _spec(name: str) -> ModuleSpec:
    path = MODULES_DIR / f"{name}.py"
    return ModuleSpec(name, path, path.read_text("utf-8"))


@pytest.mark.parametrize("name", [
    "kernel/../../../root/x", "net/ipv4/../../../../etc/shadow", "kernel/./x", "/../root/x", "kernel.x=1",
    "kernel.x\nvm.y", "kernel x", "kernel.x\0", "  ", "..", "net..ipv4.ip_forward",
])
def test_bad_sysctl_names_are_refused_before_connecting(name: str) -> None:
    with pytest.raises(InputError) as caught:
        _spec("sysctl").check_static({"name": name, "value": "1"}, lambda v: False, "task 'x'", WHERE)
    assert str(caught.value.location) == "site.yml:7"
    assert "task 'x': module sysctl: " in str(caught.value)
    with pytest.raises(InputError):  # a rendered value ("{{ name }}") meets the same check
        _spec("sysctl").validate({"key": name, "value": "1"}, "task 'x'", WHERE)


@pytest.mark.parametrize("name", [
    "net.ipv4.ip_forward", "net/ipv4/ip_forward", "net.ipv4.conf.eth0/100.rp_filter", "fs.protected_regular",
])
def test_good_sysctl_names_pass(name: str) -> None:
    _spec("sysctl").check_static({"name": name, "value": "32768 60999"}, lambda v: False, "t", WHERE)
    assert _spec("sysctl").validate({"name": name, "value": "1\n"}, "t", WHERE)["name"] == name


def test_a_multi_line_sysctl_value_is_refused() -> None:
    with pytest.raises(InputError, match="value must be one line"):
        _spec("sysctl").validate({"name": "kernel.x", "value": "1\nkernel.core_pattern=|/tmp/x"}, "t", WHERE)


def test_the_host_refuses_a_name_that_leaves_proc_sys_too(tmp_path) -> None:
    """An agent sent such a name anyway (another controller) writes nothing outside proc_sys."""
    proc = tmp_path / "proc" / "sys"
    (proc / "kernel").mkdir(parents=True)
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    for name in ("kernel/../../../victim", "kernel.x\nvm.y=1"):
        params = {"name": name, "value": "1", "state": "present", "reload": True, "sysctl_set": False,
                  "ignoreerrors": True, "sysctl_file": str(tmp_path / "s.conf"), "proc_sys": str(proc)}
        result = runner.execute(sysctl, params, False, False)
        assert result["status"] == "failed" and "invalid sysctl name" in result["msg"], result
    assert victim.read_text() == "precious\n" and not (tmp_path / "s.conf").exists()


def test_the_host_checks_the_resolved_path_stays_below_proc_sys(tmp_path) -> None:
    proc = tmp_path / "proc"
    proc.mkdir()
    (proc / "kernel").symlink_to(tmp_path)  # /proc/sys never has one; a tree given as proc_sys may
    (tmp_path / "victim").write_text("precious\n")
    params = {"name": "kernel.victim", "value": "1", "sysctl_file": str(tmp_path / "s.conf"),
              "proc_sys": str(proc)}
    result = runner.execute(sysctl, _spec("sysctl").validate(params, "t", WHERE), False, False)
    assert result["status"] == "failed" and "is not below" in result["msg"], result
    assert (tmp_path / "victim").read_text() == "precious\n"


@pytest.mark.parametrize(("field", "value"), [
    ("opts", "defaults\n/dev/sda1 /etc ext4 defaults 0 0"), ("opts", "defaults\tx"), ("src", "/dev/sdb1\r"),
    ("path", "/mnt/a\tb"), ("fstype", "ext4\x0b"), ("dump", "0\n"), ("passno", "\x1b"), ("src", "a\u2028b"),
])
def test_fstab_fields_with_tabs_or_line_breaks_are_refused(field: str, value: str) -> None:
    args = {"path": "/mnt/x", "src": "/dev/sdb1", "fstype": "ext4", "state": "present", field: value}
    with pytest.raises(InputError, match=f"{field} must not contain a tab, line break"):
        _spec("mount").check_static(args, lambda v: False, "task 'x'", WHERE)
    with pytest.raises(InputError):
        _spec("mount").validate(args, "task 'x'", WHERE)


def test_the_host_refuses_a_broken_fstab_field_too(tmp_path) -> None:
    fstab = tmp_path / "fstab"
    fstab.write_text("proc /proc proc defaults 0 0\n")
    params = {"path": str(tmp_path / "mnt"), "state": "present", "src": "tmpfs", "fstype": "tmpfs",
              "opts": "defaults\ntmpfs /etc tmpfs defaults", "dump": "0", "passno": "0",
              "fstab": str(fstab), "boot": True, "backup": False, "opts_no_log": False}
    result = runner.execute(mount, params, False, False)
    assert result["status"] == "failed" and "opts must not contain" in result["msg"], result
    assert fstab.read_text() == "proc /proc proc defaults 0 0\n"


def test_spaces_in_fstab_fields_are_still_escaped() -> None:
    args = {"path": "/mnt/my disk", "src": "/dev/disk/by-label/my disk", "fstype": "ext4", "state": "present"}
    _spec("mount").check_static(args, lambda v: False, "t", WHERE)
    assert mount.escape("/mnt/my disk") == "/mnt/my\\040disk"
