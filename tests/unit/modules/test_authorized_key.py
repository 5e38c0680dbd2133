"""authorized_key: parsing key lines (options with quoted commas and spaces), the file edit
(present, absent, exclusive, options/comment changes), URL keys, and whole runs for the user
running the tests (so no root is needed: the file and directory are chowned to that user)."""

from __future__ import annotations

import http.server
import os
import pwd
import threading
from pathlib import Path

import pytest

from .conftest import load_module, run_module

ak = load_module("authorized_key")

ED = "AAAAC3NzaC1lZDI1NTE5AAAAIK6VxN5b4S2gR3LwqL0vZp8m0s3xHq1Yy9cB4dJt0eA1"
RSA = "AAAAB3NzaC1yc2EAAAADAQABAAABAQDx" + "Q" * 40
ECDSA = "AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBO" + "Z" * 30


@pytest.mark.parametrize(("line", "parsed"), [
    (f"ssh-ed25519 {ED} alice@laptop", ([], "ssh-ed25519", ED, "alice@laptop")),
    (f"ssh-ed25519 {ED}", ([], "ssh-ed25519", ED, "")),
    (f"ssh-rsa {RSA} two words  comment\n", ([], "ssh-rsa", RSA, "two words  comment")),
    (f'from="10.0.0.1,10.0.0.2",no-pty ecdsa-sha2-nistp256 {ECDSA} c',
     (['from="10.0.0.1,10.0.0.2"', "no-pty"], "ecdsa-sha2-nistp256", ECDSA, "c")),
    (f'command="echo a, b c",environment="X=1" ssh-ed25519 {ED} k',
     (['command="echo a, b c"', 'environment="X=1"'], "ssh-ed25519", ED, "k")),
    (f'command="say \\"hi there\\"" ssh-ed25519 {ED}',
     (['command="say \\"hi there\\""'], "ssh-ed25519", ED, "")),
    (f"cert-authority,principals=\"a,b\" ssh-ed25519-cert-v01@openssh.com {ED}",
     (["cert-authority", 'principals="a,b"'], "ssh-ed25519-cert-v01@openssh.com", ED, "")),
    (f"  sk-ssh-ed25519@openssh.com {ED} yubi", ([], "sk-ssh-ed25519@openssh.com", ED, "yubi")),
])
def test_parse_key(line: str, parsed: tuple) -> None:
    key = ak.parse_key(line)
    assert key is not None
    assert (key["options"], key["type"], key["blob"], key["comment"]) == parsed


@pytest.mark.parametrize("line", ["", "   \n", "# ssh-ed25519 AAAA c", "ssh-foo AAAA", "no-pty", "ssh-ed25519"])
def test_not_a_key(line: str) -> None:
    assert ak.parse_key(line) is None


def test_render_roundtrip() -> None:
    line = f'from="a,b",no-pty ssh-ed25519 {ED} me\n'
    assert ak.render(ak.parse_key(line)) == line
    assert ak.render(ak.parse_key(f"ssh-ed25519 {ED} \n")) == f"ssh-ed25519 {ED}\n"  # Ansible's trailing space


def keys(text: str, **params) -> list:
    return ak.given_keys(ak.Params(user="u", key=text, **params), text)


def test_given_keys_skip_blank_and_comment_lines_and_apply_overrides() -> None:
    got = keys(f"# team keys\n\nssh-ed25519 {ED} a\n\\# not a key\nssh-rsa {RSA} b\n",
               key_options="no-pty,from=\"x,y\"", comment="fleet")
    assert [(k["type"], k["options"], k["comment"]) for k in got] == [
        ("ssh-ed25519", ["no-pty", 'from="x,y"'], "fleet"), ("ssh-rsa", ["no-pty", 'from="x,y"'], "fleet")]
    with pytest.raises(ak.ModuleFailure, match="invalid key specified: not-a-key"):
        keys("not-a-key AAAA")


OLD = f"# my keys\nssh-rsa {RSA} old\n\nno-pty ssh-ed25519 {ED} laptop\n"


def test_present_adds_missing_key_at_the_end_keeping_other_lines() -> None:
    new = ak.edit(OLD, keys(f"ecdsa-sha2-nistp256 {ECDSA} new"), "present", False)
    assert new == OLD + f"ecdsa-sha2-nistp256 {ECDSA} new\n"
    assert ak.edit("x", keys(f"ssh-ed25519 {ED}"), "present", False) == f"x\nssh-ed25519 {ED}\n"


def test_present_same_key_same_options_is_unchanged_whatever_the_option_order() -> None:
    text = f'no-pty,from="a" ssh-ed25519 {ED} c\n'
    assert ak.edit(text, keys(f'from="a",no-pty ssh-ed25519 {ED} c'), "present", False) == text


def test_present_rewrites_an_entry_whose_options_or_comment_differ_in_place() -> None:
    new = ak.edit(OLD, keys(f"ssh-ed25519 {ED} laptop"), "present", False)
    assert new == f"# my keys\nssh-rsa {RSA} old\n\nssh-ed25519 {ED} laptop\n"
    new = ak.edit(OLD, keys(f"ssh-rsa {RSA} renamed", key_options="no-agent-forwarding"), "present", False)
    assert new.splitlines()[1] == f"no-agent-forwarding ssh-rsa {RSA} renamed"


