"""The inventory's OpenSSH options are implemented or refused by name, never dropped: a
ProxyCommand or ProxyJump is the only way in, an unsupported option stops the run before any
connection."""

from __future__ import annotations

import re
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from fleet.testing.sshd import LocalSSHD, find_sshd
from tests.conftest import fleet, require

# A ProxyCommand: notes how it was called, then relays stdin/stdout to the real sshd port.
RELAY = """
import os, socket, sys, threading
sys.stderr.write("relay started\\n")
sys.stderr.flush()
host, port, target, marker = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
with open(marker, "a") as note:
    note.write(host + ":" + port + "\\n")
sock = socket.create_connection(("127.0.0.1", target))
def upstream():
    while True:
        data = os.read(0, 65536)
        if not data:
            sock.shutdown(socket.SHUT_WR)
            return
        sock.sendall(data)
threading.Thread(target=upstream, daemon=True).start()
while True:
    data = sock.recv(65536)
    if not data:
        break
    os.write(1, data)
"""


@pytest.fixture
def sshd(tmp_path: Path) -> Iterator[LocalSSHD]:
    """A private sshd that logs every connection and login."""
    require(find_sshd() is not None, "sshd is not installed (apt-get install openssh-server)")
    server = LocalSSHD.start(tmp_path / "sshd", extra_config=["LogLevel VERBOSE"])
    yield server
    server.stop()


def log(sshd: LocalSSHD) -> str:
    time.sleep(0.5)  # sshd writes its lines as connections end
    return (sshd.workdir / "sshd.log").read_text()


def connections(sshd: LocalSSHD) -> int:
    """TCP connections sshd accepted, not counting the readiness probe of LocalSSHD.start."""
    return log(sshd).count("Connection from") - 1


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0
    return port


def inventory(path: Path, hosts: dict[str, dict[str, object]]) -> Path:
    path.write_text(yaml.safe_dump({"all": {"hosts": hosts}}))
    return path


def test_proxycommand_is_the_way_in(sshd: LocalSSHD, tmp_path: Path) -> None:
    relay, marker, errors = tmp_path / "relay.py", tmp_path / "relay-calls", tmp_path / "relay-stderr"
    relay.write_text(RELAY)
    direct = closed_port()  # the inventory's address answers nothing: only the relay reaches sshd
    known = tmp_path / "known_hosts"  # recorded under the alias, as OpenSSH records one (no port)
    known.write_text(f"loopback-sshd {' '.join(sshd.host_key.with_suffix('.pub').read_text().split()[:2])}\n")
    proxy = f"{sys.executable} {relay} %h %p {sshd.port} {marker} 2>>{errors}"  # a shell line, as in ssh
    inv = inventory(tmp_path / "inv.yml", {"h1": dict(
        sshd.host_vars(), ansible_port=direct,
        ansible_ssh_common_args=f"-o UserKnownHostsFile={known} -o HostKeyAlias=loopback-sshd "
                                f"-o 'ProxyCommand={proxy}'")})
    result = fleet("run", "-i", str(inv), "h1", "-a", "id -un")
    assert result.returncode == 0, result.stdout + result.stderr
    assert sshd.user in result.stdout
    assert marker.read_text() == f"127.0.0.1:{direct}\n"  # %h %p expanded, called once
    assert errors.read_text() == "relay started\n"  # its stderr went where the shell redirected it
    assert "Accepted publickey" in log(sshd)
    assert known.read_text().count("\n") == 1  # the alias's key was trusted, nothing recorded


def test_proxycommand_failure_names_the_route_and_what_the_proxy_said(sshd: LocalSSHD, tmp_path: Path) -> None:
    inv = inventory(tmp_path / "inv.yml", {"h1": dict(
        sshd.host_vars(), ansible_ssh_extra_args="-o 'ProxyCommand=echo no route to %h >&2'")})
    result = fleet("run", "-i", str(inv), "h1", "-a", "true")
    assert result.returncode == 1
    assert f"cannot connect to 127.0.0.1:{sshd.port} via ProxyCommand 'echo no route to 127.0.0.1 >&2'" \
        in result.stdout, result.stdout
    assert "(the ProxyCommand said: no route to 127.0.0.1)" in result.stdout
    assert connections(sshd) == 0


def test_proxyjump_through_a_config_file_host(sshd: LocalSSHD, tmp_path: Path) -> None:
    known = sshd.known_hosts  # [127.0.0.1]:port: the jump host and the target are the same sshd
    config = tmp_path / "ssh_config"
    config.write_text(f"Host jumpbox\n  HostName 127.0.0.1\n  Port {sshd.port}\n  User {sshd.user}\n"
                      f"  IdentityFile {sshd.client_key}\n")
    inv = inventory(tmp_path / "inv.yml", {"h1": dict(
        sshd.host_vars(), ansible_ssh_common_args=f"-F {config} -J jumpbox -o UserKnownHostsFile={known}")})
    result = fleet("run", "-i", str(inv), "h1", "-a", "id -un")
    assert result.returncode == 0, result.stdout + result.stderr
    logins = re.findall(r"Accepted publickey for \S+ from 127.0.0.1 port (\d+)", log(sshd))
    sessions = re.findall(r"Starting session: command for \S+ from 127.0.0.1 port (\d+)", log(sshd))
    assert len(logins) == 2, log(sshd)  # the hop's login, then the target's through its forwarding
    assert sessions == [logins[1]]  # the hop only forwarded; the agent runs in the second login


