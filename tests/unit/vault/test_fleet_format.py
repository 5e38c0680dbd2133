"""fleet's envelope: round trips, the stored vectors, wrong passwords, tampering, truncation."""

from __future__ import annotations

import base64
import random
from collections.abc import Callable

import pytest

from fleet.errors import Location
from fleet.vault import (
    DECRYPTION_FAILED,
    DecryptionFailed,
    VaultError,
    VaultKeyring,
    VaultSecret,
    fleetfmt,
    is_encrypted,
    parse_envelope,
)
from fleet.vault.envelope import FLEET_VERSIONS
from tests.unit.vault.conftest import PASSWORD

# Written by fleet.vault.fleetfmt.encrypt with salt bytes(range(16)) and nonce
# bytes(range(100, 112)), password "fleet-vector": files written today must open forever.
# Version 2 (scrypt n=2**17) is what fleet writes; version 1 (n=2**15) what it wrote before.
VECTOR_V2 = """\
$FLEET_VAULT;2;AES256-GCM;SCRYPT;prod
AAECAwQFBgcICQoLDA0OD2RlZmdoaWprbG1ub3RrGkPsZuz51iCZ+VT6t5A7sKojeURKwxTC1ftm9BZn
tA47gjI=
"""
VECTOR_PROD = """\
$FLEET_VAULT;1;AES256-GCM;SCRYPT;prod
AAECAwQFBgcICQoLDA0OD2RlZmdoaWprbG1ub/oeLoxoaOHPKqvr0ycKlHOvzWipe8zOTEVZuoSdrucb
+hqcBNc=
"""
VECTOR_DEFAULT = """\
$FLEET_VAULT;1;AES256-GCM;SCRYPT;default
AAECAwQFBgcICQoLDA0OD2RlZmdoaWprbG1ub+i/1ZB8fqiYhmXhKqgBjnm+iPgH4glL0NyLVuxG8Lfc
eXZ3YqfzV+1doRxfQqo6IN+ZAxJhoWCV1d8CzXi4dxTyyVBP//msSLIdtlFbnhUQ6QY=
"""
UNICODE = "välue: ünïcode ✓\n" * 3


def keyring(*secrets: tuple[str, str]) -> VaultKeyring:
    return VaultKeyring([VaultSecret(vid, pw.encode()) for vid, pw in secrets])


@pytest.fixture(scope="module")
def right() -> VaultKeyring:
    """One keyring for the module: its key cache keeps repeated decryptions cheap."""
    return keyring(("prod", PASSWORD), ("default", PASSWORD))


def test_stored_vectors_decrypt(right: VaultKeyring) -> None:
    assert right.decrypt(VECTOR_V2) == "db_password: hunter2\n"
    assert right.decrypt(VECTOR_PROD) == "db_password: hunter2\n"
    assert right.decrypt(VECTOR_DEFAULT) == UNICODE


