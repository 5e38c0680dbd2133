"""Table-driven tests of small pieces of engine logic: tags, batches, SSH options."""

from __future__ import annotations

import pytest

from fleet.connection import ConnectionDefaults, interpreter_for, ssh_options
from fleet.errors import InputError
from fleet.executor.play import batches
from fleet.executor.tags import selected

T = frozenset


@pytest.mark.parametrize(
    ("task_tags", "only", "skip", "runs"),
    [
        (T(), T(), T(), True),
        (T({"web"}), T(), T(), True),
        (T({"never"}), T(), T(), False),
        (T({"never", "debug"}), T({"debug"}), T(), True),
        (T({"always"}), T({"web"}), T(), True),
        (T({"always"}), T(), T({"always"}), False),
        (T({"always"}), T(), T({"all"}), True),
        (T({"web"}), T({"db"}), T(), False),
        (T({"web"}), T({"web"}), T({"web"}), False),
        (T(), T({"untagged"}), T(), True),
        (T({"web"}), T({"untagged"}), T(), False),
        (T({"web"}), T({"tagged"}), T(), True),
        (T(), T({"tagged"}), T(), False),
        (T({"web"}), T(), T({"tagged"}), False),
        (T(), T(), T({"tagged"}), True),
        (T({"web"}), T({"all"}), T(), True),
    ],
)
def test_tag_selection_follows_ansible(task_tags: frozenset[str], only: frozenset[str], skip: frozenset[str],
                                       runs: bool) -> None:
    assert selected(task_tags, only, skip) is runs


@pytest.mark.parametrize(
    ("count", "serial", "sizes"),
    [
        (5, [], [5]),
        (5, [2], [2, 2, 1]),
        (10, ["30%"], [3, 3, 3, 1]),
        (10, [1, 3, "50%"], [1, 3, 5, 1]),
        (3, ["10%"], [1, 1, 1]),
        (4, [0], [4]),
    ],
)
def test_serial_batches(count: int, serial: list[object], sizes: list[int]) -> None:
    hosts = [f"h{i}" for i in range(count)]
    result = batches(hosts, serial)
    assert [len(b) for b in result] == sizes
    assert [h for batch in result for h in batch] == hosts


def test_ssh_options_from_ansible_variables() -> None:
    options = ssh_options("web1", {
        "ansible_host": "10.0.0.5",
        "ansible_port": "2222",
        "ansible_user": "deploy",
        "ansible_ssh_private_key_file": "~/.ssh/deploy",
        "ansible_ssh_common_args": "-o ProxyJump=bastion.example.com -o UserKnownHostsFile=/etc/fleet/kh",
    }, ConnectionDefaults(user="cli-user", private_key="/cli/key"))
    assert (options.host, options.port, options.user) == ("10.0.0.5", 2222, "deploy")
    assert options.key_files == ["~/.ssh/deploy"]
    assert options.proxy_jump == "bastion.example.com"
    assert options.known_hosts == ["/etc/fleet/kh"]
    assert options.host_key_policy == "strict"


def test_ssh_options_fall_back_to_command_line_and_inventory_name() -> None:
    options = ssh_options("web1", {}, ConnectionDefaults(user="cli-user", private_key="/cli/key",
                                                        accept_new_host_keys=True))
    assert (options.host, options.port, options.user, options.key_files) == ("web1", None, "cli-user", ["/cli/key"])
    assert options.host_key_policy == "accept-new"


@pytest.mark.parametrize(
    ("variables", "policy"),
    [
        # Ansible's and OpenSSH's "off" accepts and records new keys; a changed key stays refused
        ({"ansible_host_key_checking": False}, "accept-new"),
        ({"ansible_host_key_checking": "yes"}, "strict"),
        ({"ansible_ssh_common_args": "-o StrictHostKeyChecking=no"}, "accept-new"),
        ({"ansible_ssh_extra_args": "-o StrictHostKeyChecking=accept-new"}, "accept-new"),
        ({"ansible_ssh_extra_args": "-o StrictHostKeyChecking=ask"}, "strict"),
        # the host's own setting wins over its ssh args
        ({"ansible_host_key_checking": True, "ansible_ssh_common_args": "-o StrictHostKeyChecking=no"}, "strict"),
        # only the explicit insecure variable turns checking off
        ({"fleet_insecure_no_host_key_checking": "true", "ansible_host_key_checking": True}, "off"),
        ({"fleet_insecure_no_host_key_checking": False}, "strict"),
    ],
)
def test_host_key_policy_variables(variables: dict[str, object], policy: str) -> None:
    assert ssh_options("h", variables, ConnectionDefaults()).host_key_policy == policy


@pytest.mark.parametrize("variable", ["ansible_host_key_checking", "fleet_insecure_no_host_key_checking"])
def test_host_key_setting_that_is_not_a_boolean_is_refused(variable: str) -> None:
    with pytest.raises(InputError, match=f"host h: {variable}: true or false expected, got 'strict'"):
        ssh_options("h", {variable: "strict"}, ConnectionDefaults())


@pytest.mark.parametrize(
    ("value", "interpreter"),
    [(None, "python3"), ("auto", "python3"), ("auto_silent", "python3"), ("/usr/bin/python3.11", "/usr/bin/python3.11")],
)
def test_python_interpreter(value: str | None, interpreter: str) -> None:
    variables = {} if value is None else {"ansible_python_interpreter": value}
    assert interpreter_for(variables) == interpreter