def test_present_drops_duplicates_of_a_given_key() -> None:
    text = f"ssh-ed25519 {ED} a\nssh-rsa {RSA}\nssh-ed25519 {ED} a\n"
    assert ak.edit(text, keys(f"ssh-ed25519 {ED} a"), "present", False) == f"ssh-ed25519 {ED} a\nssh-rsa {RSA}\n"


def test_absent_removes_the_key_whatever_its_options() -> None:
    assert ak.edit(OLD, keys(f"ssh-ed25519 {ED}"), "absent", False) == f"# my keys\nssh-rsa {RSA} old\n\n"
    assert ak.edit(OLD, keys(f"ssh-ed25519 {ED}"), "absent", True) == f"# my keys\nssh-rsa {RSA} old\n\n"


def test_exclusive_keeps_only_the_given_keys() -> None:
    given = keys(f"ecdsa-sha2-nistp256 {ECDSA} new\nno-pty ssh-ed25519 {ED} laptop")
    assert ak.edit(OLD, given, "present", True) == f"no-pty ssh-ed25519 {ED} laptop\necdsa-sha2-nistp256 {ECDSA} new\n"


# -- whole runs for the current user --------------------------------------------------------


ME = pwd.getpwuid(os.getuid()).pw_name


def test_run_creates_dir_and_file_with_modes_then_is_idempotent(tmp_path: Path) -> None:
    path = tmp_path / "ssh" / "authorized_keys"
    args = {"user": ME, "key": f"ssh-ed25519 {ED} me", "path": str(path)}
    check = run_module("authorized_key", args, check=True, diff=True)
    assert check["status"] == "changed" and not path.parent.exists()
    assert check["diff"]["after"]["content"] == f"ssh-ed25519 {ED} me\n"
    first = run_module("authorized_key", args)
    assert first["status"] == "changed", first
    assert path.read_text() == f"ssh-ed25519 {ED} me\n"
    assert f"{path.stat().st_mode & 0o7777:04o}" == "0600"
    assert f"{path.parent.stat().st_mode & 0o7777:04o}" == "0700"
    assert first["data"]["keyfile"] == str(path)
    assert run_module("authorized_key", args)["status"] == "ok"
    os.chmod(path, 0o644)  # drift: the mode is enforced again
    drift = run_module("authorized_key", args, check=True)
    assert drift["diff"]["fields"] == ["mode"]
    assert run_module("authorized_key", args)["status"] == "changed"
    assert path.stat().st_mode & 0o777 == 0o600


def test_run_manage_dir_false_leaves_dir_mode(tmp_path: Path) -> None:
    os.chmod(tmp_path, 0o755)
    path = tmp_path / "keys"
    args = {"user": ME, "key": f"ssh-ed25519 {ED}", "path": str(path), "manage_dir": False}
    assert run_module("authorized_key", args)["status"] == "changed"
    assert tmp_path.stat().st_mode & 0o777 == 0o755


def test_run_exclusive_then_absent(tmp_path: Path) -> None:
    path = tmp_path / "keys"
    path.write_text(OLD)
    os.chmod(path, 0o600)
    args = {"user": ME, "key": f"ssh-ed25519 {ED} only", "path": str(path), "exclusive": True,
            "manage_dir": False}
    assert run_module("authorized_key", args)["status"] == "changed"
    assert path.read_text() == f"ssh-ed25519 {ED} only\n"
    gone = run_module("authorized_key", {**args, "state": "absent", "exclusive": False})
    assert gone["status"] == "changed" and path.read_text() == ""


def test_follow_writes_through_a_symlink(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.write_text("")
    link = tmp_path / "link"
    link.symlink_to(real)
    args = {"user": ME, "key": f"ssh-ed25519 {ED}", "path": str(link), "follow": True, "manage_dir": False}
    assert run_module("authorized_key", args)["status"] == "changed"
    assert link.is_symlink() and real.read_text() == f"ssh-ed25519 {ED}\n"


def test_missing_user_is_a_pending_change_in_check_mode_and_fails_for_real(tmp_path: Path) -> None:
    args = {"user": "no-such-user-fleet", "key": f"ssh-ed25519 {ED}"}
    check = run_module("authorized_key", args, check=True)
    assert check["status"] == "changed" and check["diff"]["after"] == {"user_exists": True}
    real = run_module("authorized_key", args)
    assert real["status"] == "failed" and "no-such-user-fleet" in real["msg"]
    assert run_module("authorized_key", {**args, "state": "absent"})["status"] == "ok"


def test_key_from_url(tmp_path: Path) -> None:
    body = f"ssh-ed25519 {ED} from-url\nssh-rsa {RSA} second\n".encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            code = 200 if self.path == "/alice.keys" else 404
            self.send_response(code)
            self.end_headers()
            if code == 200:
                self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_port}"
        path = tmp_path / "keys"
        args = {"user": ME, "key": f"{base}/alice.keys", "path": str(path), "manage_dir": False}
        assert run_module("authorized_key", args)["status"] == "changed"
        assert path.read_bytes() == body
        missing = run_module("authorized_key", {**args, "key": f"{base}/nobody.keys"})
        assert missing["status"] == "failed" and "Error getting key from" in missing["msg"]
    finally:
        server.shutdown()
        server.server_close()
