"""networkd: rendering order, reload decisions (with a recording stand-in host) and
snapshot/revert round trips on temp directories."""

from __future__ import annotations

import json
import os

import pytest

from fleet.agent.hostio import HostReader, HostWriter

from .conftest import load_module

M = load_module("networkd")


def test_render_is_stable_and_match_first():
    a = M.render({"Network": {"DHCP": "yes"}, "Match": {"Name": "en*"}}, "network")
    b = M.render({"Match": {"Name": "en*"}, "Network": {"DHCP": "yes"}}, "network")
    assert a == b == M.HEADER + "[Match]\nName=en*\n\n[Network]\nDHCP=yes\n"


def test_render_values():
    text = M.render({"Network": {"IPForward": True, "LinkLocalAddressing": False, "MTUBytes": 1400,
                                 "DNS": ["192.0.2.1", "2001:db8::1"], "Domains": None, "NTP": ""}},
                    "network")
    assert text == M.HEADER + ("[Network]\nIPForward=yes\nLinkLocalAddressing=no\nMTUBytes=1400\n"
                               "DNS=192.0.2.1\nDNS=2001:db8::1\nNTP=\n")


def test_section_with_hyphen_allowed():
    assert "[SR-IOV]\nVirtualFunction=0\n" in M.render({"SR-IOV": {"VirtualFunction": 0}}, "network")


@pytest.mark.parametrize(("name", "kind", "path"), [
    ("10-eth0", "network", "/d/10-eth0.network"),
    ("10-eth0.network", "network", "/d/10-eth0.network"),
    ("br0.netdev", "netdev", "/d/br0.netdev"),
    ("10-eth0.network", "link", "/d/10-eth0.network.link"),
])
def test_file_path(name, kind, path):
    assert M.file_path(M.Params(name=name, kind=kind, dir="/d")) == path


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
        return self.rc, "", "boom" if self.rc else ""


@pytest.fixture
def systemd_running(tmp_path, monkeypatch):
    monkeypatch.setattr(M, "SYSTEMD_RUNNING", str(tmp_path))


def test_reload_when_networkd_active(systemd_running):
    host = FakeHost("active")
    assert M.reload_networkd(M.Params(name="x"), host) is None
    assert host.calls == [["systemctl", "is-active", "systemd-networkd.service"], ["networkctl", "reload"]]


def test_no_reload_when_networkd_inactive(systemd_running):
    host = FakeHost("inactive")
    assert M.reload_networkd(M.Params(name="x"), host) == \
        "written, networkd not running: not reloaded (inactive)"
    assert ["networkctl", "reload"] not in host.calls


def test_no_reload_without_systemd(monkeypatch, tmp_path):
    monkeypatch.setattr(M, "SYSTEMD_RUNNING", str(tmp_path / "missing"))
    host = FakeHost("active")
    assert M.reload_networkd(M.Params(name="x"), host) == \
        "written, networkd not running: not reloaded (no systemd)"
    assert host.calls == []


def test_link_files_never_reloaded(systemd_running):
    host = FakeHost("active")
    assert "applied by udev" in M.reload_networkd(M.Params(name="x", kind="link"), host)
    assert host.calls == []


def test_reload_failure_is_a_failure(systemd_running):
    with pytest.raises(M.ModuleFailure, match="networkctl reload failed: boom"):
        M.reload_networkd(M.Params(name="x"), FakeHost("active", rc=1))


def test_written_without_networkd_is_a_warning(tmp_path, run):
    """Where systemd is not PID 1 the file is written with an honest warning."""
    if os.path.isdir("/run/systemd/system"):
        pytest.skip("systemd runs here: the module would reload this machine's networkd")
    result = run("networkd", {"name": "10-eth0", "dir": str(tmp_path),
                              "sections": {"Match": {"Name": "eth0"}, "Network": {"DHCP": "yes"}}})
    assert result["status"] == "changed"
    assert result["data"]["networkd"] == "no systemd"
    assert result["warnings"] == ["reload: written, networkd not running: not reloaded (no systemd)"]
    assert run("networkd", {"name": "10-eth0", "dir": str(tmp_path), "sections": {
        "Match": {"Name": "eth0"}, "Network": {"DHCP": "yes"}}})["status"] == "ok"


@pytest.mark.parametrize("existed", [True, False])
def test_snapshot_apply_revert_round_trip(tmp_path, run, existed):
    target = tmp_path / "10-eth0.network"
    if existed:
        target.write_text("[Match]\nName=eth0\n[Network]\nDHCP=yes\n")
        os.chmod(target, 0o600)
    args = {"name": "10-eth0", "dir": str(tmp_path), "reload": False,
            "sections": {"Match": {"Name": "eth0"}, "Network": {"Address": "10.0.0.2/24"}}}
    p = M.Params(**args)
    snap = M.snapshot(p, HostReader())
    json.dumps(snap)
    assert run("networkd", args)["status"] == "changed"
    assert "Address=10.0.0.2/24" in target.read_text()
    M.revert(p, HostWriter(), snap)
    if existed:
        assert target.read_text() == "[Match]\nName=eth0\n[Network]\nDHCP=yes\n"
        assert target.stat().st_mode & 0o777 == 0o600
    else:
        assert not target.exists()
    assert [x.name for x in tmp_path.iterdir()] == (["10-eth0.network"] if existed else [])


def test_revert_reloads(tmp_path, systemd_running):
    target = tmp_path / "d" / "x.network"
    host = FakeHost("active")
    host.write_file = lambda *a, **k: None
    host.remove = lambda path: None
    M.revert(M.Params(name="x", dir=str(target.parent)), host,
             {"files": [{"path": str(target), "content": None}]})
    assert host.calls[-1] == ["networkctl", "reload"]
