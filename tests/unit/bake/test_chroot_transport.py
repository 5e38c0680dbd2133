"""The chroot transport: registry entry, checks before starting, argv and environment."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from fleet.connection import ConnectionDefaults, transport_spec
from fleet.errors import ConnectionFailed
from fleet.transport.chroot import CHROOT_ENV, ChrootTransport, check_tree, find_in_tree


def _tree(root: Path, python: bool = True) -> Path:
    """A skeleton root filesystem: /bin/sh and (optionally) /usr/bin/python3 -> python3.11."""
    (root / "usr" / "bin").mkdir(parents=True)
    (root / "bin").symlink_to("usr/bin")  # merged /usr, as Debian has it
    for name in ("sh", *(("python3.11",) if python else ())):
        exe = root / "usr" / "bin" / name
        exe.write_text("#!/bin/false\n")
        exe.chmod(0o755)
    if python:
        (root / "usr" / "bin" / "python3").symlink_to("python3.11")
    return root


def test_inventory_entry_makes_a_chroot_spec() -> None:
    spec = transport_spec("img", {"ansible_connection": "chroot", "ansible_host": "/srv/rootfs",
                                  "ansible_python_interpreter": "/usr/bin/python3.11"}, ConnectionDefaults())
    assert spec.kind == "chroot"
    assert spec.params == {"root": "/srv/rootfs", "interpreter": "/usr/bin/python3.11"}
    transport = spec.build()
    assert isinstance(transport, ChrootTransport)
    assert transport.argv_for("echo hi") == [*ChrootTransport.isolation(), "chroot", "/srv/rootfs", "/bin/sh",
                                             "-c", "echo hi"]
    assert ChrootTransport.isolation()[1:3] == ["--uts", "--ipc"]  # unshare is part of util-linux


def test_inventory_name_is_the_directory_without_ansible_host() -> None:
    spec = transport_spec("/srv/tree", {"ansible_connection": "chroot"}, ConnectionDefaults())
    assert spec.params == {"root": "/srv/tree", "interpreter": "python3"}


def test_find_in_tree_follows_links_inside_the_tree(tmp_path: Path) -> None:
    root = _tree(tmp_path / "root")
    assert find_in_tree(str(root), "python3") == "/usr/bin/python3"  # the first on the tree's PATH
    assert find_in_tree(str(root), "/bin/sh") == "/bin/sh"
    assert find_in_tree(str(root), "/usr/bin/python9") is None
    # an absolute link is resolved inside the tree, never on the controller
    (root / "usr" / "bin" / "py").symlink_to("/usr/bin/python3.11")
    assert find_in_tree(str(root), "/usr/bin/py") == "/usr/bin/py"
    (root / "usr" / "bin" / "escape").symlink_to("/bin/true")  # /bin/true exists on the controller only
    assert find_in_tree(str(root), "/usr/bin/escape") is None
    (root / "usr" / "bin" / "loop").symlink_to("loop")
    assert find_in_tree(str(root), "/usr/bin/loop") is None


def test_checks_name_the_problem(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 0)  # the checks after the root check
    with pytest.raises(ConnectionFailed, match="does not exist"):
        check_tree(str(tmp_path / "missing"))
    (tmp_path / "file").write_text("")
    with pytest.raises(ConnectionFailed, match="is not a directory"):
        check_tree(str(tmp_path / "file"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConnectionFailed, match="has no /bin/sh"):
        check_tree(str(tmp_path / "empty"))
    bare = _tree(tmp_path / "bare", python=False)
    with pytest.raises(ConnectionFailed, match=r"no python3 on .* in the tree: install Python 3 there"):
        check_tree(str(bare))
    with pytest.raises(ConnectionFailed, match="no /opt/py/bin/python3 in the tree"):
        check_tree(str(_tree(tmp_path / "full")), "/opt/py/bin/python3")
    check_tree(str(tmp_path / "full"))  # a tree with /bin/sh and python3 passes


def test_not_root_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(ConnectionFailed, match="chroot needs root"):
        check_tree(str(_tree(tmp_path / "root")))


def test_connect_checks_the_tree(tmp_path: Path) -> None:
    with pytest.raises(ConnectionFailed, match="does not exist"):
        asyncio.run(ChrootTransport(str(tmp_path / "nowhere")).connect())


def test_agent_environment_is_the_trees_not_the_controllers() -> None:
    assert CHROOT_ENV["PATH"].split(":")[-1] == "/bin"
    assert "VIRTUAL_ENV" not in CHROOT_ENV and CHROOT_ENV["HOME"] == "/root"


def _real_tree(root: Path) -> Path:
    """A tree holding the controller's /bin/sh and hostname with the libraries they link."""
    import shutil
    import subprocess

    programs = [shutil.which("sh"), shutil.which("hostname")]
    needed: set[str] = set()
    for program in programs:
        assert program is not None
        needed.add(os.path.realpath(program))
        for line in subprocess.run(["ldd", program], capture_output=True, text=True, check=False).stdout.splitlines():
            parts = [p for p in line.split() if p.startswith("/")]
            needed.update(parts[:1])
    for path in needed:
        target = root / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
    for program in programs:
        link = root / "bin" / os.path.basename(str(program))
        link.parent.mkdir(parents=True, exist_ok=True)
        if not link.exists():
            link.symlink_to(os.path.realpath(str(program)))
    return root


def test_a_command_in_the_tree_cannot_rename_the_build_machine(tmp_path: Path) -> None:
    from tests.conftest import require

    require(os.geteuid() == 0, "chroot needs root")
    root = _real_tree(tmp_path / "tree")
    before = os.uname().nodename
    transport = ChrootTransport(str(root), check_python=False)

    async def run() -> bytes:
        agent = await transport.spawn("hostname renamed-in-tree && hostname")
        out = await agent.read_line()
        await transport.close()
        return out

    try:
        assert asyncio.run(run()).strip() == b"renamed-in-tree"  # the tree's own UTS namespace
        assert os.uname().nodename == before
    finally:
        if os.uname().nodename != before:  # the fence failed: give the machine its name back
            import subprocess

            subprocess.run(["hostname", before], check=False)
