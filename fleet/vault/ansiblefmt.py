"""Ansible's vault format 1.1 / 1.2 (``$ANSIBLE_VAULT;1.1;AES256``, ``...;1.2;AES256;<id>``).

The lines after the header are hex; unhexlified they are three lines of hex::

    hex(salt) \\n hex(HMAC-SHA256(hmac key, ciphertext)) \\n hex(ciphertext)

``PBKDF2-HMAC-SHA256(password, salt, 10000 iterations)`` gives 80 bytes: the AES key (32),
the HMAC key (32) and the counter block (16) of AES-256-CTR; the plaintext is PKCS#7-padded
to 16 bytes. The HMAC is checked (in constant time) before anything is decrypted. The header is
not authenticated in this format.
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
import os
from typing import TYPE_CHECKING

from fleet.errors import Location
from fleet.vault.envelope import ANSIBLE_MAGIC, DEFAULT_ID, Envelope, check_vault_id, wrap
from fleet.vault.errors import VaultError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.ciphers import Cipher, modes

SALT_SIZE = 32
ITERATIONS = 10000
KEY_MATERIAL = 80  # AES key 32 | HMAC key 32 | IV 16


def header(vault_id: str) -> str:
    """1.1 for the default vault id (as Ansible writes it), 1.2 naming any other id."""
    if vault_id == DEFAULT_ID:
        return f"{ANSIBLE_MAGIC};1.1;AES256"
    return f"{ANSIBLE_MAGIC};1.2;AES256;{check_vault_id(vault_id)}"


def derive_key(password: bytes, salt: bytes) -> bytes:
    """The 80 bytes of key material for ``salt``."""
    return hashlib.pbkdf2_hmac("sha256", password, salt, ITERATIONS, KEY_MATERIAL)


def new_salt() -> bytes:
    return os.urandom(SALT_SIZE)


def _ctr(material: bytes) -> Cipher[modes.CTR]:
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    return Cipher(algorithms.AES(material[:32]), modes.CTR(material[64:80]))


def encrypt(plaintext: bytes, material: bytes, salt: bytes, vault_id: str) -> str:
    """The envelope of ``plaintext`` under the key material derived with ``salt``."""
    from cryptography.hazmat.primitives import padding

    head = header(vault_id)
    padder = padding.PKCS7(128).padder()
    padded = padder.update(plaintext) + padder.finalize()
    encryptor = _ctr(material).encryptor()
    ciphertext = encryptor.update(padded) + encryptor.finalize()
    mac = hmac.new(material[32:64], ciphertext, hashlib.sha256).hexdigest().encode("ascii")
    inner = b"\n".join([binascii.hexlify(salt), mac, binascii.hexlify(ciphertext)])
    return wrap(head, binascii.hexlify(inner).decode("ascii"))


def split(envelope: Envelope, loc: Location | None) -> tuple[bytes, bytes, bytes]:
    """(salt, HMAC, ciphertext) of an envelope; ``VaultError`` if the body is malformed."""
    try:
        parts = binascii.unhexlify(envelope.body).split(b"\n")
        if len(parts) != 3:
            raise ValueError("expected three parts")
        salt, mac, ciphertext = (binascii.unhexlify(part) for part in parts)
    except (binascii.Error, ValueError):
        raise VaultError("malformed vault data: the body is not Ansible's hex layout "
                         "(truncated or modified?)", loc) from None
    if not salt or len(mac) != 32 or not ciphertext or len(ciphertext) % 16:
        raise VaultError("malformed vault data: bad sizes (truncated or modified?)", loc)
    return salt, mac, ciphertext


def open_sealed(material: bytes, mac: bytes, ciphertext: bytes) -> bytes | None:
    """The plaintext, or None if the HMAC does not match (wrong password or modified data)."""
    from cryptography.hazmat.primitives import padding

    expected = hmac.new(material[32:64], ciphertext, hashlib.sha256).digest()
    if not hmac.compare_digest(expected, mac):
        return None
    decryptor = _ctr(material).decryptor()
    padded = decryptor.update(ciphertext) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    try:
        return unpadder.update(padded) + unpadder.finalize()
    except ValueError:
        return None
