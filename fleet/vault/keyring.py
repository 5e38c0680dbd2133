"""Vault secrets (a vault id and its password) and the keyring that encrypts and decrypts."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

import fleet.vault.ansiblefmt as ansiblefmt
import fleet.vault.fleetfmt as fleetfmt
from fleet.errors import Location
from fleet.vault.envelope import DEFAULT_ID, Envelope, Format, check_vault_id, parse_envelope
from fleet.vault.errors import DECRYPTION_FAILED, DecryptionFailed, VaultError, location_of


@dataclass(frozen=True)
class VaultSecret:
    """A password and the vault id it is known by. Its repr never shows the password."""

    vault_id: str
    password: bytes = field(repr=False)
    source: str = ""  # where the password came from, for messages: a path or "prompt"

    def __post_init__(self) -> None:
        check_vault_id(self.vault_id)
        if not self.password:
            where = f" from {self.source}" if self.source else ""
            raise VaultError(f"empty vault password{where} (vault id {self.vault_id!r})")


class Opened(NamedTuple):
    """What ``VaultKeyring.open`` found: the plaintext, the secret that opened it, the envelope."""

    plaintext: bytes
    secret: VaultSecret
    envelope: Envelope


class VaultKeyring:
    """The secrets of one run or command, in the order they were given.

    Derived keys are cached on the instance per (secret, salt): decrypting the same value for
    many hosts costs one key derivation. No state is shared between instances.
    """

    def __init__(self, secrets: Iterable[VaultSecret]) -> None:
        self.secrets: tuple[VaultSecret, ...] = tuple(secrets)
        self._keys: dict[tuple[int, str, bytes], bytes] = {}

    def __repr__(self) -> str:
        return f"VaultKeyring(ids={list(self.ids)!r})"

    @property
    def ids(self) -> tuple[str, ...]:
        """The vault ids, in order, each once."""
        return tuple(dict.fromkeys(s.vault_id for s in self.secrets))

    # -- decryption ---------------------------------------------------------------------------

    def decrypt(self, data: str | bytes, where: str | Location | None = None) -> str:
        """The plaintext of an envelope as text (UTF-8); ``VaultError`` on any failure.

        ``where`` (a path or ``Location``) prefixes error messages.
        """
        plaintext = self.decrypt_bytes(data, where)
        try:
            return plaintext.decode("utf-8")
        except UnicodeDecodeError:
            raise VaultError("the decrypted data is not UTF-8 text", location_of(where)) from None

    def decrypt_bytes(self, data: str | bytes, where: str | Location | None = None) -> bytes:
        """The plaintext of an envelope as bytes (binary files); ``VaultError`` on any failure."""
        return self.open(data, where).plaintext

    def open(self, data: str | bytes, where: str | Location | None = None) -> Opened:
        """Decrypt, and tell which secret opened the envelope (to re-encrypt after an edit).

        Secrets whose id the header names are tried first, then the others in order (as
        Ansible does). Wrong password and modified data both raise ``DecryptionFailed``.
        """
        loc = location_of(where)
        envelope = parse_envelope(data, loc)
        if not self.secrets:
            raise VaultError("vault-encrypted data, but no vault password was given "
                             "(--vault-password-file, --vault-id or --ask-vault-pass)", loc)
        indexed = list(enumerate(self.secrets))
        ordered = ([p for p in indexed if p[1].vault_id == envelope.vault_id]
                   + [p for p in indexed if p[1].vault_id != envelope.vault_id])
        if envelope.format == "fleet":
            salt, nonce, sealed = fleetfmt.split(envelope, loc)
            derive = functools.partial(fleetfmt.derive_key, version=envelope.version)
            for index, secret in ordered:
                key = self._key(index, f"scrypt-{envelope.version}", salt, derive)
                plaintext = fleetfmt.open_sealed(key, nonce, sealed, envelope)
                if plaintext is not None:
                    return Opened(plaintext, secret, envelope)
        else:
            salt, mac, ciphertext = ansiblefmt.split(envelope, loc)
            for index, secret in ordered:
                material = self._key(index, "pbkdf2", salt, ansiblefmt.derive_key)
                plaintext = ansiblefmt.open_sealed(material, mac, ciphertext)
                if plaintext is not None:
                    return Opened(plaintext, secret, envelope)
        named = f"vault id {envelope.vault_id!r}; " if envelope.vault_id else ""
        tried = ", ".join(self.ids)
        raise DecryptionFailed(f"{DECRYPTION_FAILED} ({named}tried: {tried})", loc)

    def _key(self, index: int, kdf: str, salt: bytes, derive: Callable[[bytes, bytes], bytes]) -> bytes:
        cache_key = (index, kdf, salt)
        key = self._keys.get(cache_key)
        if key is None:
            key = derive(self.secrets[index].password, salt)
            self._keys[cache_key] = key
        return key

    # -- encryption ---------------------------------------------------------------------------

    def secret_for(self, vault_id: str | None = None) -> VaultSecret:
        """The secret to encrypt with: the first with ``vault_id``, or the only id there is."""
        if not self.secrets:
            raise VaultError("no vault password was given to encrypt with")
        if vault_id is None:
            if len(self.ids) > 1:
                raise VaultError(f"several vault ids can encrypt ({', '.join(self.ids)}): "
                                 "choose one with --encrypt-vault-id")
            return self.secrets[0]
        for secret in self.secrets:
            if secret.vault_id == vault_id:
                return secret
        raise VaultError(f"no password for vault id {vault_id!r} (known: {', '.join(self.ids)})")

    def encrypt(self, plaintext: str | bytes, vault_id: str | None = None,
                format: Format = "fleet") -> str:
        """The envelope of ``plaintext`` (text is encoded as UTF-8) with a fresh salt."""
        return encrypt_with(self.secret_for(vault_id), plaintext, format)


def encrypt_with(secret: VaultSecret, plaintext: str | bytes, format: Format = "fleet") -> str:
    """The envelope of ``plaintext`` under ``secret``, in fleet's format or Ansible's."""
    data = plaintext.encode("utf-8") if isinstance(plaintext, str) else plaintext
    if format == "fleet":
        salt = fleetfmt.new_salt()
        return fleetfmt.encrypt(data, fleetfmt.derive_key(secret.password, salt), salt, secret.vault_id)
    if format == "ansible":
        salt = ansiblefmt.new_salt()
        return ansiblefmt.encrypt(data, ansiblefmt.derive_key(secret.password, salt), salt,
                                  secret.vault_id)
    raise VaultError(f"unknown vault format {format!r} (fleet or ansible)")


__all__ = ["DEFAULT_ID", "Opened", "VaultKeyring", "VaultSecret", "encrypt_with"]
