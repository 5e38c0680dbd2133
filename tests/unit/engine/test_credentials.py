"""Connection credentials: passwords become secrets, unsafe key files give one warning each."""

from __future__ import annotations

from pathlib import Path

from fleet.connection import ConnectionDefaults, make_connection
from fleet.connection.credentials import key_file_problem, note_credentials
from fleet.secrets import Secrets


def test_key_file_modes(tmp_path: Path) -> None:
    key = tmp_path / "id"
    key.write_text("KEY")
    key.chmod(0o600)
    assert key_file_problem(str(key)) is None
    key.chmod(0o644)
    assert key_file_problem(str(key)) == (f"private key {key} is accessible by others (mode 0644): "
                                          f"chmod 600 {key} (OpenSSH refuses such a key)")
    assert "does not exist" in (key_file_problem(str(tmp_path / "missing")) or "")


def test_passwords_are_secrets_and_keys_are_checked_once(tmp_path: Path) -> None:
    key = tmp_path / "id"
    key.write_text("KEY")
    key.chmod(0o640)
    hostvars = {"ansible_host": "127.0.0.1", "ansible_password": "ssh-pass-123",
                "ansible_become_password": "sudo-pass-456", "ansible_ssh_private_key_file": str(key)}
    secrets, checked, warnings = Secrets(), set(), []
    for name in ("a", "b"):
        connection = make_connection(name, hostvars, ConnectionDefaults(), b"")
        note_credentials(connection, secrets, checked, warnings)
    assert secrets.redact("ssh-pass-123 / sudo-pass-456") == "******** / ********"
    assert len(warnings) == 1 and "mode 0640" in warnings[0]
