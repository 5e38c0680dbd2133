"""mount: fstab parsing and editing, mountinfo parsing, the mount commands, and what happens
when mounting is refused (a container), succeeds, or fails (fstab put back)."""

from __future__ import annotations

from pathlib import Path

import pytest

from fleet.agent import runner
from fleet.agent.hostio import HostWriter

from .conftest import controller_params, load_module

mnt = load_module("mount")

MOUNTINFO = (
    "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw,errors=remount-ro\n"
    "40 22 0:35 / /srv/my\\040disk rw,relatime shared:2 - tmpfs tmpfs rw,size=1024k\n"
    "41 22 0:36 / /mnt/nfs rw - nfs4 server:/export rw,vers=4.2\n"
)


def test_mount_points_from_mountinfo() -> None:
    points = mnt.mount_points(MOUNTINFO)
    assert points == {"/": "/dev/sda1", "/srv/my disk": "tmpfs", "/mnt/nfs": "server:/export"}


def test_escape_round_trip() -> None:
    assert mnt.escape("a b&c\\d") == "a\\040b\\046c\\134d"
    assert mnt.unescape(mnt.escape("a b&c\\d")) == "a b&c\\d"


def test_set_and_unset_entry() -> None:
    args = mnt.entry_args(mnt.Params(path="/srv/data", state="present", src="/dev/vdb1", fstype="ext4"))
    text = "# c\n/dev/old /srv/data ext4 defaults 0 0\n"
    assert mnt.set_entry(text, args) == "# c\n/dev/vdb1 /srv/data ext4 defaults 0 0\n"
    assert mnt.set_entry(mnt.set_entry(text, args), args) == mnt.set_entry(text, args)
    assert mnt.unset_entry(text + "/dev/x /other ext4 defaults\n", args) == "# c\n/dev/x /other ext4 defaults\n"


def test_commands() -> None:
    p = mnt.Params(path="/mnt/x", state="mounted", src="tmpfs", fstype="tmpfs", opts="size=1m")
    args = mnt.entry_args(p)
    assert mnt.mount_command(p, args, "/etc/fstab") == ["mount", "/mnt/x"]
    assert mnt.mount_command(p, args, "/tmp/fstab") == ["mount", "-T", "/tmp/fstab", "/mnt/x"]
    assert mnt.remount_command(p, args, "/etc/fstab") == ["mount", "-o", "remount", "/mnt/x"]
    re = mnt.Params(path="/mnt/x", state="remounted", opts="ro")
    assert mnt.remount_command(re, mnt.entry_args(re), "/etc/fstab") == ["mount", "-o", "remount,ro", "/mnt/x"]
    eph = mnt.Params(path="/mnt/x", state="ephemeral", src="tmpfs", fstype="tmpfs", opts="size=1m")
    assert mnt.mount_command(eph, mnt.entry_args(eph), "/etc/fstab") == [
        "mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", "/mnt/x"]


def test_refusal_reason() -> None:
    assert mnt.mount_refusal(True) == ""
    assert mnt.mount_refusal(False) == "no CAP_SYS_ADMIN here (a container?)"


class Host:
    """A simulated kernel: mount points, CAP_SYS_ADMIN, and what mount/umount do."""

    def __init__(self, monkeypatch, cap: bool, mounted: dict | None = None, fail: str = "") -> None:
        self.module = load_module("mount")
        self.points = dict(mounted or {})
        self.calls: list = []
        monkeypatch.setattr(self.module, "has_capability", lambda bit: cap)
        monkeypatch.setattr(self.module, "mount_points", lambda text: dict(self.points))

        def fake_run(writer, argv, *args, **kwargs):
            self.calls.append(argv)
            if fail:
                return 32, "", fail
            if argv[0] == "umount":
                self.points.pop(argv[-1], None)
            elif "remount" not in " ".join(argv):
                self.points[argv[-1]] = "tmpfs"
            return 0, "", ""

        monkeypatch.setattr(HostWriter, "run", fake_run)

    def run(self, params: dict, check: bool = False) -> dict:
        return runner.execute(self.module, controller_params("mount", params), check, False)


def _mounted(tmp_path: Path, **extra) -> dict:
    return {"path": str(tmp_path / "mnt"), "src": "tmpfs", "fstype": "tmpfs", "state": "mounted",
            "fstab": str(tmp_path / "fstab"), **extra}


def test_refused_mount_writes_entry_warns_then_ok(monkeypatch, tmp_path: Path) -> None:
    host = Host(monkeypatch, cap=False)
    first = host.run(_mounted(tmp_path))
    assert first["status"] == "changed", first
    assert first["warnings"] == [f"mount {tmp_path / 'mnt'}: fstab entry written, not mounted: no CAP_SYS_ADMIN here "
                                 "(a container?)"]
    assert (tmp_path / "fstab").read_text() == f"tmpfs {tmp_path}/mnt tmpfs defaults 0 0\n"
    assert host.calls == [] and not (tmp_path / "mnt").exists()
    again = host.run(_mounted(tmp_path))
    assert again["status"] == "ok" and again["warnings"] == first["warnings"]  # every run
    assert again["data"]["mounted"] is False and "CAP_SYS_ADMIN" in again["data"]["mount_refused"]


