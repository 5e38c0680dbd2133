"""SSH settings are checked before anything connects: the selected hosts only, templates that
need a play's variables left to connection time, the error naming the host and the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from fleet import api
from fleet.errors import InputError
from fleet.executor.options import RunOptions

PLAYBOOK = "- hosts: {hosts}\n  gather_facts: false\n  vars: {{bastion: gw}}\n  tasks:\n    - ping:\n"


def _prepare(tmp_path: Path, inventory: str, hosts: str = "all", **options: object) -> api.Prepared:
    (tmp_path / "inv.yml").write_text(inventory)
    (tmp_path / "site.yml").write_text(PLAYBOOK.format(hosts=hosts))
    return api.prepare(tmp_path / "site.yml", [str(tmp_path / "inv.yml")], RunOptions(**options))  # type: ignore[arg-type]


INVENTORY = """\
all:
  hosts:
    good: {ansible_host: 10.0.0.1}
    bad:
      ansible_host: 10.0.0.2
      ansible_ssh_common_args: -o LocalForward=8080:localhost:80
    local: {ansible_connection: local, ansible_ssh_extra_args: -L 1:x:1}
    later: {ansible_ssh_common_args: "-o ProxyJump={{ bastion }} -o Port={{ bastion_port }}"}
"""


def test_an_unsupported_option_of_a_selected_host_fails_preparation(tmp_path: Path) -> None:
    with pytest.raises(InputError) as caught:
        _prepare(tmp_path, INVENTORY)
    message = str(caught.value)
    assert message.startswith(f"{tmp_path / 'inv.yml'}")
    assert "host bad: ansible_ssh_common_args: ssh option 'LocalForward' is not supported by fleet" in message


def test_hosts_the_run_does_not_select_are_not_checked(tmp_path: Path) -> None:
    _prepare(tmp_path, INVENTORY, hosts="good:local:later")  # local: no ssh; later: needs play vars
    _prepare(tmp_path, INVENTORY, limit="good")


def test_a_host_key_setting_that_is_not_a_boolean_fails_preparation(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="host good: ansible_host_key_checking: true or false expected"):
        _prepare(tmp_path, "all:\n  hosts:\n    good: {ansible_host_key_checking: strict}\n")


def test_a_shared_template_is_checked_for_every_host(tmp_path: Path) -> None:
    """Hosts with the same settings are checked once, unless the settings are templates."""
    inventory = ("all:\n  vars:\n    ansible_ssh_common_args: \"-o Port=22 {{ '-L 1:x:1' if inventory_hostname == 'b' "
                 "else '' }}\"\n  hosts:\n    a: {}\n    b: {}\n    c: {}\n")
    with pytest.raises(InputError, match="host b: ansible_ssh_common_args: ssh flag -L is not supported"):
        _prepare(tmp_path, inventory)
