"""Where the daemon lives: the default directory, and directories fleet refuses to use."""

from __future__ import annotations

import os
import socket
import stat
from pathlib import Path

import pytest

from fleet.connection.mux.place import ENV_DIR, UnsafePlace, check_peer, default_dir, mux_dir
from tests.conftest import require

OTHER = 65534


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    monkeypatch.delenv(ENV_DIR, raising=False)
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    return monkeypatch


def _no_run_user() -> bool:
    return not Path(f"/run/user/{os.geteuid()}").exists()


def test_the_runtime_directory_is_the_default_when_it_is_the_users(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    env.setenv("XDG_RUNTIME_DIR", str(runtime))
    assert default_dir() == runtime / "fleet-mux"
    assert mux_dir() == runtime / "fleet-mux"
    assert stat.S_IMODE((runtime / "fleet-mux").stat().st_mode) == 0o700


@pytest.mark.parametrize("problem", ["open", "relative", "missing"])
def test_a_runtime_directory_that_is_not_private_is_passed_over(env: pytest.MonkeyPatch, tmp_path: Path,
                                                                problem: str) -> None:
    require(_no_run_user(), "/run/user/UID exists here, and would be the next choice")
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    if problem == "open":
        runtime.chmod(0o755)
    env.setenv("XDG_RUNTIME_DIR", {"open": str(runtime), "relative": "runtime", "missing": str(tmp_path / "no")}[problem])
    assert default_dir() == tmp_path / "home" / ".fleet" / "mux"


def test_another_users_runtime_directory_is_passed_over(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    require(os.geteuid() == 0, "giving a directory to another user needs root")
    require(_no_run_user(), "/run/user/UID exists here, and would be the next choice")
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    os.chown(runtime, OTHER, OTHER)
    env.setenv("XDG_RUNTIME_DIR", str(runtime))
    assert default_dir() == tmp_path / "home" / ".fleet" / "mux"


def test_fleet_mux_dir_wins_and_is_made_private(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    env.setenv(ENV_DIR, str(tmp_path / "a" / "b"))
    assert mux_dir() == tmp_path / "a" / "b"
    assert stat.S_IMODE((tmp_path / "a" / "b").stat().st_mode) == 0o700
    (tmp_path / "a" / "b").chmod(0o750)  # readable by the group: ours, so just closed again
    assert mux_dir() == tmp_path / "a" / "b"
    assert stat.S_IMODE((tmp_path / "a" / "b").stat().st_mode) == 0o700


@pytest.mark.parametrize("mode", [0o777, 0o770, 0o1777])
def test_a_directory_others_can_write_is_refused(env: pytest.MonkeyPatch, tmp_path: Path, mode: int) -> None:
    directory = tmp_path / "mux"
    directory.mkdir()
    directory.chmod(mode)
    env.setenv(ENV_DIR, str(directory))
    with pytest.raises(UnsafePlace, match=rf"its directory {directory} \(\$FLEET_MUX_DIR\) is writable by others"):
        mux_dir()
    assert stat.S_IMODE(directory.stat().st_mode) == mode  # left as it was


def test_a_directory_of_another_user_is_refused(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    require(os.geteuid() == 0, "giving a directory to another user needs root")
    directory = tmp_path / "mux"
    directory.mkdir(mode=0o700)
    os.chown(directory, OTHER, OTHER)
    env.setenv(ENV_DIR, str(directory))
    with pytest.raises(UnsafePlace, match=f"belongs to uid {OTHER}, not to you"):
        mux_dir()


def test_a_directory_inside_one_others_can_write_is_refused(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)  # anyone could rename our directory away and put theirs in its place
    env.setenv(ENV_DIR, str(shared / "mux"))
    with pytest.raises(UnsafePlace, match=f"is inside {shared}, which others can write"):
        mux_dir()
    assert not (shared / "mux").exists()
    shared.chmod(0o1777)  # sticky, as /tmp: nobody can rename what is ours
    assert mux_dir() == shared / "mux"


def test_a_symlink_to_another_users_directory_is_refused(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    require(os.geteuid() == 0, "giving a directory to another user needs root")
    theirs = tmp_path / "theirs"
    theirs.mkdir(mode=0o700)
    os.chown(theirs, OTHER, OTHER)
    (tmp_path / "link").symlink_to(theirs)
    env.setenv(ENV_DIR, str(tmp_path / "link"))
    with pytest.raises(UnsafePlace, match=f"belongs to uid {OTHER}"):
        mux_dir()


def test_the_peer_of_a_socket_is_checked() -> None:
    one, two = socket.socketpair(socket.AF_UNIX)
    with one, two:
        assert check_peer(one, "pair").pid == os.getpid()