@pytest.mark.parametrize("state", ["unmounted", "remounted"])
def test_refused_states_without_anything_to_persist_fail(monkeypatch, tmp_path: Path, state: str) -> None:
    host = Host(monkeypatch, cap=False, mounted={str(tmp_path / "mnt"): "tmpfs"})
    result = host.run({"path": str(tmp_path / "mnt"), "state": state})
    assert result["status"] == "failed"
    assert result["msg"] == f"cannot {state[:-2]} {tmp_path}/mnt: no CAP_SYS_ADMIN here (a container?)"


def test_refused_absent_removes_entry_and_warns(monkeypatch, tmp_path: Path) -> None:
    (tmp_path / "mnt").mkdir()
    (tmp_path / "fstab").write_text(f"tmpfs {tmp_path}/mnt tmpfs defaults 0 0\n")
    host = Host(monkeypatch, cap=False, mounted={str(tmp_path / "mnt"): "tmpfs"})
    result = host.run({"path": str(tmp_path / "mnt"), "state": "absent", "fstab": str(tmp_path / "fstab")})
    assert result["status"] == "changed"
    assert result["warnings"] == [f"mount {tmp_path / 'mnt'}: fstab entry removed, not unmounted: no CAP_SYS_ADMIN "
                                  "here (a container?)"]
    assert (tmp_path / "fstab").read_text() == "" and (tmp_path / "mnt").is_dir()


def test_mount_creates_mount_point_and_mounts(monkeypatch, tmp_path: Path) -> None:
    host = Host(monkeypatch, cap=True)
    check = host.run(_mounted(tmp_path), check=True)
    assert check["status"] == "changed" and sorted(check["diff"]["fields"]) == ["content", "mounted"]
    result = host.run(_mounted(tmp_path))
    assert result["status"] == "changed" and "warnings" not in result, result
    assert host.calls == [["mount", "-T", str(tmp_path / "fstab"), str(tmp_path / "mnt")]]
    assert (tmp_path / "mnt").is_dir() and result["data"]["mounted"] is True
    assert host.run(_mounted(tmp_path))["status"] == "ok"


def test_changed_entry_of_a_mounted_path_is_remounted(monkeypatch, tmp_path: Path) -> None:
    (tmp_path / "mnt").mkdir()
    host = Host(monkeypatch, cap=True, mounted={str(tmp_path / "mnt"): "tmpfs"})
    result = host.run(_mounted(tmp_path, opts="size=2m"))
    assert result["status"] == "changed"
    assert host.calls == [["mount", "-o", "remount", "-T", str(tmp_path / "fstab"), str(tmp_path / "mnt")]]


def test_failed_mount_restores_fstab_and_removes_created_dirs(monkeypatch, tmp_path: Path) -> None:
    (tmp_path / "fstab").write_text("# old\n")
    host = Host(monkeypatch, cap=True, fail="mount: /mnt: special device nope does not exist.")
    result = host.run(_mounted(tmp_path, path=str(tmp_path / "a/b")))
    assert result["status"] == "failed"
    assert result["msg"] == f"Error mounting {tmp_path}/a/b: mount: /mnt: special device nope does not exist."
    assert (tmp_path / "fstab").read_text() == "# old\n" and not (tmp_path / "a").exists()


def test_remounted_is_always_changed(monkeypatch, tmp_path: Path) -> None:
    host = Host(monkeypatch, cap=True, mounted={str(tmp_path): "tmpfs"})
    for _ in range(2):
        result = host.run({"path": str(tmp_path), "state": "remounted"})
        assert result["status"] == "changed", result
    assert host.calls == [["mount", "-o", "remount", str(tmp_path)]] * 2


def test_ephemeral_from_another_source_fails(monkeypatch, tmp_path: Path) -> None:
    host = Host(monkeypatch, cap=True, mounted={str(tmp_path): "/dev/other"})
    result = host.run({"path": str(tmp_path), "state": "ephemeral", "src": "tmpfs", "fstype": "tmpfs"})
    assert result["status"] == "failed" and "different source" in result["msg"]


@pytest.mark.parametrize(("content", "removed"), [(None, True), ("data\n", False)])
def test_absent_removes_an_empty_mount_point(monkeypatch, tmp_path: Path, content, removed: bool) -> None:
    (tmp_path / "mnt").mkdir()
    if content:
        (tmp_path / "mnt/keep").write_text(content)
    (tmp_path / "fstab").write_text(f"# c\ntmpfs {tmp_path}/mnt tmpfs defaults 0 0\n")
    host = Host(monkeypatch, cap=True)
    result = host.run({"path": str(tmp_path / "mnt"), "state": "absent", "fstab": str(tmp_path / "fstab")})
    assert result["status"] == "changed" and host.calls == []
    assert (tmp_path / "fstab").read_text() == "# c\n"
    assert (tmp_path / "mnt").exists() is not removed