def test_proxyjump_hop_key_is_checked_like_the_target(sshd: LocalSSHD, tmp_path: Path) -> None:
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    config = tmp_path / "ssh_config"
    config.write_text(f"Host jumpbox\n  HostName 127.0.0.1\n  Port {sshd.port}\n  User {sshd.user}\n"
                      f"  IdentityFile {sshd.client_key}\n")
    inv = inventory(tmp_path / "inv.yml", {"h1": dict(
        sshd.host_vars(), ansible_ssh_common_args=f"-F {config} -J jumpbox -o UserKnownHostsFile={empty}")})
    result = fleet("run", "-i", str(inv), "h1", "-a", "true")
    assert result.returncode == 1
    assert "host key for 127.0.0.1 is not known" in result.stdout
    assert "Accepted" not in log(sshd)


@pytest.mark.parametrize(("args", "named"), [
    ("-o LocalForward='8022 127.0.0.1:22'", "ssh option 'LocalForward' is not supported by fleet"),
    ("-L 8022:127.0.0.1:22", "ssh flag -L is not supported by fleet"),
    ("-tt", "ssh flag -t is not supported by fleet"),
    ("-o ForwardX11=yes", "ssh option ForwardX11=yes is not supported by fleet"),
    ("-o PorxyCommand='nc bastion 22'", "ssh option 'PorxyCommand' is not supported by fleet"),
    ("-o ProxyCommand='nc %x 22'", "ssh option ProxyCommand: unknown token %x"),
    ("-o Port=http", "ssh option Port: a port (1-65535) expected"),
])
def test_unsupported_ssh_option_stops_the_run_before_any_connection(sshd: LocalSSHD, tmp_path: Path,
                                                                    args: str, named: str) -> None:
    inv = tmp_path / "inv.yml"
    inventory(inv, {"h1": dict(sshd.host_vars()),
                    "h2": dict(sshd.host_vars(), ansible_ssh_extra_args=args)})
    playbook = tmp_path / "p.yml"
    target = tmp_path / "touched"
    playbook.write_text(f"- hosts: all\n  gather_facts: false\n  tasks:\n    - copy: {{dest: {target}, content: x}}\n")
    result = fleet("apply", "-i", str(inv), str(playbook))
    out = result.stdout + result.stderr
    assert result.returncode == 1, out
    assert f"{inv}" in out and f"host h2: ansible_ssh_extra_args: {named}" in out, out
    assert not target.exists()  # not even the good host was touched
    assert connections(sshd) == 0


def test_first_value_wins_and_flags_are_options(sshd: LocalSSHD, tmp_path: Path) -> None:
    """As ssh: -p and -o Port compete (the first wins); -l and -i work; harmless options pass."""
    inv = inventory(tmp_path / "inv.yml", {"h1": {
        "ansible_host": "127.0.0.1",
        "ansible_ssh_common_args": f"-o UserKnownHostsFile={sshd.known_hosts} -p {sshd.port} -o Port=1 "
                                   f"-l {sshd.user} -i {sshd.client_key} -C -4 -o ServerAliveInterval=5 "
                                   f"-o ControlMaster=auto -o ControlPersist=60s -o IdentitiesOnly=yes -q"}})
    result = fleet("run", "-i", str(inv), "h1", "-a", "id -un")
    assert result.returncode == 0, result.stdout + result.stderr
    assert sshd.user in result.stdout


def test_proxycommand_through_the_persistence_daemon(sshd: LocalSSHD, tmp_path: Path) -> None:
    """The daemon builds the same transport from the spec's data: the relay is used, once."""
    relay, marker = tmp_path / "relay.py", tmp_path / "relay-calls"
    relay.write_text(RELAY)
    proxy = f"{sys.executable} {relay} %h %p {sshd.port} {marker} 2>/dev/null"
    inv = inventory(tmp_path / "inv.yml", {"h1": dict(
        sshd.host_vars(), ansible_port=closed_port(),
        ansible_ssh_common_args=f"-o UserKnownHostsFile={sshd.known_hosts} -o HostKeyAlias=[127.0.0.1]:{sshd.port} "
                                f"-o 'ProxyCommand={proxy}'")})
    env = {"FLEET_PERSIST": "30", "FLEET_MUX_DIR": str(tmp_path / "mux")}
    try:
        for _ in range(2):
            result = fleet("run", "-i", str(inv), "h1", "-a", "id -un", env=env)
            assert result.returncode == 0, result.stdout + result.stderr
    finally:
        fleet("mux", "stop", env=env)
    assert len(marker.read_text().splitlines()) == 1  # the second run reused the kept connection