def open_by_spec(envelope: str, n: int) -> bytes:
    """Decrypt with the primitives alone, as the format's documentation describes it."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    header, *lines = envelope.splitlines()
    raw = base64.b64decode("".join(lines))
    salt, nonce, sealed = raw[:16], raw[16:28], raw[28:]
    key = Scrypt(salt=salt, length=32, n=n, r=8, p=1).derive(PASSWORD.encode())
    assert all(len(line) <= 80 for line in lines) and len(lines[0]) == 80
    return AESGCM(key).decrypt(nonce, sealed, header.encode())


@pytest.mark.parametrize(("vector", "n"), [(VECTOR_V2, 2**17), (VECTOR_PROD, 2**15)])
def test_stored_vectors_follow_the_documented_spec(vector: str, n: int) -> None:
    assert open_by_spec(vector, n) == b"db_password: hunter2\n"


@pytest.mark.parametrize("plaintext", ["", "x", UNICODE, "a" * 5000])
def test_round_trip_text(right: VaultKeyring, plaintext: str) -> None:
    text = right.encrypt(plaintext, "prod")
    assert text.startswith("$FLEET_VAULT;2;AES256-GCM;SCRYPT;prod\n") and text.endswith("\n")
    assert all(len(line) <= 80 for line in text.splitlines())
    assert is_encrypted(text) and is_encrypted(text.encode())
    assert right.decrypt(text) == plaintext


def test_round_trip_bytes_and_fresh_salt_and_nonce(right: VaultKeyring) -> None:
    data = bytes(range(256)) * 4
    first, second = right.encrypt(data, "prod"), right.encrypt(data, "prod")
    assert first != second
    assert right.decrypt_bytes(first) == data
    with pytest.raises(VaultError, match="not UTF-8"):
        right.decrypt(first)


def test_wrong_password_is_one_clear_error() -> None:
    wrong = keyring(("prod", "nope"), ("dev", "nope2"))
    with pytest.raises(DecryptionFailed) as caught:
        wrong.decrypt(VECTOR_PROD, "group_vars/all/vault.yml")
    assert str(caught.value) == (f"group_vars/all/vault.yml: {DECRYPTION_FAILED} "
                                 "(vault id 'prod'; tried: prod, dev)")
    with pytest.raises(DecryptionFailed) as caught:
        wrong.decrypt(VECTOR_PROD, Location("host_vars/web1.yml", 7))
    assert str(caught.value).startswith(f"host_vars/web1.yml:7: {DECRYPTION_FAILED}")


def test_no_secrets() -> None:
    with pytest.raises(VaultError, match="no vault password was given"):
        VaultKeyring([]).decrypt(VECTOR_PROD)


def _reencode(text: str, mutate: Callable[[bytearray], None]) -> str:
    header, *lines = text.splitlines()
    raw = bytearray(base64.b64decode("".join(lines)))
    mutate(raw)
    body = base64.b64encode(bytes(raw)).decode()
    return header + "\n" + body + "\n"


def test_every_region_of_the_data_is_authenticated(right: VaultKeyring) -> None:
    """Flip one bit in the salt, the nonce, the ciphertext and the tag (sampled positions)."""
    size = len(base64.b64decode("".join(VECTOR_DEFAULT.splitlines()[1:])))
    positions = [0, 15, 16, 27, 28, 29, size // 2, size - 17, size - 16, size - 1]
    rng = random.Random(8)
    positions += rng.sample(range(28, size), 6)  # ciphertext and tag: no new key derivation
    for position in positions:
        def flip(raw: bytearray, at: int = position) -> None:
            raw[at] ^= 1 << rng.randrange(8)

        with pytest.raises(DecryptionFailed, match=DECRYPTION_FAILED):
            right.decrypt(_reencode(VECTOR_DEFAULT, flip), "f")


def test_any_changed_character_fails_or_reads_the_same(right: VaultKeyring) -> None:
    """Changing one character of the envelope text: a VaultError, never other plaintext.

    (A base64 character's unused low bits may change without changing the data.)
    """
    rng = random.Random(88)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=;$ \x00é"
    header_end = VECTOR_PROD.index("\n")
    positions = list(range(header_end)) + rng.sample(range(header_end + 1, len(VECTOR_PROD) - 1), 25)
    for position in positions:
        replacement = rng.choice([c for c in alphabet if c != VECTOR_PROD[position]])
        changed = VECTOR_PROD[:position] + replacement + VECTOR_PROD[position + 1:]
        try:
            assert right.decrypt(changed) == "db_password: hunter2\n", position
        except VaultError as exc:
            assert "\n" not in str(exc)


def test_header_is_authenticated(right: VaultKeyring) -> None:
    """Another vault id in the header fails even when the keyring has that id's password."""
    moved = VECTOR_PROD.replace(";SCRYPT;prod", ";SCRYPT;default")
    with pytest.raises(DecryptionFailed, match="vault id 'default'"):
        right.decrypt(moved)


def test_truncated(right: VaultKeyring) -> None:
    for end in (0, 5, 13, 30, len(VECTOR_PROD.splitlines()[0]) + 1, 60, 120, len(VECTOR_PROD) - 3):
        with pytest.raises(VaultError) as caught:
            right.decrypt(VECTOR_PROD[:end], "vault.yml")
        assert str(caught.value).startswith("vault.yml: ")
    with pytest.raises(VaultError, match="too short"):
        right.decrypt("$FLEET_VAULT;1;AES256-GCM;SCRYPT;prod\nAAAA\n")


@pytest.mark.parametrize(("header", "message"), [
    ("$FLEET_VAULT;3;AES256-GCM;SCRYPT;prod", "unsupported fleet vault format version '3'"),
    ("$FLEET_VAULT;1;CHACHA20;SCRYPT;prod", "malformed vault header"),
    ("$FLEET_VAULT;1;AES256-GCM;SCRYPT", "malformed vault header"),
    ("$FLEET_VAULT;1;AES256-GCM;SCRYPT;prød", "malformed vault header"),
    ("$FLEET_VAULT;1;AES256-GCM;SCRYPT;a;b", "malformed vault header"),
    ("$ANSIBLE_VAULT;1.0;AES", "unsupported Ansible vault format version '1.0'"),
    ("$ANSIBLE_VAULT;1.1;AES128", "unsupported Ansible vault cipher 'AES128'"),
])
def test_unknown_versions_are_refused_before_any_password(header: str, message: str) -> None:
    text = header + "\n" + VECTOR_PROD.split("\n", 1)[1]
    with pytest.raises(VaultError, match=message):
        parse_envelope(text)
    with pytest.raises(VaultError, match=message):
        keyring(("prod", PASSWORD)).decrypt(text)


def test_line_breaks_and_indentation_do_not_matter(right: VaultKeyring) -> None:
    """CRLF files, indented and folded (one-line) envelopes read the same."""
    assert right.decrypt(VECTOR_PROD.replace("\n", "\r\n")) == "db_password: hunter2\n"
    assert right.decrypt(" ".join(VECTOR_PROD.split())) == "db_password: hunter2\n"
    assert right.decrypt("".join("    " + line + "\n" for line in VECTOR_PROD.splitlines())) \
        == "db_password: hunter2\n"


def test_is_encrypted() -> None:
    assert is_encrypted("  \n" + VECTOR_PROD)
    assert is_encrypted("$ANSIBLE_VAULT;1.1;AES256\n00")
    assert not is_encrypted("$FLEET_VAULT")
    assert not is_encrypted("key: $FLEET_VAULT;1")
    assert not is_encrypted(b"\xff\xfe")
    with pytest.raises(VaultError, match="not vault-encrypted"):
        parse_envelope("plain: text\n")


def test_parameters_of_each_version() -> None:
    assert dict(fleetfmt.SCRYPT_N) == {"1": 2**15, "2": 2**17} and fleetfmt.VERSION == "2"
    assert (fleetfmt.SCRYPT_R, fleetfmt.SCRYPT_P) == (8, 1)
    assert (fleetfmt.SALT_SIZE, fleetfmt.NONCE_SIZE) == (16, 12)
    assert tuple(fleetfmt.SCRYPT_N) == FLEET_VERSIONS  # the parser reads what has parameters


def test_new_envelopes_use_version_2s_key_derivation(right: VaultKeyring) -> None:
    assert open_by_spec(right.encrypt("a: 1\n" * 30, "prod"), 2**17) == b"a: 1\n" * 30
