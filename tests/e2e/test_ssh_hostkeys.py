"""Host keys: verified by default, unknown refused, accept-new records, changed always refused."""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

from tests.conftest import fleet
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
