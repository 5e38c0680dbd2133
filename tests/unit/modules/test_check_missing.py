"""Check mode on a host where an earlier task would have created what this one needs (its
directory, its owner): Ansible reports "changed" (verified with ansible-playbook --check on a
fresh directory: copy, template, file touch/link/hard, lineinfile/blockinfile create), while
the same task applied for real still fails when the directory is missing."""

from __future__ import annotations

from pathlib import Path

from .conftest import run_module

OWNER = "fleet-no-such-user-15"


def test_copy_into_a_missing_directory(tmp_path: Path) -> None:
    args = {"content": "x\n", "dest": str(tmp_path / "new" / "sub" / "f")}
    check = run_module("copy", args, check=True, diff=True)
    assert check["status"] == "changed" and "would create it" in check["msg"]
    assert check["diff"]["after"]["state"] == "file" and check["diff"]["after"]["content"] == "x\n"
    real = run_module("copy", args)
    assert real["status"] == "failed"
    assert real["msg"] == f"Destination directory {tmp_path / 'new' / 'sub'} does not exist"
    assert not (tmp_path / "new").exists()


def test_every_file_state_into_a_missing_directory_is_a_change(tmp_path: Path) -> None:
    missing = tmp_path / "new"
    for args in ({"path": str(missing / "t"), "state": "touch"},
                 {"path": str(missing / "l"), "src": "/etc/hostname", "state": "link"},
                 {"path": str(missing / "h"), "src": "/etc/hostname", "state": "hard"},
                 {"path": str(missing / "d"), "state": "directory"}):
        assert run_module("file", args, check=True)["status"] == "changed", args
    for module, args in (("lineinfile", {"path": str(missing / "l"), "line": "x", "create": True}),
                         ("blockinfile", {"path": str(missing / "b"), "block": "x", "create": True})):
        assert run_module(module, args, check=True)["status"] == "changed", module
    assert not missing.exists()


def test_a_missing_file_stays_a_failure_as_in_ansible(tmp_path: Path) -> None:
    # ansible-playbook --check: "file (PATH) is absent, cannot continue"
    result = run_module("file", {"path": str(tmp_path / "new" / "f"), "mode": "0600"}, check=True)
    assert result["status"] == "failed" and "is absent, cannot continue" in result["msg"]


def test_unknown_owner_warns_in_check_mode_as_ansible(tmp_path: Path) -> None:
    args = {"path": str(tmp_path / "d"), "state": "directory", "owner": OWNER, "group": "4242424"}
    check = run_module("file", args, check=True)
    assert check["status"] == "changed"
    assert check["warnings"] == [  # ansible.builtin.file's module.warn texts
        f"failed to look up user {OWNER}. Create user up to this point in real play",
        "failed to look up group with gid 4242424. Create group up to this point in real play"]
    assert "warnings" not in run_module("file", {**args, "state": "absent"}, check=True)


def test_sudoers_before_sudo_is_installed(tmp_path: Path) -> None:
    # community.general.sudoers in check mode: no visudo to validate with, the file is absent: changed
    args = {"name": "ops", "user": "ops", "commands": ["ALL"], "sudoers_path": str(tmp_path / "sudoers.d"),
            "validation": "absent"}
    assert run_module("sudoers", args, check=True)["status"] == "changed"
    real = run_module("sudoers", args)
    assert real["status"] == "failed" and "is sudo installed?" in real["msg"]
