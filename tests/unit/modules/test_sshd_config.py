"""sshd_config: rendering, main-file edits, Include/first-value-wins analysis, ``sshd -T``
parsing, validation with the real ``sshd -t`` (when installed) and snapshot/revert."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from fleet.agent import systemctl
from fleet.agent.hostio import HostReader, HostWriter
from tests.conftest import require

from .conftest import load_module

M = load_module("sshd_config")
HEADER = M.HEADER


def _params(**kw):
    kw.setdefault("validate", None)
    kw.setdefault("reload", False)
    return kw


def _tree(tmp_path: Path, main: str, dropins: dict[str, str] | None = None) -> tuple[Path, Path]:
    """A main config (``@D@`` = the drop-in directory) and drop-ins; returns (main, dir)."""
    d = tmp_path / "sshd_config.d"
    d.mkdir()
    main_path = tmp_path / "sshd_config"
    main_path.write_text(main.replace("@D@", str(d)))
    for name, text in (dropins or {}).items():
        (d / name).write_text(text)
    return main_path, d


# -- pure rendering ---------------------------------------------------------------------


def test_values_render_by_keyword_kind():
    text = M.render_dropin({
        "PermitRootLogin": "prohibit-password", "PasswordAuthentication": False, "X11Forwarding": True,
        "MaxAuthTries": 3, "MACs": ["hmac-sha2-512-etm@openssh.com", "hmac-sha2-256-etm@openssh.com"],
        "KexAlgorithms": ["curve25519-sha256"], "AllowGroups": ["admins", "ops"],
        "ListenAddress": ["0.0.0.0", "[::]:2222"], "AcceptEnv": ["LANG", "LC_*"],
    })
    assert text == HEADER + (
        "PermitRootLogin prohibit-password\nPasswordAuthentication no\nX11Forwarding yes\n"
        "MaxAuthTries 3\nMACs hmac-sha2-512-etm@openssh.com,hmac-sha2-256-etm@openssh.com\n"
        "KexAlgorithms curve25519-sha256\nAllowGroups admins ops\n"
        "ListenAddress 0.0.0.0\nListenAddress [::]:2222\nAcceptEnv LANG LC_*\n")


@pytest.mark.parametrize(("settings", "message"), [
    ({"Ciphers": []}, "an empty list sets nothing"),
    ({"UseDNS": None}, "a value is required"),
    ({"Include": "/tmp/x"}, "Include is not managed"),
    ({"UseDNS": "  "}, "is not a one-line value"),
    ({"ChallengeResponseAuthentication": "no", "KbdInteractiveAuthentication": "no"}, "given twice"),
])
def test_bad_settings_refused(settings, message):
    with pytest.raises(M.ModuleFailure, match=message):
        M.setting_lines(settings)


def test_split_line_forms():
    assert M.split_line("  PasswordAuthentication=no\n") == ("passwordauthentication", "no")
    assert M.split_line("Subsystem\tsftp  internal-sftp\n") == ("subsystem", "sftp  internal-sftp")
    assert M.split_line("# UseDNS no\n") == (None, None)
    assert M.split_line("\n") == (None, None)
    assert M.split_line("ChallengeResponseAuthentication no")[0] == "kbdinteractiveauthentication"


def test_edit_main_repeated_keyword_owns_all_its_lines():
    text = "Port 22\nUseDNS no\nPort 2022\n"
    assert M.edit_main(text, {"Port": [22, 2222]}, False) == "Port 22\nPort 2222\nUseDNS no\n"
    assert M.edit_main("Port 22\nPort 2222\n", {"Port": [22, 2222]}, False) == "Port 22\nPort 2222\n"


def test_edit_main_adds_newline_to_last_line_and_appends():
    assert M.edit_main("UsePAM yes", {"UseDNS": False}, False) == "UsePAM yes\nUseDNS no\n"


def test_parse_sshd_t_accumulates_repeated_keywords():
    out = "port 22\nport 2222\nallowusers alice\nallowusers bob\npasswordauthentication no\n" \
          "ciphers aes256-gcm@openssh.com,chacha20-poly1305@openssh.com\n"
    parsed = M.parse_sshd_t(out)
    assert parsed["port"] == ["22", "2222"]
    assert parsed["allowusers"] == ["alice", "bob"]
    assert parsed["passwordauthentication"] == ["no"]
    assert parsed["ciphers"] == ["aes256-gcm@openssh.com,chacha20-poly1305@openssh.com"]


def test_glob_covers_component_wise():
    assert M.glob_covers("/etc/ssh/sshd_config.d/*.conf", "/etc/ssh/sshd_config.d/50-fleet.conf")
    assert not M.glob_covers("/etc/ssh/sshd_config.d/*.conf", "/etc/ssh/sshd_config.d/x/50.conf")
    assert not M.glob_covers("/etc/ssh/sshd_config.d/*.conf", "/etc/ssh/sshd_config.d/50.txt")
    assert M.glob_covers("sshd_config.d/*.conf", "/etc/ssh/sshd_config.d/50.conf")  # relative: /etc/ssh


# -- Include analysis: which file wins --------------------------------------------------


def test_validation_main_names_candidate_in_glob_order(tmp_path):
    main, d = _tree(tmp_path, "Include @D@/*.conf /etc/other.conf\nUsePAM yes\n",
                    {"10-a.conf": "", "90-z.conf": "", "50-fleet.conf": "old"})
    text = M.validation_main(main.read_text(), str(d / "50-fleet.conf"), "/tmp/cand")
    assert text == f"Include {d}/10-a.conf /tmp/cand {d}/90-z.conf /etc/other.conf\nUsePAM yes\n"
    gone = M.validation_main(main.read_text(), str(d / "50-fleet.conf"), None)
    assert gone.startswith(f"Include {d}/10-a.conf {d}/90-z.conf /etc/other.conf\n")
    (d / "10-a.conf").unlink()
    (d / "90-z.conf").unlink()
    only = M.validation_main(f"Include {d}/*.conf\n", str(d / "50-fleet.conf"), None)
    assert only == "# (include emptied for validation)\n"


def test_earlier_dropin_wins_and_is_a_warning_after_apply(tmp_path, run):
    main, d = _tree(tmp_path, "Include @D@/*.conf\nPasswordAuthentication no\n",
                    {"10-vendor.conf": "PasswordAuthentication yes\n"})
    args = _params(path=str(d / "50-fleet.conf"), main_config=str(main),
                   settings={"PasswordAuthentication": "no", "UseDNS": "no"})
    result = run("sshd_config", args)
    assert result["status"] == "changed"
    why = f"{d}/10-vendor.conf:1 sets yes first (sshd uses the first value)"
    assert result["data"]["overridden"] == {"PasswordAuthentication": why}
    assert result["warnings"] == [f"PasswordAuthentication: {why}"]
    assert result["data"]["included"] is True
    again = run("sshd_config", args)
    assert again["status"] == "ok" and again["data"]["overridden"] == {"PasswordAuthentication": why}


def test_dropin_beats_later_main_file_lines(tmp_path, run):
    main, d = _tree(tmp_path, "Include @D@/*.conf\nPasswordAuthentication yes\nX11Forwarding yes\n",
                    {"fleet-lab.conf": "UseDNS no\n"})
    result = run("sshd_config", _params(path=str(d / "50-fleet.conf"), main_config=str(main),
                                        settings={"PasswordAuthentication": False}))
    assert result["status"] == "changed" and "warnings" not in result
    assert result["data"]["overridden"] == {}


def test_accumulating_keyword_reports_every_other_source(tmp_path, run):
    main, d = _tree(tmp_path, "Include @D@/*.conf\nAllowUsers carol\n")
    result = run("sshd_config", _params(path=str(d / "50-fleet.conf"), main_config=str(main),
                                        settings={"AllowUsers": ["alice"]}))
    assert result["data"]["overridden"] == {
        "AllowUsers": f"values accumulate: {main}:2 adds carol"}


def test_match_block_in_included_file_ends_at_its_end(tmp_path, run):
    main, d = _tree(tmp_path, "Include @D@/*.conf\nUseDNS yes\n",
                    {"10-match.conf": "Match User bob\nUseDNS yes\n"})
    result = run("sshd_config", _params(path=str(d / "50-fleet.conf"), main_config=str(main),
                                        settings={"UseDNS": "no"}))
    assert result["data"]["overridden"] == {}
    records = M.records(HostReader(), str(main), str(d / "50-fleet.conf"), b"UseDNS no\n")
    assert [(k, v, Path(f).name) for k, v, f, _n in records] == [
        ("usedns", "no", "50-fleet.conf"), ("usedns", "yes", "sshd_config")]


def test_main_file_mode_line_loses_to_dropin(tmp_path, run):
    main, d = _tree(tmp_path, "Include @D@/*.conf\nPasswordAuthentication yes\n",
                    {"fleet-lab.conf": "PasswordAuthentication yes\n"})
    result = run("sshd_config", _params(path=str(main), main_config=str(main),
                                        settings={"PasswordAuthentication": False}))
    assert result["status"] == "changed"
    assert main.read_text().endswith("PasswordAuthentication no\n")
    assert result["warnings"] == [
        f"PasswordAuthentication: {d}/fleet-lab.conf:1 sets yes first (sshd uses the first value)"]


def test_dropin_outside_includes_warns(tmp_path, run):
    main, d = _tree(tmp_path, "UsePAM yes\n")
    result = run("sshd_config", _params(path=str(d / "50-fleet.conf"), main_config=str(main),
                                        settings={"UseDNS": False}))
    assert result["status"] == "changed"
    assert result["warnings"] == [f"path: {main} does not include {d}/50-fleet.conf: it has no effect"]


# -- the real sshd -t / sshd -T ----------------------------------------------------------


@pytest.fixture
def real_sshd(tmp_path):
    sshd = M.find_program("sshd")
    require(sshd is not None and shutil.which("ssh-keygen") is not None,
            "sshd / ssh-keygen not installed (apt-get install openssh-server)")
    key = tmp_path / "hostkey"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    main, d = _tree(tmp_path, f"Include @D@/*.conf\nHostKey {key}\nPasswordAuthentication yes\n")
    probe = subprocess.run([sshd, "-t", "-f", str(main)], capture_output=True, text=True)
    require(probe.returncode == 0, f"sshd -t cannot run here: {probe.stderr.strip()}")
    return main, d


def test_sshd_t_validates_dropin_in_place_and_refusal_replaces_nothing(real_sshd, run):
    main, d = real_sshd
    target = d / "50-fleet.conf"
    args = dict(path=str(target), main_config=str(main), reload=False)
    ok = run("sshd_config", {**args, "settings": {"ClientAliveInterval": 300, "PasswordAuthentication": "no"}})
    assert ok["status"] == "changed", ok
    good = target.read_bytes()
    assert ok["data"]["effective"] == {"ClientAliveInterval": "300", "PasswordAuthentication": "no"}

    bad = run("sshd_config", {**args, "settings": {"PasswordAuthentication": "maybe"}})
    assert bad["status"] == "failed"
    assert "sshd refused the new configuration, nothing was replaced" in bad["msg"]
    assert 'unsupported option "maybe"' in bad["msg"]
    assert target.read_bytes() == good
    assert sorted(p.name for p in d.iterdir()) == ["50-fleet.conf"]  # no temp files left


def test_sshd_t_checks_a_dropin_nothing_includes_on_its_own(real_sshd, run, tmp_path):
    main, _d = real_sshd
    elsewhere = tmp_path / "other" / "fleet.conf"
    result = run("sshd_config", {"path": str(elsewhere), "main_config": str(main), "reload": False,
                                 "settings": {"PasswordAuthentication": "maybe"}})
    assert result["status"] == "failed" and 'unsupported option "maybe"' in result["msg"], result
    assert not elsewhere.exists()


def test_missing_validator_replaces_nothing(tmp_path, run):
    main, d = _tree(tmp_path, "Include @D@/*.conf\n")
    result = run("sshd_config", {"path": str(d / "50.conf"), "main_config": str(main), "reload": False,
                                 "validate": "no-such-sshd-xyz -t -f %s", "settings": {"UseDNS": False}})
    assert result["status"] == "failed"
    assert result["msg"] == "cannot validate: no-such-sshd-xyz is not installed (openssh-server), " \
                            "nothing was replaced"
    assert not (d / "50.conf").exists()


def test_sshd_t_sees_conflicts_with_other_dropins(real_sshd, run):
    """The candidate is validated together with the rest of the tree (Subsystem twice)."""
    main, d = real_sshd
    (d / "10-sftp.conf").write_text("Subsystem sftp internal-sftp\n")
    result = run("sshd_config", {"path": str(d / "50-fleet.conf"), "main_config": str(main),
                                 "reload": False, "settings": {"Subsystem": "sftp /usr/lib/sftp"}})
    assert result["status"] == "failed" and "already defined" in result["msg"], result
    assert not (d / "50-fleet.conf").exists()


def test_sshd_t_validates_main_file_edit(real_sshd, run):
    main, _d = real_sshd
    before = main.read_bytes()
    result = run("sshd_config", {"path": str(main), "main_config": str(main), "reload": False,
                                 "settings": {"MaxAuthTries": "lots"}})
    assert result["status"] == "failed" and "nothing was replaced" in result["msg"]
    assert main.read_bytes() == before


def test_effective_reports_the_winner(real_sshd, run):
    main, d = real_sshd
    (d / "10-first.conf").write_text("ClientAliveInterval 60\n")
    result = run("sshd_config", {"path": str(d / "50-fleet.conf"), "main_config": str(main),
                                 "reload": False, "settings": {"ClientAliveInterval": 300}})
    assert result["status"] == "changed"
    assert result["data"]["effective"] == {"ClientAliveInterval": "60"}
    assert "ClientAliveInterval" in result["data"]["overridden"]


# -- a tree that has not booted yet: no host keys, no privilege separation directory -------


@pytest.fixture
def keyless(tmp_path, monkeypatch):
    """An /etc/ssh without host keys (made at first boot) whose sshd_config names one; temp
    directories go under tmp_path/tmp so the test sees what is left behind."""
    sshd = M.find_program("sshd")
    require(sshd is not None and shutil.which("ssh-keygen") is not None and os.geteuid() == 0,
            "sshd / ssh-keygen not installed, or not root (sshd -t checks its privsep dir as root)")
    etc = tmp_path / "etc-ssh"
    etc.mkdir()
    monkeypatch.setattr(M, "SSHDIR", str(etc))
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    main, d = _tree(tmp_path, f"Include @D@/*.conf\nHostKey {etc}/ssh_host_ed25519_key\n")
    probe = subprocess.run([sshd, "-t", "-f", str(main)], capture_output=True, text=True)
    require("no hostkeys available" in probe.stderr, f"sshd -t behaves otherwise here: {probe.stderr.strip()}")
    return main, d, etc


def _check(main: Path, path: Path, settings: dict, validate: str = "sshd -t -f %s") -> None:
    p = M.Params(settings=settings, path=str(path), main_config=str(main), validate=validate)
    M.check_config(p, HostWriter(0o022), {"path": str(path), "main_config": str(main)},
                   M.render_dropin(settings).encode())


def test_keyless_tree_is_checked_with_a_throwaway_key(keyless, tmp_path):
    main, d, etc = keyless
    _check(main, d / "50-fleet.conf", {"PasswordAuthentication": False})  # sshd -t alone refuses it
    with pytest.raises(M.ModuleFailure) as refused:
        _check(main, d / "50-fleet.conf", {"PasswordAuthentication": "maybe"})
    assert 'unsupported option "maybe"' in str(refused.value)
    assert "Unable to load host key" not in str(refused.value)  # the tree's missing keys are no reason
    assert list((tmp_path / "tmp").iterdir()) == [] and list(etc.iterdir()) == []  # nothing left behind


def test_a_tree_with_host_keys_is_checked_as_it_is(keyless, tmp_path):
    """Only a tree without any host key gets the throwaway one: here sshd's own refusal stands."""
    main, d, etc = keyless
    (etc / "ssh_host_rsa_key").write_text("not a key\n")
    with pytest.raises(M.ModuleFailure, match="no hostkeys available"):
        _check(main, d / "50-fleet.conf", {"PasswordAuthentication": False})


