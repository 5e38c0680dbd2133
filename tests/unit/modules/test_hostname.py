"""hostname: /etc/hostname (a temp file here) and the running name, through fake ``hostname``
and ``hostnamectl`` commands (never the real ones: this machine's name must not change)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from fleet.errors import InputError

from . import conftest
from .conftest import load_module, run_module, run_unchecked
from .fakes import HOSTNAME, install

mod = load_module("hostname")


@pytest.fixture(autouse=True)
def real_name_untouched():
    before = os.uname().nodename
    yield
    assert os.uname().nodename == before


@pytest.fixture
def host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    fake = install(monkeypatch, tmp_path, {"hostname": HOSTNAME, "hostnamectl": HOSTNAME},
                   {"hostname": "old"})
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "hostname").write_text("old\n")
    run_module("hostname", {"name": "x", "hostname_file": str(tmp_path / "etc" / "hostname")},
               check=True)  # loads the module run_module uses, so tests can patch it
    return fake


def settable(monkeypatch: pytest.MonkeyPatch, value: bool) -> None:
    monkeypatch.setattr(conftest._MODULES["hostname"], "runtime_settable", lambda: value)


def args(tmp_path: Path, **kw) -> dict:
    return {"name": "web-1", "hostname_file": str(tmp_path / "etc" / "hostname"), **kw}


def test_persists_and_sets_running_name_then_reapply_is_ok(host, tmp_path, monkeypatch) -> None:
    settable(monkeypatch, True)
    host.clear()
    check = run_module("hostname", args(tmp_path, use="debian"), check=True)
    assert check["status"] == "changed" and host.calls() == [["hostname"]]
    assert (tmp_path / "etc" / "hostname").read_text() == "old\n"
    first = run_module("hostname", args(tmp_path, use="debian"))
    assert first["status"] == "changed" and "warnings" not in first
    assert first["diff"]["before"] == {"static": "old", "running": "old"}
    assert first["diff"]["after"] == {"static": "web-1", "running": "web-1"}
    assert (tmp_path / "etc" / "hostname").read_text() == "web-1\n"
    assert host.state["hostname"] == "web-1"
    assert ["hostname", "web-1"] in host.calls()
    assert first["data"]["ansible_facts"] == {"ansible_hostname": "web-1", "ansible_nodename": "web-1"}
    assert run_module("hostname", args(tmp_path, use="debian"))["status"] == "ok"


def test_systemd_strategy_uses_hostnamectl(host, tmp_path, monkeypatch) -> None:
    settable(monkeypatch, True)
    result = run_module("hostname", args(tmp_path, name="db.example.org", use="systemd"))
    assert result["status"] == "changed"
    assert ["hostnamectl", "--transient", "set-hostname", "db.example.org"] in host.calls()
    assert result["data"]["ansible_facts"]["ansible_hostname"] == "db"


def test_alpine_strategy_reads_the_file(host, tmp_path, monkeypatch) -> None:
    settable(monkeypatch, True)
    run_module("hostname", args(tmp_path, use="alpine"))
    assert ["hostname", "-F", str(tmp_path / "etc" / "hostname")] in host.calls()
    assert host.state["hostname"] == "web-1"


def test_container_persists_and_warns_then_reapply_is_ok(host, tmp_path, monkeypatch) -> None:
    settable(monkeypatch, False)
    check = run_module("hostname", args(tmp_path), check=True)
    assert check["status"] == "changed" and check["diff"]["fields"] == ["static"]
    first = run_module("hostname", args(tmp_path))
    assert first["status"] == "changed"
    assert first["warnings"] == [
        "running: persisted, not applied at runtime: the kernel host name cannot be changed "
        "here (no CAP_SYS_ADMIN, e.g. a container); it stays 'old'"]
    assert (tmp_path / "etc" / "hostname").read_text() == "web-1\n"
    assert host.state["hostname"] == "old"
    again = run_module("hostname", args(tmp_path))
    assert again["status"] == "ok" and again["data"]["running_hostname"] == "old"
    assert again["warnings"] == first["warnings"]  # said on every run, not only when it changed


def test_refused_by_the_kernel_is_a_warning_not_a_failure(host, tmp_path, monkeypatch) -> None:
    settable(monkeypatch, True)
    host.state = {"hostname": "old", "refuse": True}
    result = run_module("hostname", args(tmp_path, use="systemd"))
    assert result["status"] == "changed"
    assert result["warnings"][0].startswith("running: persisted, not applied at runtime: hostnamectl: ")
    assert "hostname: you must be root" in result["warnings"][0]  # the fallback was tried too
    assert (tmp_path / "etc" / "hostname").read_text() == "web-1\n"


def test_missing_file_is_created_0644(host, tmp_path, monkeypatch) -> None:
    settable(monkeypatch, False)
    path = tmp_path / "new" / "hostname"
    result = run_module("hostname", {"name": "web-1", "hostname_file": str(path)})
    assert result["status"] == "changed" and path.read_text() == "web-1\n"
    assert oct(path.stat().st_mode & 0o777) == "0o644"


def test_generic_sets_only_the_running_name(host, tmp_path, monkeypatch) -> None:
    settable(monkeypatch, True)
    result = run_module("hostname", {"name": "web-1", "use": "generic"})
    assert result["status"] == "changed" and result["diff"]["fields"] == ["running"]
    assert host.state["hostname"] == "web-1"


@pytest.mark.parametrize(("name", "use", "message"), [
    ("", None, "1 to 64 characters"),
    ("a" * 65, None, "1 to 64 characters"),
    ("two words", None, "invalid host name"),
    ("-n", None, "invalid host name"),
    ("web", "redhat", "use: redhat is not supported"),
])
def test_refused(host, tmp_path, name, use, message) -> None:
    with pytest.raises(InputError, match=message):  # before anything connects
        run_module("hostname", args(tmp_path, name=name, use=use), check=True)
    result = run_unchecked("hostname", args(tmp_path, name=name, use=use), check=True)
    assert result["status"] == "failed" and message in result["msg"]  # and on the host
