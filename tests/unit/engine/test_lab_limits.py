"""Root's inotify limit before a lab starts: counted, raised as root (said), or one error
naming the sysctl and the value to set. A fake /proc: processes whose fds are symlinks."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from fleet.errors import FleetError
from fleet.lab.limits import PER_HOST, check_inotify, exhausted, inotify_in_use


def _proc(tmp_path: Path, limit: int, instances: dict[int, int]) -> Path:
    """A /proc with max_user_instances = limit and one process per pid holding N inotify fds."""
    proc = tmp_path / "proc"
    (proc / "sys/fs/inotify").mkdir(parents=True)
    (proc / "sys/fs/inotify/max_user_instances").write_text(f"{limit}\n")
    for pid, count in instances.items():
        fd = proc / str(pid) / "fd"
        fd.mkdir(parents=True)
        for number in range(count):
            os.symlink("anon_inode:inotify", fd / str(number))
        os.symlink("/dev/null", fd / "null")
    return proc


def test_instances_in_use_are_counted(tmp_path: Path) -> None:
    assert inotify_in_use(_proc(tmp_path, 128, {10: 5, 11: 3})) == 8


def test_enough_room_changes_nothing(tmp_path: Path) -> None:
    proc = _proc(tmp_path, 1024, {10: 40})
    said: list[str] = []
    budget = check_inotify(30, said.append, proc=proc, euid=0)
    assert budget.enough and said == []
    assert (proc / "sys/fs/inotify/max_user_instances").read_text() == "1024\n"


def test_root_raises_the_limit_and_says_so(tmp_path: Path) -> None:
    proc = _proc(tmp_path, 128, {10: 60})
    said: list[str] = []
    budget = check_inotify(30, said.append, proc=proc, euid=0)
    needed = 60 + 30 * PER_HOST
    assert budget.limit >= needed and budget.limit % 256 == 0
    assert (proc / "sys/fs/inotify/max_user_instances").read_text() == f"{budget.limit}\n"
    assert said == [f"raised fs.inotify.max_user_instances from 128 to {budget.limit} for 30 lab host(s): this "
                    f"lasts until the next reboot (to keep it: echo fs.inotify.max_user_instances={budget.limit} > "
                    f"/etc/sysctl.d/60-fleet-lab.conf)"]


def test_others_get_the_sysctl_and_the_value_to_set(tmp_path: Path) -> None:
    proc = _proc(tmp_path, 128, {})
    with pytest.raises(FleetError) as info:
        check_inotify(30, print, running_hosts=5, proc=proc, euid=1000)
    message = str(info.value)
    assert message.startswith("fs.inotify.max_user_instances is 128, and 30 more lab host(s) need about ")
    assert f"{5 * PER_HOST} are in use" in message  # lab hosts this user cannot look into still count
    assert "as root, run 'sysctl -w fs.inotify.max_user_instances=512'" in message
    assert (proc / "sys/fs/inotify/max_user_instances").read_text() == "128\n"


def test_a_limit_root_cannot_write_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    proc = _proc(tmp_path, 128, {10: 100})

    def read_only(self: Path, *args: object, **kwargs: object) -> int:
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(Path, "write_text", read_only)  # a container's /proc/sys
    with pytest.raises(FleetError, match=r"raising it failed \(Read-only file system\): set "
                                         r"fs.inotify.max_user_instances=512 on the machine that runs docker"):
        check_inotify(40, print, proc=proc, euid=0)


def test_exhausted_names_the_cause(tmp_path: Path) -> None:
    assert exhausted(_proc(tmp_path / "a", 128, {10: 20})) == ""
    assert exhausted(_proc(tmp_path / "b", 128, {10: 125})).startswith(
        "root holds 125 inotify instances and fs.inotify.max_user_instances is 128")


def test_a_lab_takes_its_own_network_not_one_whose_name_contains_it() -> None:
    """docker filters networks by a substring of the name: lab ``itest`` once joined lab
    ``itestb``'s network and none of its hosts came up."""
    from types import SimpleNamespace

    from fleet.lab.lab import Lab, LabSpec, _Started

    created: list[str] = []
    others = [SimpleNamespace(name="fleet-itestb")]
    networks = SimpleNamespace(list=lambda names: list(others),
                               create=lambda name, **kw: created.append(name) or SimpleNamespace(name=name))
    lab = Lab(LabSpec(name="itest"), client=SimpleNamespace(networks=networks), say=lambda _: None)
    network = lab._network(_Started(lab="itest", before=set()))
    assert network.name == lab.spec.network and created == [lab.spec.network]
