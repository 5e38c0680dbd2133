"""The vault: encrypted variable files and values, in fleet's format or Ansible's.

Public API (everything raises ``VaultError``, a ``FleetError``, with one clear message)::

    is_encrypted(data: str | bytes) -> bool           # a "$FLEET_VAULT;" / "$ANSIBLE_VAULT;" envelope?
    parse_envelope(data, where=None) -> Envelope        # header fields; unknown versions refused

    VaultSecret(vault_id: str, password: bytes, source: str = "")
    VaultKeyring(secrets: Iterable[VaultSecret])
        .ids -> tuple[str, ...]
        .decrypt(data: str | bytes, where: str | Location | None = None) -> str
        .decrypt_bytes(data, where=None) -> bytes
        .open(data, where=None) -> Opened(plaintext, secret, envelope)
        .encrypt(plaintext: str | bytes, vault_id: str | None = None,
                 format: "fleet" | "ansible" = "fleet") -> str
        .secret_for(vault_id: str | None = None) -> VaultSecret
    encrypt_with(secret, plaintext, format="fleet") -> str
    VaultValue(text, location)                          # an inline !vault value, as loaded

    keyring_from_options(password_files=(), vault_ids=(), ask=False, *, confirm=False,
                         prompt=None, env=None, warn=None) -> VaultKeyring | None

Decryption tries the secrets whose id the header names first, then the others. A wrong password
and modified data raise ``DecryptionFailed`` ("decryption failed: wrong password or the data was
modified (vault id 'x'; tried: ...)"), prefixed by ``where``.

fleet's envelope (``fleet.vault.fleetfmt``)::

    $FLEET_VAULT;2;AES256-GCM;SCRYPT;<vault id>
    base64(salt[16] | nonce[12] | AES-256-GCM ciphertext+tag), lines of 80

key = scrypt(password, salt, n=2**17, r=8, p=1) -> 32 bytes (version 1, still read: n=2**15);
the header line is the associated data. Ansible's 1.1/1.2 envelopes (``fleet.vault.ansiblefmt``)
are read and can be written (weaker: PBKDF2 with 10,000 iterations, header not authenticated).
"""

from __future__ import annotations

from fleet.vault.editing import EditInterrupted, edit_in_private
from fleet.vault.envelope import DEFAULT_ID, Envelope, Format, is_encrypted, parse_envelope
from fleet.vault.errors import DECRYPTION_FAILED, DecryptionFailed, VaultError
from fleet.vault.files import read as read_file
from fleet.vault.files import write_atomic
from fleet.vault.keyring import Opened, VaultKeyring, VaultSecret, encrypt_with
from fleet.vault.passwords import keyring_from_options, prompt_secret
from fleet.vault.value import VaultValue

__all__ = [
    "DECRYPTION_FAILED",
    "DEFAULT_ID",
    "DecryptionFailed",
    "EditInterrupted",
    "Envelope",
    "Format",
    "Opened",
    "VaultError",
    "VaultKeyring",
    "VaultSecret",
    "VaultValue",
    "edit_in_private",
    "encrypt_with",
    "is_encrypted",
    "keyring_from_options",
    "parse_envelope",
    "prompt_secret",
    "read_file",
    "write_atomic",
]
