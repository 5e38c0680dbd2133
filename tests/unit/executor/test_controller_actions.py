"""Ansible's action plugins fleet implements on the controller (pause, raw, script, fetch):
tests/fixtures/actions applied by fleet and by ansible-playbook gives the same registered
results and the same fetched files; check mode writes nothing; a host cannot make fetch write
outside its dest; pause without a terminal goes on as Ansible does."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import pytest

from fleet.executor.fetch import destination
from fleet.executor.pause import NO_TTY, pause
from fleet.executor.raw import command_line
from tests.conftest import REPO
from tests.unit.executor.twins import run_twins

FIXTURE = REPO / "tests" / "fixtures" / "actions"
VARYING = {"start", "stop", "exception", "failed", "warnings"}


def _normal(value: Any, out: Path) -> Any:
    if isinstance(value, dict):
        return {k: _normal(v, out) for k, v in value.items() if k not in VARYING}
    if isinstance(value, list):
        return [_normal(v, out) for v in value]
    if isinstance(value, str):
        return re.sub(r"Paused for [0-9.]+ seconds", "Paused for N seconds", value.replace(str(out), "OUT"))
    return value


def test_actions_register_what_ansible_registers(tmp_path: Path) -> None:
    twins = run_twins(FIXTURE, tmp_path)
    got = {tool: json.loads((out / "results.json").read_text())
           for tool, out in (("fleet", twins.fleet_out), ("ansible", twins.ansible_out))}
    fleet = _normal(got["fleet"], twins.fleet_out)
    ansible = _normal(got["ansible"], twins.ansible_out)
    for name in sorted(ansible):
        assert fleet[name] == ansible[name], name
    assert fleet["raw1"]["stdout"] == "hi\n" and fleet["script1"]["stdout_lines"][0] == "args: one two three"
    assert fleet["fetch1"]["changed"] and not fleet["fetch2"]["changed"]
    for out in (twins.fleet_out, twins.ansible_out):
        fetched = out / "fetched" / "h1" / str(out).lstrip("/") / "src.txt"
        assert fetched.read_text() == "hello\n"
        assert (out / "flat.txt").read_text() == "hello\n"
    assert (twins.fleet_out / "flat.txt").stat().st_mode & 0o777 == (twins.ansible_out / "flat.txt").stat().st_mode & 0o777


def test_fetch_refuses_a_path_that_leaves_dest(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="directory traversal"):
        destination("fetched", "../../etc/passwd", "h1", False, str(tmp_path))
    with pytest.raises(ValueError, match="directory traversal"):
        destination("fetched", "/x", "../..", False, str(tmp_path))
    assert destination("fetched", "/etc/hosts", "h1", False, str(tmp_path)) == f"{tmp_path}/fetched/h1/etc/hosts"
    assert destination("d/", "/etc/hosts", "h1", True, str(tmp_path)) == f"{tmp_path}/d/hosts"


def test_raw_command_lines_as_ansible_builds_them() -> None:
    assert command_line("echo $0", None, None) == "echo $0"
    assert command_line("echo $0", "/bin/bash", None) == "/bin/bash -c 'echo $0'"
    assert command_line("id -u", None, "root") == "sudo -H -S -n -u root /bin/sh -c 'id -u'"


class _Ctx:
    def __init__(self, args: dict[str, Any]) -> None:
        self.args = args
        self.where = "task 'p'"
        self.location = None
        self.task = type("T", (), {"display_name": "p"})()


def test_pause_without_a_terminal_goes_on_with_ansibles_warning() -> None:
    result = asyncio.run(pause(_Ctx({"prompt": "go?"}), lambda: False, tty=False))
    assert result["status"] == "ok" and result["warnings"] == [NO_TTY]
    assert result["data"]["user_input"] == "" and result["data"]["stdout"] == "Paused for 0.0 minutes"


def test_pause_ends_when_the_run_is_interrupted() -> None:
    from fleet.executor.hoststate import Interrupted

    with pytest.raises(Interrupted):
        asyncio.run(pause(_Ctx({"minutes": 5}), lambda: True, tty=False))


def test_pause_refuses_minutes_with_seconds() -> None:
    result = asyncio.run(pause(_Ctx({"minutes": 1, "seconds": 1}), lambda: False, tty=False))
    assert result["status"] == "failed" and "mutually exclusive" in result["msg"]


def test_check_mode_writes_nothing_and_skips_as_ansible(tmp_path: Path) -> None:
    from fleet import api
    from fleet.executor.options import RunOptions

    site = tmp_path / "site"
    (site / "files").mkdir(parents=True)
    (site / "files" / "s.sh").write_text("#!/bin/sh\ntouch \"$1\"\n")
    (site / "src.txt").write_text("x\n")
    (site / "hosts.ini").write_text(f"h1 ansible_connection=local out={site}\n")
    (site / "site.yml").write_text(
        "- hosts: h1\n  gather_facts: false\n  tasks:\n"
        "    - ansible.builtin.raw: touch {{ out }}/by-raw\n"
        "    - script: s.sh {{ out }}/by-script\n"
        "    - script: s.sh {{ out }}/by-script2\n      args: {removes: '{{ out }}/src.txt'}\n"
        "    - ansible.builtin.fetch: {src: '{{ out }}/src.txt', dest: '{{ out }}/fetched'}\n"
        "    - ansible.builtin.pause: {seconds: 1}\n")
    report = asyncio.run(api.apply_async(api.prepare(site / "site.yml", [site / "hosts.ini"], RunOptions(check=True))))
    results = report.to_dict()["hosts"]["h1"]["results"]
    assert [(r["module"], r["status"], r["msg"]) for r in results] == [
        ("raw", "skipped", ""),
        ("script", "skipped", "Check mode is not supported for this task."),
        ("script", "changed", ""),
        ("fetch", "skipped", "check mode not (yet) supported for this module"),
        ("pause", "ok", "")]
    assert sorted(p.name for p in site.iterdir()) == ["files", "hosts.ini", "site.yml", "src.txt"]


def test_fetch_dest_under_the_home_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    assert destination("~/keys", "/etc/ssh/k", "h1", False, "/elsewhere") == f"{tmp_path}/keys/h1/etc/ssh/k"


def test_pause_says_how_long_it_waits() -> None:
    said: list[str] = []
    result = asyncio.run(pause(_Ctx({"seconds": "0"}), lambda: False, tty=False, say=said.append))
    assert said == ["[p] Pausing for 1 seconds (Ctrl-C ends the run)"]  # under a second waits one, as Ansible
    assert result["data"]["delta"] == 1 and result["data"]["stdout"].startswith("Paused for 1.0")


def test_a_relative_fetch_dest_is_under_the_playbooks_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert destination("keys", "/etc/k", "h1", False, ".") == f"{tmp_path}/keys/h1/etc/k"  # absolute, as Ansible's
