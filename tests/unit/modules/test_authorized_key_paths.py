"""authorized_key in a home its user controls: symlinks and hard links the user planted are
refused (the link named, nothing read, chowned or written through it), ``follow: true`` only
reaches what the user owns, and a symlink only root could have made is followed. As root
(the user is ``nobody``), the way the agent meets it on a real host."""

from __future__ import annotations

import json
import os
import pwd
import stat
from pathlib import Path

import pytest

from fleet.agent import safepath
from fleet.agent.errors import PathRefused, ReadOnlyHostError
from tests.conftest import require

from .conftest import run_module

ED = "AAAAC3NzaC1lZDI1NTE5AAAAIK6VxN5b4S2gR3LwqL0vZp8m0s3xHq1Yy9cB4dJt0eA1"
KEY = f"ssh-ed25519 {ED} bob@laptop"
SECRET = "root:$6$secret-hash-that-must-not-leak:19000:0:99999:7:::\n"


@pytest.fixture
def nobody() -> pwd.struct_passwd:
    require(os.geteuid() == 0, "these tests chown files to another user: they need root")
    return pwd.getpwnam("nobody")


def _home(tmp_path: Path, user: pwd.struct_passwd, ssh: bool = True) -> Path:
    """A home owned by the user (so the user may put anything in it), with ``.ssh``."""
    home = tmp_path / "home"
    home.mkdir()
    os.chown(home, user.pw_uid, user.pw_gid)
    if ssh:
        (home / ".ssh").mkdir()
        os.chown(home / ".ssh", user.pw_uid, user.pw_gid)
    return home


def _system_file(tmp_path: Path, name: str = "shadow") -> Path:
    """Stands for /etc/shadow: root's, not readable by others, secret content."""
    path = tmp_path / name
    path.write_text(SECRET)
    os.chmod(path, 0o640)
    return path


def _state(path: Path) -> tuple:
    st = path.lstat()
    body = path.read_bytes() if stat.S_ISREG(st.st_mode) else sorted(os.listdir(path))
    return st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode), body


def _run(user: pwd.struct_passwd, path: Path, check: bool = False, **extra) -> dict:
    args = {"user": user.pw_name, "key": KEY, "path": str(path), **extra}
    return run_module("authorized_key", args, check=check, diff=True)


def test_symlinked_key_directory_is_refused_in_check_mode_and_for_real(tmp_path, nobody) -> None:
    home = _home(tmp_path, nobody, ssh=False)
    etc = tmp_path / "etc"
    etc.mkdir()
    _system_file(etc, "passwd")
    (home / ".ssh").symlink_to(etc)
    before = _state(etc)
    for check in (True, False):
        result = _run(nobody, home / ".ssh" / "authorized_keys", check=check)
        assert result["status"] == "failed", result
        assert f"{home}/.ssh is a symlink to {etc}: refusing to follow it" in result["msg"]
        assert "follow: true" in result["msg"]
        assert _state(etc) == before  # not chowned to the user, not chmodded, no file added


def test_symlinked_key_file_is_refused_and_nothing_of_its_target_is_read(tmp_path, nobody) -> None:
    home = _home(tmp_path, nobody)
    shadow = _system_file(tmp_path)
    link = home / ".ssh" / "authorized_keys"
    link.symlink_to(shadow)
    before = _state(shadow)
    for check in (True, False):
        result = _run(nobody, link, check=check)
        assert result["status"] == "failed", result
        assert result["msg"].startswith(f"{link} is a symlink to {shadow}: refusing to follow it")
        assert "secret-hash" not in json.dumps(result)
    assert _state(shadow) == before
    assert link.is_symlink() and os.listdir(home / ".ssh") == ["authorized_keys"]


def test_follow_reaches_only_what_the_user_owns(tmp_path, nobody) -> None:
    home = _home(tmp_path, nobody)
    shadow = _system_file(tmp_path)
    link = home / ".ssh" / "authorized_keys"
    link.symlink_to(shadow)
    before = _state(shadow)
    result = _run(nobody, link, follow=True)
    assert result["status"] == "failed", result
    assert f"{shadow}, reached through a symlink, belongs to root, not nobody" in result["msg"]
    assert _state(shadow) == before and "secret-hash" not in json.dumps(result)

    link.unlink()
    (home / ".ssh").rmdir()
    (home / ".ssh").symlink_to(tmp_path)  # a directory of root's
    result = _run(nobody, home / ".ssh" / "authorized_keys", follow=True)
    assert result["status"] == "failed", result
    assert "leads to a directory of root, not nobody" in result["msg"]
    assert not (tmp_path / "authorized_keys").exists()


