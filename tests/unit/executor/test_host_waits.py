"""``wait_for_connection`` and ``reboot`` on local-connection hosts and a port nobody listens on
(the reboot itself: tests/e2e/test_reboot.py, over the loopback sshd)."""

from __future__ import annotations

import json
import socket

from tests.unit.executor.conftest import Site, play


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_wait_for_connection_answers_and_skips_in_check_mode(site: Site) -> None:
    run = site.run(play("""
        - {name: wait, wait_for_connection: {timeout: 10}, register: waited}
        - {name: checked, wait_for_connection: {}, check_mode: true, register: skipped}
        - {name: keep, copy: {content: "{{ [waited, skipped] | to_json }}", dest: "{{ root }}/w"}}
        """, hosts="h1"))
    assert run.exit_code == 0, run.json
    waited, skipped = json.loads(site.read("h1", "w"))
    assert isinstance(waited.pop("elapsed"), int)  # whole seconds, as Ansible's
    assert waited == {"changed": False, "failed": False}
    assert skipped == {"changed": False, "failed": False, "skipped": True}
    assert run.status("h1", "checked") == "skipped"


def test_wait_for_connection_times_out_with_ansibles_message(site: Site) -> None:
    site.host_vars["h3"] = {"ansible_connection": "ssh", "ansible_host": "127.0.0.1", "ansible_port": _closed_port()}
    run = site.run(play("- {name: wait, wait_for_connection: {timeout: 2, sleep: 1, connect_timeout: 1}}", hosts="db"))
    result = run.result("h3", "wait")
    assert result.status == "failed"
    assert result.msg.startswith("timed out waiting for ping module test: ")
    assert result.data["elapsed"] >= 1


def test_reboot_refuses_the_controller_and_a_loop(site: Site) -> None:
    run = site.run(play("""
        - {name: local, reboot: {}, ignore_errors: true, register: refused}
        - {name: looped, reboot: {}, loop: [1], ignore_errors: true}
        - {name: bad option, wait_for_connection: {wait: 1}, ignore_errors: true}
        """, hosts="h1"))
    local = run.result("h1", "local")
    assert local.status == "failed" and local.msg == "Running reboot with local connection would reboot the control node."
    assert local.data["rebooted"] is False
    assert "cannot run in a loop" in run.result("h1", "looped").msg
    assert run.result("h1", "bad option").msg == "Invalid options for wait_for_connection: wait"
