"""fleet's vault format, versions 2 (written) and 1 (read).

Envelope::

    $FLEET_VAULT;2;AES256-GCM;SCRYPT;<vault id>
    <base64 of salt (16 bytes) | nonce (12 bytes) | ciphertext and GCM tag (16 bytes)>

The base64 (standard alphabet, padded) is wrapped at 80 characters; the text ends with a newline.
The key is ``scrypt(password, salt, n, r=8, p=1)``, 32 bytes, with ``n=2**17`` in version 2
(OWASP's recommendation; 128 MiB per derivation) and ``n=2**15`` in version 1, which fleet wrote
before and still reads. The cipher is AES-256-GCM with the header line (ASCII, no newline) as
associated data, so a changed vault id or version fails authentication like a changed byte of
the body. The parameters belong to the version: a file cannot ask for other ones (and so cannot
make a reader spend unbounded memory or time).
"""

from __future__ import annotations

import base64
import binascii
import os
from types import MappingProxyType

from fleet.errors import Location
from fleet.vault.envelope import FLEET_MAGIC, Envelope, check_vault_id, wrap
from fleet.vault.errors import VaultError

VERSION = "2"  # what fleet writes
SALT_SIZE = 16
NONCE_SIZE = 12
TAG_SIZE = 16
KEY_SIZE = 32
SCRYPT_N = MappingProxyType({"1": 2**15, "2": 2**17})  # per format version
SCRYPT_R = 8
SCRYPT_P = 1


def header(vault_id: str, version: str = VERSION) -> str:
    """The header line of a ``version`` envelope for ``vault_id``."""
    return f"{FLEET_MAGIC};{version};AES256-GCM;SCRYPT;{check_vault_id(vault_id)}"


def derive_key(password: bytes, salt: bytes, version: str = VERSION) -> bytes:
    """scrypt(password, salt) with ``version``'s parameters: 32 bytes of AES key."""
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    return Scrypt(salt=salt, length=KEY_SIZE, n=SCRYPT_N[version], r=SCRYPT_R,
                  p=SCRYPT_P).derive(password)


def encrypt(plaintext: bytes, key: bytes, salt: bytes, vault_id: str, nonce: bytes | None = None,
            version: str = VERSION) -> str:
    """The ``version`` envelope of ``plaintext`` under ``key`` (derived from the password with
    ``salt`` for that version).

    ``nonce`` is random unless given (tests only: a nonce must never repeat under one key).
    """
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    head = header(vault_id, version)
    nonce = os.urandom(NONCE_SIZE) if nonce is None else nonce
    sealed = AESGCM(key).encrypt(nonce, plaintext, head.encode("ascii"))
    return wrap(head, base64.b64encode(salt + nonce + sealed).decode("ascii"))


def new_salt() -> bytes:
    return os.urandom(SALT_SIZE)


def split(envelope: Envelope, loc: Location | None) -> tuple[bytes, bytes, bytes]:
    """(salt, nonce, ciphertext with tag) of an envelope; ``VaultError`` if malformed."""
    try:
        raw = base64.b64decode(envelope.body, validate=True)
    except (binascii.Error, ValueError):
        raise VaultError("malformed vault data: the body is not valid base64 "
                         "(truncated or modified?)", loc) from None
    if len(raw) < SALT_SIZE + NONCE_SIZE + TAG_SIZE:
        raise VaultError("malformed vault data: too short (truncated?)", loc)
    return raw[:SALT_SIZE], raw[SALT_SIZE:SALT_SIZE + NONCE_SIZE], raw[SALT_SIZE + NONCE_SIZE:]


def open_sealed(key: bytes, nonce: bytes, sealed: bytes, envelope: Envelope) -> bytes | None:
    """The plaintext, or None if the key is wrong or anything authenticated was modified."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    try:
        return AESGCM(key).decrypt(nonce, sealed, envelope.header.encode("utf-8"))
    except InvalidTag:
        return None