FAKE_SSHD = """#!/bin/sh
[ -d "{privsep}" ] || {{ echo "Missing privilege separation directory: {privsep}" >&2; exit 255; }}
echo "$@" > "{seen}"
[ -z "{refuse}" ] || {{ echo "line 1: Bad configuration option: Nope" >&2; exit 255; }}
"""


@pytest.mark.parametrize("refuse", ["", "yes"])
def test_missing_privsep_directory_is_made_for_the_check_only(tmp_path, monkeypatch, refuse):
    monkeypatch.setattr(M, "SSHDIR", str(tmp_path))  # host keys present: no throwaway key
    (tmp_path / "ssh_host_ed25519_key").write_text("")
    (tmp_path / "run").mkdir()
    privsep, seen = tmp_path / "run" / "sshd", tmp_path / "seen"
    fake = tmp_path / "bin" / "sshd"
    fake.parent.mkdir()
    fake.write_text(FAKE_SSHD.format(privsep=privsep, seen=seen, refuse=refuse))
    fake.chmod(0o755)
    main, d = _tree(tmp_path, "Include @D@/*.conf\n")
    if refuse:
        with pytest.raises(M.ModuleFailure, match="Bad configuration option: Nope"):
            _check(main, d / "50.conf", {"UseDNS": False}, validate=f"{fake} -t -f %s")
    else:
        _check(main, d / "50.conf", {"UseDNS": False}, validate=f"{fake} -t -f %s")
    assert seen.read_text().startswith("-t -f ")  # it ran with the directory there
    assert not privsep.exists()  # and it is gone again


