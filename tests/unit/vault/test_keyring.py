"""Which secret decrypts and encrypts, the key cache, and secrets that never show."""

from __future__ import annotations

import pytest

from fleet.vault import VaultError, VaultKeyring, VaultSecret, fleetfmt
from tests.unit.vault.test_fleet_format import VECTOR_PROD


def test_secrets_of_the_header_id_are_tried_first(monkeypatch: pytest.MonkeyPatch) -> None:
    tried: list[bytes] = []
    real = fleetfmt.derive_key

    def spy(password: bytes, salt: bytes, version: str = fleetfmt.VERSION) -> bytes:
        tried.append(password)
        return real(password, salt, version)

    monkeypatch.setattr(fleetfmt, "derive_key", spy)
    ring = VaultKeyring([VaultSecret("dev", b"wrong"), VaultSecret("prod", b"fleet-vector")])
    assert ring.decrypt(VECTOR_PROD) == "db_password: hunter2\n"
    assert tried == [b"fleet-vector"]
    # then the others, in order; a derived key is cached per secret and salt
    other = VaultKeyring([VaultSecret("dev", b"wrong"), VaultSecret("default", b"fleet-vector")])
    tried.clear()
    assert other.decrypt(VECTOR_PROD) == other.decrypt(VECTOR_PROD)
    assert tried == [b"wrong", b"fleet-vector"]


def test_encrypting_secret() -> None:
    ring = VaultKeyring([VaultSecret("dev", b"a"), VaultSecret("prod", b"b")])
    with pytest.raises(VaultError, match=r"several vault ids can encrypt \(dev, prod\)"):
        ring.encrypt("x")
    with pytest.raises(VaultError, match="no password for vault id 'qa'"):
        ring.encrypt("x", "qa")
    assert ring.secret_for("prod").password == b"b"
    same = VaultKeyring([VaultSecret("default", b"a"), VaultSecret("default", b"b")])
    assert same.secret_for().password == b"a"
    with pytest.raises(VaultError, match="no vault password"):
        VaultKeyring([]).encrypt("x")


def test_secrets_are_checked_and_never_shown() -> None:
    secret = VaultSecret("prod", b"hunter2", "pw.txt")
    assert "hunter2" not in repr(secret) and "hunter2" not in repr(VaultKeyring([secret]))
    with pytest.raises(VaultError, match="empty vault password from pw.txt"):
        VaultSecret("prod", b"", "pw.txt")
    for bad in ("", "a b", "a;b", "a@b", "x" * 129, "prød"):
        with pytest.raises(VaultError, match="invalid vault id"):
            VaultSecret(bad, b"pw")
