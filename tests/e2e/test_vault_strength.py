"""The vault's key derivation and format warning, end to end: files fleet writes now use scrypt
n=2**17 (checked with the primitives alone), files written with n=2**15 still work, both reach
a host over SSH, and writing Ansible's weaker format says so."""

from __future__ import annotations

import base64
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from tests.conftest import fleet
from tests.e2e.conftest import Lab
from tests.unit.vault.conftest import PASSWORD
from tests.unit.vault.test_fleet_format import VECTOR_PROD  # written by fleet with n=2**15

NEW_SECRET = "Fresh-Api-Key-Value"
PLAYBOOK = """\
- hosts: h1
  gather_facts: false
  vars_files: [old.yml, new.yml]
  tasks:
    - name: credentials from both vault files
      copy:
        dest: "{{ root }}/credentials"
        content: "db={{ db_password }} api={{ api_key }}\\n"
        mode: "0600"
"""


def open_by_spec(envelope: str, n: int) -> bytes:
    """Decrypt a fleet envelope with the primitives alone, with scrypt's cost ``n``."""
    header, *lines = envelope.split()
    raw = base64.b64decode("".join(lines))
    salt, nonce, sealed = raw[:16], raw[16:28], raw[28:]
    key = Scrypt(salt=salt, length=32, n=n, r=8, p=1).derive(PASSWORD.encode())
    return AESGCM(key).decrypt(nonce, sealed, header.encode())


def test_new_files_use_scrypt_2_17_and_old_files_still_work(lab: Lab) -> None:
    password = lab.workdir / "vault.pw"
    password.write_text(PASSWORD + "\n")
    password.chmod(0o600)
    (lab.workdir / "old.yml").write_text(VECTOR_PROD)
    new = lab.workdir / "new.yml"
    new.write_text(f"api_key: {NEW_SECRET}\n")
    encrypted = fleet("vault", "encrypt", "--vault-password-file", str(password), str(new))
    assert encrypted.returncode == 0, encrypted.stderr
    assert "weaker" not in encrypted.stderr
    assert open_by_spec(new.read_text(), 2**17) == f"api_key: {NEW_SECRET}\n".encode()
    playbook = lab.workdir / "site.yml"
    playbook.write_text(PLAYBOOK)
    lab.roots["h1"].mkdir(parents=True, exist_ok=True)
    applied = fleet("apply", "-i", str(lab.inventory), str(playbook), "--vault-password-file", str(password))
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert (lab.roots["h1"] / "credentials").read_text() == f"db=hunter2 api={NEW_SECRET}\n"


def test_ansible_format_is_written_with_a_warning(tmp_path: Path) -> None:
    password = tmp_path / "vault.pw"
    password.write_text(PASSWORD + "\n")
    password.chmod(0o600)
    plain = tmp_path / "vars.yml"
    plain.write_text("token: abc\n")
    done = fleet("vault", "encrypt", "--format", "ansible", "--vault-password-file", str(password), str(plain))
    assert done.returncode == 0, done.stderr
    assert plain.read_text().startswith("$ANSIBLE_VAULT;1.1;AES256\n")
    assert "Ansible's vault format is weaker than fleet's" in done.stderr
    assert "10,000 iterations" in done.stderr and "not authenticated" in done.stderr
    value = fleet("vault", "encrypt-string", "--format", "ansible", "--vault-password-file", str(password), "x")
    assert value.returncode == 0 and "weaker" in value.stderr and "weaker" not in value.stdout