# -- connection safety --------------------------------------------------------------------


@pytest.mark.parametrize("existed", [True, False])
def test_snapshot_apply_revert_round_trip(tmp_path, run, existed):
    main, d = _tree(tmp_path, "Include @D@/*.conf\n")
    target = d / "50-fleet.conf"
    if existed:
        target.write_text("UseDNS yes\n")
        target.chmod(0o600)
    p = M.Params(**_params(path=str(target), main_config=str(main), settings={"UseDNS": False}))
    snap = M.snapshot(p, HostReader())
    import json

    json.dumps(snap)  # the engine keeps it as JSON
    assert run("sshd_config", _params(path=str(target), main_config=str(main),
                                      settings={"UseDNS": False}))["status"] == "changed"
    assert target.read_text() == HEADER + "UseDNS no\n"
    M.revert(p, HostWriter(), snap)
    if existed:
        assert target.read_text() == "UseDNS yes\n"
        assert target.stat().st_mode & 0o777 == 0o600
    else:
        assert not target.exists()
    assert sorted(x.name for x in d.iterdir()) == (["50-fleet.conf"] if existed else [])


def test_snapshot_is_read_only(tmp_path):
    main, d = _tree(tmp_path, "")
    p = M.Params(**_params(path=str(d / "50-fleet.conf"), main_config=str(main)))
    assert M.snapshot(p, HostReader()) == {"files": [{"path": str(d / "50-fleet.conf"), "content": None}]}
    assert M.CONNECTION_SENSITIVE is True


