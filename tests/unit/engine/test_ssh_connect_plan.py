"""SSHOptions -> asyncssh.connect arguments: each OpenSSH option, the config file's part, and
OpenSSH's known_hosts naming."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from fleet.connection import ConnectionDefaults, ssh_options
from fleet.transport.hostkeys import KnownHosts, known_name
from fleet.transport.ssh import keepalive_silence
from fleet.transport.sshconnect import PREFERRED_CIPHERS, Hop, parse_hops, plan
from fleet.transport.sshlib import asyncssh


def _plan(args: str = "", **variables: object):  # noqa: ANN202 - a ConnectPlan
    hostvars = {"ansible_host": "10.0.0.5", "ansible_ssh_common_args": f"-F none {args}", **variables}
    return plan(ssh_options("web1", hostvars, ConnectionDefaults()))


def test_defaults_without_any_option() -> None:
    route = _plan()
    kwargs = route.kwargs
    assert (route.host, route.port, route.where, route.hops, route.proxy_argv) == ("10.0.0.5", 22, "10.0.0.5:22", [], None)
    assert kwargs["config"] == [] and kwargs["encryption_algs"] == list(PREFERRED_CIPHERS)
    # a frozen or vanished host is given up 40 s after it last sent anything
    assert (kwargs["keepalive_interval"], kwargs["keepalive_count_max"]) == (10, 3)
    assert keepalive_silence(kwargs["keepalive_interval"], kwargs["keepalive_count_max"]) == 40
    assert "tunnel" not in kwargs and "proxy_command" not in kwargs and "compression_algs" not in kwargs
    assert route.known is not None and route.known.user_files[0].endswith("/.ssh/known_hosts")
    assert route.known.global_files[0] == "/etc/ssh/ssh_known_hosts"


def test_options_map_onto_asyncssh_arguments() -> None:
    kwargs = _plan("-C -6 -b 10.0.0.1 -c aes256-ctr -m hmac-sha2-256 -o KexAlgorithms=curve25519-sha256 "
                   "-o ServerAliveInterval=5 -o ServerAliveCountMax=2 -o PasswordAuthentication=no "
                   "-o PreferredAuthentications=publickey -o GSSAPIAuthentication=no -o TCPKeepAlive=no "
                   "-o HostKeyAlgorithms=ssh-ed25519 -o RekeyLimit='1G 1h' -o SetEnv=A=1 -o SendEnv=LANG "
                   "-o IdentityAgent=none -A").kwargs
    assert kwargs["compression_algs"] == "zlib@openssh.com,zlib,none"
    assert kwargs["family"] == socket.AF_INET6 and kwargs["local_addr"] == ("10.0.0.1", 0)
    assert (kwargs["encryption_algs"], kwargs["mac_algs"], kwargs["kex_algs"]) == (
        "aes256-ctr", "hmac-sha2-256", "curve25519-sha256")
    assert (kwargs["keepalive_interval"], kwargs["keepalive_count_max"]) == (5, 2)
    assert (kwargs["password_auth"], kwargs["gss_auth"], kwargs["tcp_keepalive"]) == (False, False, False)
    assert kwargs["preferred_auth"] == "publickey" and kwargs["server_host_key_algs"] == "ssh-ed25519"
    assert (kwargs["rekey_bytes"], kwargs["rekey_seconds"]) == ("1G", "1h")
    assert kwargs["env"] == {"A": "1"} and kwargs["send_env"] == ["LANG"]
    assert kwargs["agent_path"] is None and kwargs["agent_forwarding"] is True
    assert _plan("-o Compression=no").kwargs["compression_algs"] == "none"


def test_identities_only_offers_agent_keys_only_for_the_given_files() -> None:
    kwargs = _plan("-o IdentitiesOnly=yes -i /k1", ansible_ssh_private_key_file="/k0").kwargs
    assert kwargs["client_keys"] == ["/k0", "/k1"] and kwargs["agent_identities"] == ["/k0", "/k1"]


def test_proxycommand_runs_through_the_shell_with_tokens_expanded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHELL", "/bin/sh")
    route = _plan("-o 'ProxyCommand=ssh -W %h:%p -l %r gw %n 2>/dev/null %%'", ansible_port=2222, ansible_user="u")
    # %n: the name ssh was given (ansible_host), %h: after the config file's HostName
    assert route.proxy_argv == ["/bin/sh", "-c", "exec ssh -W 10.0.0.5:2222 -l u gw 10.0.0.5 2>/dev/null %"]
    assert route.kwargs["tunnel"] is None and route.kwargs["proxy_command"] is None  # the config file's do not apply
    assert route.where.startswith("10.0.0.5:2222 via ProxyCommand 'ssh -W 10.0.0.5:2222")


def test_proxyjump_hops() -> None:
    assert parse_hops("gw") == [Hop("gw")]
    assert parse_hops("ops@gw:2222,ssh://root@[fd00::1]:22,inner") == [
        Hop("gw", 2222, "ops"), Hop("fd00::1", 22, "root"), Hop("inner")]
    route = _plan("-J ops@gw:2222")
    assert route.hops == [Hop("gw", 2222, "ops")] and route.kwargs["tunnel"] is None
    assert route.where == "10.0.0.5:22 via ProxyJump ops@gw:2222"
    assert _plan("-J none").hops == [] and _plan("-J none").kwargs["tunnel"] is None


def test_the_config_file_fills_in_what_the_inventory_leaves_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHELL", "/bin/sh")
    config = tmp_path / "config"
    config.write_text("Host 10.0.0.5\n  Port 2200\n  User ops\n  ServerAliveInterval 7\n  HostKeyAlias web\n"
                      "  UserKnownHostsFile /etc/fleet/kh\n  ProxyCommand nc -X connect %h %p\n"
                      "Host other\n  ProxyJump gw\n")
    route = plan(ssh_options("web1", {"ansible_host": "10.0.0.5", "ansible_ssh_common_args": f"-F {config}"},
                             ConnectionDefaults()))
    assert (route.port, route.kwargs["keepalive_interval"], route.kwargs["host_key_alias"]) == (2200, 7, "web")
    assert route.known is not None and route.known.user_files == ["/etc/fleet/kh"]
    assert route.proxy_argv == ["/bin/sh", "-c", "exec nc -X connect 10.0.0.5 2200"]
    # the inventory's own settings win over the file's
    mine = plan(ssh_options("web1", {"ansible_host": "10.0.0.5", "ansible_port": 22, "ansible_ssh_common_args":
                                     f"-F {config} -o ProxyCommand=none -o ServerAliveInterval=3"},
                            ConnectionDefaults()))
    assert (mine.port, mine.proxy_argv, mine.kwargs["keepalive_interval"]) == (22, None, 3)
    assert mine.kwargs["proxy_command"] is None and mine.kwargs["tunnel"] is None


def test_policy_off_trusts_nothing_and_records_nothing() -> None:
    route = _plan(fleet_insecure_no_host_key_checking=True)
    assert route.kwargs["known_hosts"] is None and route.policy is None


@pytest.mark.parametrize(("host", "port", "alias", "name"), [
    ("web1", None, None, "web1"), ("web1", 22, None, "web1"), ("10.0.0.5", 2222, None, "[10.0.0.5]:2222"),
    ("10.0.0.5", 2222, "web", "web"),  # OpenSSH records an alias without the port
])
def test_known_hosts_names(host: str, port: int | None, alias: str | None, name: str) -> None:
    assert known_name(host, port, alias) == name


def test_recorded_keys_match_exactly_and_hashed_names_are_readable_by_ssh_tools(tmp_path: Path) -> None:
    key = asyncssh.generate_private_key("ssh-ed25519").convert_to_public()
    other = asyncssh.generate_private_key("ssh-ed25519").convert_to_public()
    path = tmp_path / "kh"
    known = KnownHosts([str(path)], [], hash_names=True)
    known.record("[10.0.0.5]:2222", key)
    assert path.read_text().startswith("|1|")
    assert [k for _, k in known.recorded("[10.0.0.5]:2222")] == [key]
    plain = KnownHosts([str(path)], [])
    plain.record("10.0.0.5", other)
    # another port is another server: port 22's key is not "the recorded key" of port 2222
    assert [k for _, k in plain.recorded("[10.0.0.5]:2222")] == [key]
    assert [k for _, k in plain.recorded("10.0.0.5")] == [other]


def test_how_long_a_silent_host_keeps_its_connection() -> None:
    assert keepalive_silence("1m", 2) == 180  # ServerAliveInterval's OpenSSH time form
    assert keepalive_silence(5, 0) == 5
    assert keepalive_silence(0, 3) is None and keepalive_silence(None, 3) is None  # no keepalives
