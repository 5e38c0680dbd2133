"""Host keys against real sshd hosts: unknown refused, accept-new records, changed always refused."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

from tests.integration.conftest import ITLab, output, run_fleet


def _inventory(lab: ITLab, tmp_path: Path) -> Path:
    """The lab inventory without its own known_hosts (so --known-hosts decides)."""
    return lab.derived(tmp_path / "inv.yml", drop=("ansible_ssh_common_args",))


def _host_keys(lab: ITLab, host: str) -> set[tuple[str, str]]:
    """(algorithm, blob) of every host key the host's sshd serves."""
    text = lab.sh(host, "cat /etc/ssh/ssh_host_ed25519_key.pub /etc/ssh/ssh_host_ecdsa_key.pub")
    return {tuple(line.split()[:2]) for line in text.splitlines() if line.strip()}  # type: ignore[misc]


def test_unknown_host_key_is_refused_by_default(lab: ITLab, tmp_path: Path) -> None:
    inventory = _inventory(lab, tmp_path)
    known = tmp_path / "known_hosts"
    known.write_text("")
    result = run_fleet("run", "-i", str(inventory), "itest1", "-m", "ping", "--known-hosts", str(known))
    assert result.returncode == 1, output(result)
    assert f"host key for {lab.ip('itest1')} is not known" in result.stdout, result.stdout
    assert "--accept-new-host-keys" in result.stdout and "itest1" in result.stdout
    assert known.read_text() == ""

    playbook = tmp_path / "p.yml"
    playbook.write_text("- hosts: all\n  gather_facts: false\n  tasks:\n    - ping:\n")
    apply = run_fleet("apply", "-i", str(inventory), str(playbook), "--known-hosts", str(known))
    assert apply.returncode == 1
    for host in ("itest1", "itest2", "itest3"):
        assert f"unreachable: [{host}] => host key for {lab.ip(host)} is not known" in apply.stdout
    assert known.read_text() == ""


def test_accept_new_host_keys_records_the_key(lab: ITLab, tmp_path: Path) -> None:
    inventory = _inventory(lab, tmp_path)
    known = tmp_path / "known_hosts"
    result = run_fleet("run", "-i", str(inventory), "itest2", "-m", "ping", "--known-hosts", str(known),
                       "--accept-new-host-keys")
    assert result.returncode == 0, output(result)
    lines = known.read_text().splitlines()
    assert len(lines) == 1
    name, algorithm, blob = lines[0].split()
    assert name == lab.ip("itest2")
    assert (algorithm, blob) in _host_keys(lab, "itest2")
    again = run_fleet("run", "-i", str(inventory), "itest2", "-m", "ping", "--known-hosts", str(known))
    assert again.returncode == 0, output(again)
    assert known.read_text().splitlines() == lines  # nothing recorded twice
    # OpenSSH agrees with what was recorded.
    ssh = subprocess.run(["ssh", "-o", "BatchMode=yes", "-o", f"UserKnownHostsFile={known}",
                          "-o", "StrictHostKeyChecking=yes", "-o", "GlobalKnownHostsFile=/dev/null",
                          "-i", str(lab.directory / "id_ed25519"), f"root@{lab.ip('itest2')}", "hostname"],
                         capture_output=True, text=True, timeout=30)
    assert ssh.returncode == 0 and ssh.stdout.strip() == "itest2", ssh.stderr


def test_wrong_key_in_known_hosts_is_refused_even_with_accept_new(lab: ITLab, tmp_path: Path) -> None:
    inventory = _inventory(lab, tmp_path)
    other = tmp_path / "other"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)], check=True)
    algorithm, blob = other.with_suffix(".pub").read_text().split()[:2]
    known = tmp_path / "known_hosts"
    known.write_text(f"{lab.ip('itest1')} {algorithm} {blob}\n")
    before = known.read_text()
    result = run_fleet("run", "-i", str(inventory), "itest1", "-m", "ping", "--known-hosts", str(known),
                       "--accept-new-host-keys")
    assert result.returncode == 1, output(result)
    assert f"host key for {lab.ip('itest1')} has CHANGED" in result.stdout, result.stdout
    assert known.read_text() == before


def test_regenerated_host_key_is_refused_even_with_accept_new(itlab: ITLab, tmp_path: Path) -> None:
    lab = itlab
    known = tmp_path / "known_hosts"
    known.write_text((lab.directory / "known_hosts").read_text())  # the lab's, correct until now
    inventory = _inventory(lab, tmp_path)
    ok = run_fleet("run", "-i", str(inventory), "itest3", "-m", "ping", "--known-hosts", str(known))
    assert ok.returncode == 0, output(ok)
    try:
        lab.sh("itest3", "rm -f /etc/ssh/ssh_host_* && "
                         "ssh-keygen -q -t ed25519 -N '' -f /etc/ssh/ssh_host_ed25519_key && "
                         "ssh-keygen -q -t ecdsa -N '' -f /etc/ssh/ssh_host_ecdsa_key && systemctl restart ssh")
        _wait_for_port(lab.ip("itest3"), 22)
        before = known.read_text()
        result = run_fleet("run", "-i", str(inventory), "itest3", "-m", "ping", "--known-hosts", str(known),
                           "--accept-new-host-keys")
        assert result.returncode == 1, output(result)
        assert f"host key for {lab.ip('itest3')} has CHANGED" in result.stdout, result.stdout
        assert "ssh-keygen -R" in result.stdout
        assert known.read_text() == before
        # the other hosts are unaffected
        others = run_fleet("run", "-i", str(inventory), "itest1:itest2", "-m", "ping", "--known-hosts", str(known))
        assert others.returncode == 0, output(others)
    finally:
        lab.heal()  # rewrites the lab's known_hosts with the new key


def _wait_for_port(ip: str, port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            sock.settimeout(0.5)
            if sock.connect_ex((ip, port)) == 0:
                return
        time.sleep(0.2)
    raise AssertionError(f"sshd on {ip} did not come back")