# -- reloading ------------------------------------------------------------------------------


class FakeHost:
    """Records commands; ``active`` is what ``systemctl is-active`` answers."""

    def __init__(self, active: str, rc: int = 0) -> None:
        self.active, self.rc = active, rc
        self.calls: list[list[str]] = []

    def query(self, argv):
        self.calls.append(argv)
        return (0 if self.active == "active" else 3), self.active + "\n", ""

    def run(self, argv):
        self.calls.append(argv)
        return self.rc, "", "Job failed" if self.rc else ""

    def read_text(self, path, default=None):
        return default


@pytest.fixture
def systemd_running(tmp_path, monkeypatch):
    monkeypatch.setattr(systemctl, "SYSTEMD_RUNNING", str(tmp_path))


def test_reload_runs_systemctl_reload_of_the_service(systemd_running):
    host = FakeHost("active")
    assert M.reload_sshd(M.Params(service="ssh"), host) is None
    assert host.calls == [["systemctl", "is-active", "ssh"],
                          ["systemctl", "show", "-p", "MainPID", "--value", "ssh"],
                          ["systemctl", "reload", "ssh"]]


def test_listening_sees_a_new_listen_socket():
    """What the reload waits for: sshd's listening sockets replaced by new ones."""
    import socket

    before = systemctl.listening(HostReader(), str(os.getpid()))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        new = systemctl.listening(HostReader(), str(os.getpid())) - before
        assert new == {str(os.stat(f"/proc/self/fd/{sock.fileno()}").st_ino)}
    assert systemctl.listening(HostReader(), "no-such-pid") == set()


