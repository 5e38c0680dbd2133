"""The ``remote_user`` keyword on tasks, blocks and roles, as Ansible's connection options take
it: the login user unless the host's ``ansible_user`` (or ``ansible_ssh_user``) names one, which
wins; the task's own, else its block's or role's, else the play's. A task logging in as another
user gets a transport of its own (a fake connection here, whose agent is told its login user)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from fleet import api
from fleet.connection import settings
from fleet.executor.options import RunOptions
from fleet.transport import LocalTransport
from fleet.transport.spec import BUILDERS

PLAYBOOK = """
- hosts: all
  gather_facts: false
  remote_user: player
  roles:
    - role: r
      remote_user: roler
  tasks:
    - command: printenv FAKE_LOGIN
      register: from_play
    - command: printenv FAKE_LOGIN
      remote_user: "{{ who }}"
      vars: {who: tasker}
      register: from_task
    - block:
        - command: printenv FAKE_LOGIN
          register: from_block
        - command: printenv FAKE_LOGIN
          remote_user: inner
          register: from_inner
      remote_user: blocker
    - copy:
        dest: "{{ out }}/{{ inventory_hostname }}.json"
        content: "{{ [from_role.stdout, from_play.stdout, from_task.stdout, from_block.stdout,
                      from_inner.stdout] | to_json }}"
"""


class LoginTransport(LocalTransport):
    """The local transport; the agent's environment names the user it logged in as."""

    def __init__(self, user: str | None) -> None:
        super().__init__()
        self.env = {**os.environ, "FAKE_LOGIN": str(user)}


def _fake_spec(name: str, hostvars: Any, defaults: Any) -> dict[str, Any]:
    return {"user": hostvars.get("ansible_user") or hostvars.get("ansible_ssh_user") or defaults.user}


@pytest.fixture
def logins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    monkeypatch.setitem(settings.SPECS, "fakelogin", ("fakelogin", _fake_spec))
    monkeypatch.setitem(BUILDERS, "fakelogin", lambda params: LoginTransport(params["user"]))
    role = tmp_path / "roles" / "r" / "tasks"
    role.mkdir(parents=True)
    (role / "main.yml").write_text("- command: printenv FAKE_LOGIN\n  register: from_role\n")
    (tmp_path / "site.yml").write_text(PLAYBOOK)
    common = f"ansible_connection=fakelogin ansible_python_interpreter={sys.executable} out={tmp_path}"
    (tmp_path / "hosts").write_text(f"free {common}\nfixed {common} ansible_user=admin\n"
                                    f"sshfixed {common} ansible_ssh_user=ops\n")
    report = api.apply(tmp_path / "site.yml", [str(tmp_path / "hosts")], RunOptions(persist=0))
    assert report.exit_code() == 0, [(r.task, r.msg) for h in report.hosts.values() for r in h.results]
    return {host: json.loads((tmp_path / f"{host}.json").read_text()) for host in ("free", "fixed", "sshfixed")}


def test_the_keyword_gives_the_login_user(logins: dict[str, list[str]]) -> None:
    assert logins["free"] == ["roler", "player", "tasker", "blocker", "inner"]


def test_ansible_user_wins_over_the_keyword(logins: dict[str, list[str]]) -> None:
    assert logins["fixed"] == ["admin"] * 5
    assert logins["sshfixed"] == ["ops"] * 5

