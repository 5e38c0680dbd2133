"""Host keys: verified by default, unknown refused, accept-new records, changed always refused —
also when the inventory turns checking "off" (only an explicit insecure opt-out skips it)."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from fleet.testing.sshd import LocalSSHD, find_sshd
from tests.conftest import fleet, require
from tests.e2e.conftest import Lab


def _inventory_without_known_hosts(lab: Lab, path: Path) -> Path:
    data = yaml.safe_load(lab.inventory.read_text())
    del data["all"]["children"]["fleet"]["vars"]["ansible_ssh_common_args"]
    path.write_text(yaml.safe_dump(data))
    return path


def test_unknown_host_key_is_refused_by_default(lab: Lab, tmp_path: Path) -> None:
    inventory = _inventory_without_known_hosts(lab, tmp_path / "inv.yml")
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    result = fleet("run", "-i", str(inventory), "h1", "-m", "ping", "--known-hosts", str(empty))
    assert result.returncode == 1
    assert "host key for 127.0.0.1 is not known" in result.stdout
    assert "--accept-new-host-keys" in result.stdout
    assert empty.read_text() == ""


def test_accept_new_host_keys_records_the_key(lab: Lab, tmp_path: Path) -> None:
    inventory = _inventory_without_known_hosts(lab, tmp_path / "inv.yml")
    known = tmp_path / "known_hosts"
    result = fleet("run", "-i", str(inventory), "h1", "-m", "ping", "--known-hosts", str(known),
                   "--accept-new-host-keys")
    assert result.returncode == 0, result.stdout + result.stderr
    blob = lab.sshd.host_key.with_suffix(".pub").read_text().split()[1]
    assert known.read_text().strip() == f"[127.0.0.1]:{lab.sshd.port} ssh-ed25519 {blob}"
    again = fleet("run", "-i", str(inventory), "h1", "-m", "ping", "--known-hosts", str(known))
    assert again.returncode == 0, again.stdout


def test_changed_host_key_is_refused_even_with_accept_new(lab: Lab, tmp_path: Path) -> None:
    inventory = _inventory_without_known_hosts(lab, tmp_path / "inv.yml")
    other = tmp_path / "other_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)], check=True)
    known = tmp_path / "known_hosts"
    algorithm, blob = other.with_suffix(".pub").read_text().split()[:2]
    known.write_text(f"[127.0.0.1]:{lab.sshd.port} {algorithm} {blob}\n")
    result = fleet("run", "-i", str(inventory), "h1", "-m", "ping", "--known-hosts", str(known),
                   "--accept-new-host-keys")
    assert result.returncode == 1
    assert "CHANGED" in result.stdout
    assert known.read_text() == f"[127.0.0.1]:{lab.sshd.port} {algorithm} {blob}\n"


def test_no_user_anywhere_logs_in_as_the_local_user(lab: Lab, tmp_path: Path) -> None:
    data = yaml.safe_load(lab.inventory.read_text())
    del data["all"]["children"]["fleet"]["vars"]["ansible_user"]
    inventory = tmp_path / "inv.yml"
    inventory.write_text(yaml.safe_dump(data))
    result = fleet("run", "-i", str(inventory), "h1", "-a", "id -un")
    assert result.returncode == 0, result.stdout + result.stderr
    assert lab.sshd.user in result.stdout


# -- host-key checking "off" (Ansible's false, OpenSSH's no): new keys recorded, changed refused --

SECRET_LOGIN, SECRET_SUDO = "login-pw-7Qx2", "sudo-pw-9Zk4"
OFF_WAYS = {  # every way an inventory or environment says "no host-key checking", Ansible style
    "ansible_host_key_checking": ({"ansible_host_key_checking": False}, {}),
    "StrictHostKeyChecking=no": ({"ansible_ssh_extra_args": "-o StrictHostKeyChecking=no"}, {}),
    "ANSIBLE_HOST_KEY_CHECKING": ({}, {"ANSIBLE_HOST_KEY_CHECKING": "False"}),
}


@pytest.fixture
def verbose_sshd(tmp_path: Path) -> Iterator[LocalSSHD]:
    """A private sshd that logs every connection and authentication, and would take passwords."""
    require(find_sshd() is not None, "sshd is not installed (apt-get install openssh-server)")
    server = LocalSSHD.start(tmp_path / "sshd", extra_config=["LogLevel VERBOSE", "PasswordAuthentication yes"])
    yield server
    server.stop()


def _auth_lines(sshd: LocalSSHD) -> list[str]:
    """What sshd logged about authentication (any attempt, any method)."""
    time.sleep(0.5)  # sshd writes its log lines as the connection ends
    log = (sshd.workdir / "sshd.log").read_text()
    return [line for line in log.splitlines()
            if line.startswith(("Accepted", "Failed", "Postponed", "Starting session"))]


def _off_inventory(sshd: LocalSSHD, path: Path, known: Path, extra: dict[str, object],
                   with_key: bool = True) -> Path:
    values = dict(sshd.host_vars(), ansible_password=SECRET_LOGIN, ansible_become_password=SECRET_SUDO,
                  ansible_ssh_common_args=f"-o UserKnownHostsFile={known}", **extra)
    if not with_key:
        del values["ansible_ssh_private_key_file"]
    path.write_text(yaml.safe_dump({"all": {"hosts": {"h1": values}}}))
    return path


def _other_key(tmp_path: Path) -> tuple[str, str]:
    other = tmp_path / "other_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)], check=True)
    algorithm, blob = other.with_suffix(".pub").read_text().split()[:2]
    return algorithm, blob


@pytest.mark.parametrize("way", sorted(OFF_WAYS))
@pytest.mark.parametrize("with_key", [True, False], ids=["key+password", "password-only"])
def test_changed_key_with_checking_off_is_refused_before_any_credential_is_sent(
        verbose_sshd: LocalSSHD, tmp_path: Path, way: str, with_key: bool) -> None:
    variables, env = OFF_WAYS[way]
    algorithm, blob = _other_key(tmp_path)
    known = tmp_path / "known_hosts"
    known.write_text(f"[127.0.0.1]:{verbose_sshd.port} {algorithm} {blob}\n")
    inventory = _off_inventory(verbose_sshd, tmp_path / "inv.yml", known, variables, with_key)
    result = fleet("run", "-i", str(inventory), "h1", "-b", "-a", "id -un", env=env)
    out = result.stdout + result.stderr
    assert result.returncode == 1, out
    assert "host key for 127.0.0.1 has CHANGED" in result.stdout, out
    assert "no password, key or data was sent" in result.stdout and "never accepts a changed one" in result.stdout
    assert SECRET_LOGIN not in out and SECRET_SUDO not in out
    # sshd saw no authentication at all: no key, no password (the sudo password comes later still)
    assert _auth_lines(verbose_sshd) == []
    assert known.read_text() == f"[127.0.0.1]:{verbose_sshd.port} {algorithm} {blob}\n"


@pytest.mark.parametrize("way", sorted(OFF_WAYS))
def test_unknown_key_with_checking_off_is_accepted_and_recorded(verbose_sshd: LocalSSHD, tmp_path: Path,
                                                                  way: str) -> None:
    variables, env = OFF_WAYS[way]
    known = tmp_path / "ssh" / "known_hosts"  # its directory does not exist yet either
    inventory = _off_inventory(verbose_sshd, tmp_path / "inv.yml", known, variables)
    result = fleet("run", "-i", str(inventory), "h1", "-a", "id -un", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    blob = verbose_sshd.host_key.with_suffix(".pub").read_text().split()[1]
    assert known.read_text() == f"[127.0.0.1]:{verbose_sshd.port} ssh-ed25519 {blob}\n"
    assert (known.parent.stat().st_mode & 0o777) == 0o700
    # once recorded, the key is what a strict run checks against
    strict = _off_inventory(verbose_sshd, tmp_path / "strict.yml", known, {})
    again = fleet("run", "-i", str(strict), "h1", "-a", "id -un")
    assert again.returncode == 0, again.stdout + again.stderr
    assert known.read_text().count("ssh-ed25519") == 1


def test_explicit_insecure_opt_out_connects_despite_a_changed_key(verbose_sshd: LocalSSHD, tmp_path: Path) -> None:
    algorithm, blob = _other_key(tmp_path)
    known = tmp_path / "known_hosts"
    known.write_text(f"[127.0.0.1]:{verbose_sshd.port} {algorithm} {blob}\n")
    inventory = _off_inventory(verbose_sshd, tmp_path / "inv.yml", known, {"ansible_host_key_checking": False})
    report = tmp_path / "report.json"
    result = fleet("run", "-i", str(inventory), "h1", "-a", "id -un", "--json", str(report),
                   "-e", "fleet_insecure_no_host_key_checking=true")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "host key checking is OFF for h1" in result.stdout
    assert any("host key checking is OFF for h1" in w for w in json.loads(report.read_text())["warnings"])
    assert known.read_text() == f"[127.0.0.1]:{verbose_sshd.port} {algorithm} {blob}\n"  # nothing recorded
    assert any(line.startswith("Accepted publickey") for line in _auth_lines(verbose_sshd))


def test_a_host_key_setting_that_is_not_a_boolean_stops_the_run_before_connecting(
        verbose_sshd: LocalSSHD, tmp_path: Path) -> None:
    known = tmp_path / "known_hosts"
    inventory = _off_inventory(verbose_sshd, tmp_path / "inv.yml", known, {"ansible_host_key_checking": "strict"})
    result = fleet("run", "-i", str(inventory), "h1", "-a", "id -un")
    assert result.returncode == 1
    assert "host h1: ansible_host_key_checking: true or false expected, got 'strict'" in result.stdout + result.stderr
    plain = _off_inventory(verbose_sshd, tmp_path / "plain.yml", known, {})
    env = fleet("run", "-i", str(plain), "h1", "-a", "id -un", env={"ANSIBLE_HOST_KEY_CHECKING": "maybe"})
    assert env.returncode == 1
    assert "ANSIBLE_HOST_KEY_CHECKING: true or false expected, got 'maybe'" in env.stdout + env.stderr
    assert connections(verbose_sshd) == 0


def connections(sshd: LocalSSHD) -> int:
    """TCP connections sshd accepted, not counting the readiness probe of LocalSSHD.start."""
    time.sleep(0.5)
    return (sshd.workdir / "sshd.log").read_text().count("Connection from") - 1


def test_changed_key_with_checking_off_is_refused_through_the_persistence_daemon(
        verbose_sshd: LocalSSHD, tmp_path: Path) -> None:
    algorithm, blob = _other_key(tmp_path)
    known = tmp_path / "known_hosts"
    known.write_text(f"[127.0.0.1]:{verbose_sshd.port} {algorithm} {blob}\n")
    inventory = _off_inventory(verbose_sshd, tmp_path / "inv.yml", known, {"ansible_host_key_checking": False})
    env = {"FLEET_PERSIST": "30", "FLEET_MUX_DIR": str(tmp_path / "mux")}
    try:
        result = fleet("run", "-i", str(inventory), "h1", "-b", "-a", "id -un", env=env)
    finally:
        fleet("mux", "stop", env=env)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "host key for 127.0.0.1 has CHANGED" in result.stdout
    assert _auth_lines(verbose_sshd) == []