def test_reload_skipped_when_service_not_running(systemd_running):
    host = FakeHost("inactive")
    assert M.reload_sshd(M.Params(service="sshd"), host) == \
        "written, not reloaded: sshd.service is inactive"
    assert ["systemctl", "reload", "sshd"] not in host.calls


def test_chroot_never_reloads_the_build_machines_sshd(systemd_running, monkeypatch):
    """A tree with the build machine's /run mounted looks booted: the chroot marker wins."""
    monkeypatch.setenv("FLEET_CHROOT", "1")
    host = FakeHost("active")
    assert M.reload_sshd(M.Params(service="ssh"), host) == "written, not reloaded: systemd is not running"
    assert host.calls == []


def test_reload_failure_fails(systemd_running):
    with pytest.raises(M.ModuleFailure, match="systemctl reload ssh failed: Job failed"):
        M.reload_sshd(M.Params(service="ssh"), FakeHost("active", rc=1))


def test_no_systemd_is_a_warning_after_apply(tmp_path, run):
    if Path("/run/systemd/system").is_dir():
        pytest.skip("systemd runs here: the module would reload this machine's sshd")
    main, d = _tree(tmp_path, "Include @D@/*.conf\n")
    result = run("sshd_config", {"path": str(d / "50-fleet.conf"), "main_config": str(main),
                                 "validate": None, "settings": {"UseDNS": False}})
    assert result["status"] == "changed"
    assert result["warnings"] == ["reload: written, not reloaded: systemd is not running"]