def test_follow_writes_through_a_link_to_the_users_own_file_and_keeps_the_link(tmp_path, nobody) -> None:
    home = _home(tmp_path, nobody)
    dotfiles = home / "dotfiles"
    dotfiles.mkdir()
    own = dotfiles / "keys"
    own.write_text("")
    for path in (dotfiles, own):
        os.chown(path, nobody.pw_uid, nobody.pw_gid)
    link = home / ".ssh" / "authorized_keys"
    link.symlink_to("../dotfiles/keys")
    first = _run(nobody, link, follow=True)
    assert first["status"] == "changed", first
    assert first["data"]["keyfile"] == str(own)
    assert link.is_symlink() and os.readlink(link) == "../dotfiles/keys"
    assert own.read_text() == KEY + "\n"
    assert _state(own)[:3] == (nobody.pw_uid, nobody.pw_gid, 0o600)
    assert _state(home / ".ssh")[2] == 0o700 and _state(dotfiles)[2] == 0o755  # the link's directory
    assert _run(nobody, link, follow=True)["status"] == "ok"
    refused = _run(nobody, link)  # without follow the same link is refused
    assert refused["status"] == "failed" and "is a symlink to ../dotfiles/keys" in refused["msg"]


def test_hard_link_to_a_file_the_user_does_not_own_is_refused(tmp_path, nobody) -> None:
    home = _home(tmp_path, nobody)
    shadow = _system_file(tmp_path)
    os.link(shadow, home / ".ssh" / "authorized_keys")  # possible where fs.protected_hardlinks=0
    before = _state(shadow)
    result = _run(nobody, home / ".ssh" / "authorized_keys")
    assert result["status"] == "failed", result
    assert "has 2 hard links and belongs to root" in result["msg"]
    assert _state(shadow) == before and "secret-hash" not in json.dumps(result)


def test_fifo_as_key_file_is_refused_without_blocking(tmp_path, nobody) -> None:
    home = _home(tmp_path, nobody)
    os.mkfifo(home / ".ssh" / "authorized_keys")
    result = _run(nobody, home / ".ssh" / "authorized_keys")
    assert result["status"] == "failed" and "is not a regular file" in result["msg"], result


def test_symlink_only_root_could_make_is_followed(tmp_path, nobody) -> None:
    real = tmp_path / "data" / "bob"
    real.mkdir(parents=True)
    os.chown(real, nobody.pw_uid, nobody.pw_gid)
    homes = tmp_path / "homes"
    homes.mkdir(mode=0o755)
    (homes / "bob").symlink_to(real)  # /home/bob -> /data/bob, made by root
    result = _run(nobody, homes / "bob" / ".ssh" / "authorized_keys")
    assert result["status"] == "changed", result
    assert result["data"]["keyfile"] == str(real / ".ssh" / "authorized_keys")
    assert _state(real / ".ssh")[:3] == (nobody.pw_uid, nobody.pw_gid, 0o700)
    assert _state(real / ".ssh" / "authorized_keys")[:3] == (nobody.pw_uid, nobody.pw_gid, 0o600)


def test_missing_key_directory_is_created_through_descriptors(tmp_path, nobody) -> None:
    home = _home(tmp_path, nobody, ssh=False)
    result = _run(nobody, home / ".ssh" / "authorized_keys")
    assert result["status"] == "changed", result
    assert _state(home / ".ssh")[:3] == (nobody.pw_uid, nobody.pw_gid, 0o700)
    assert (home / ".ssh" / "authorized_keys").read_text() == KEY + "\n"


# -- locate() on its own: no root needed ---------------------------------------------------


def test_a_symlink_in_a_directory_others_can_write_is_refused_unless_followed(tmp_path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o1777)  # like /tmp: anyone may have made the link
    (tmp_path / "target").mkdir()
    (shared / "dir").symlink_to(tmp_path / "target")
    with pytest.raises(PathRefused, match="shared/dir is a symlink to .*target: refusing"):
        safepath.locate(str(shared / "dir" / "file"), False)
    with safepath.locate(str(shared / "dir" / "file"), False, follow=True, owner=os.geteuid()) as found:
        assert found.path == str(tmp_path / "target" / "file")


def test_guarded_components_are_not_followed_even_where_only_root_writes(tmp_path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to("real")
    with safepath.locate(str(tmp_path / "link" / "f"), False) as found:  # not guarded: followed
        assert found.path == str(tmp_path / "real" / "f")
    with pytest.raises(PathRefused, match="link is a symlink to real"):
        safepath.locate(str(tmp_path / "link" / "f"), False, guard=2)


def test_symlink_loops_and_links_someone_else_made_to_nowhere_are_refused(tmp_path) -> None:
    (tmp_path / "a").symlink_to("b")
    (tmp_path / "b").symlink_to("a")
    with pytest.raises(PathRefused, match="too many levels"):
        safepath.locate(str(tmp_path / "a" / "f"), False)
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o777)
    (shared / "gone").symlink_to(tmp_path / "nowhere" / "deeper")
    with pytest.raises(PathRefused, match="does not exist"):
        safepath.locate(str(shared / "gone" / "f"), False, follow=True, owner=os.geteuid())
    (tmp_path / "planned").symlink_to("nowhere/deeper")  # root's own link: made like mkdir -p
    with safepath.locate(str(tmp_path / "planned" / "f"), False) as found:
        assert found.missing == ["nowhere", "deeper"] and found.path == str(tmp_path / "nowhere/deeper/f")


def test_missing_directories_are_reported_not_made_by_a_reader(tmp_path) -> None:
    with safepath.locate(str(tmp_path / "x" / "y" / "f"), False) as found:
        assert found.missing == ["x", "y"] and found.name == "f"
        assert found.read() == (None, None) and found.dir_stat() is None
        with pytest.raises(ReadOnlyHostError):
            found.make_dirs()
