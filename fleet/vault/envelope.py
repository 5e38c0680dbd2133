"""The text envelopes of encrypted data: recognising them and reading their header line.

Two kinds are read:

- fleet's own: ``$FLEET_VAULT;2;AES256-GCM;SCRYPT;<vault id>`` (or version 1) then base64
  lines (see ``fleet.vault.fleetfmt``);
- Ansible's: ``$ANSIBLE_VAULT;1.1;AES256`` or ``$ANSIBLE_VAULT;1.2;AES256;<vault id>`` then
  hex lines (see ``fleet.vault.ansiblefmt``).

Only the header is interpreted here; the body is handed over as one string without whitespace.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from fleet.errors import Location
from fleet.vault.errors import VaultError, location_of

FLEET_MAGIC = "$FLEET_VAULT"
FLEET_VERSIONS = ("1", "2")  # each with its own key derivation parameters (fleetfmt.SCRYPT_N)
ANSIBLE_MAGIC = "$ANSIBLE_VAULT"
DEFAULT_ID = "default"
LINE_WIDTH = 80

# A vault id names a password: printable ASCII without the separators of the header (;) and
# of ``--vault-id id@source`` (@). Ansible headers are read with whatever id they name.
_VAULT_ID = re.compile(r"[\x21-\x3a\x3c-\x3f\x41-\x7e]{1,128}")

Format = Literal["fleet", "ansible"]


@dataclass(frozen=True)
class Envelope:
    """One parsed envelope: which format, its header line and its body (whitespace removed)."""

    format: Format
    version: str
    vault_id: str | None  # None: an Ansible 1.1 envelope, which names no vault id
    header: str
    body: str


def check_vault_id(vault_id: str) -> str:
    """Return ``vault_id`` if it can stand in a header, else raise ``VaultError``."""
    if not _VAULT_ID.fullmatch(vault_id):
        raise VaultError(f"invalid vault id {vault_id!r}: use 1-128 printable ASCII "
                         "characters, no spaces, ';' or '@'")
    return vault_id


def _text(data: str | bytes) -> str | None:
    if isinstance(data, bytes):
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return None
    return data


def is_encrypted(data: str | bytes) -> bool:
    """Whether ``data`` (a file's content or a value) is a fleet or Ansible vault envelope."""
    text = _text(data)
    if text is None:
        return False
    text = text.lstrip()
    return text.startswith(FLEET_MAGIC + ";") or text.startswith(ANSIBLE_MAGIC + ";")


def parse_envelope(data: str | bytes, where: str | Location | None = None) -> Envelope:
    """Split an envelope into header fields and body; raise ``VaultError`` if it is not one.

    An unknown format version or cipher is refused here, before any password is tried.
    """
    loc = location_of(where)
    text = _text(data)
    if text is None or not is_encrypted(text):
        raise VaultError("not vault-encrypted data", loc)
    # The header holds no whitespace: this also reads envelopes whose line breaks were folded.
    header, *rest = text.split()
    body = "".join(rest)
    fields = header.split(";")
    if fields[0] == FLEET_MAGIC:
        return _fleet_envelope(fields, header, body, loc)
    return _ansible_envelope(fields, header, body, loc)


def _fleet_envelope(fields: list[str], header: str, body: str, loc: Location | None) -> Envelope:
    version = fields[1]
    if version not in FLEET_VERSIONS:
        raise VaultError(f"unsupported fleet vault format version {version[:20]!r} "
                         f"(this fleet reads versions {' and '.join(FLEET_VERSIONS)}): "
                         "a newer fleet wrote it", loc)
    if len(fields) != 5 or fields[2] != "AES256-GCM" or fields[3] != "SCRYPT":
        raise VaultError("malformed vault header: expected "
                         f"'{FLEET_MAGIC};{version};AES256-GCM;SCRYPT;<vault id>'", loc)
    if not _VAULT_ID.fullmatch(fields[4]):
        raise VaultError("malformed vault header: invalid vault id", loc)
    return Envelope("fleet", version, fields[4], header, body)


def _ansible_envelope(fields: list[str], header: str, body: str, loc: Location | None) -> Envelope:
    version = fields[1].strip()
    if version not in ("1.1", "1.2"):
        raise VaultError(f"unsupported Ansible vault format version {version[:20]!r} "
                         "(fleet reads 1.1 and 1.2)", loc)
    cipher = fields[2].strip() if len(fields) > 2 else ""
    if cipher != "AES256":
        raise VaultError(f"unsupported Ansible vault cipher {cipher[:20]!r} (fleet reads AES256)", loc)
    vault_id = fields[3].strip() or None if len(fields) > 3 else None
    return Envelope("ansible", version, vault_id, header, body)


def wrap(header: str, body: str) -> str:
    """The envelope text: the header line, then ``body`` in lines of 80 characters."""
    lines = [header] + [body[i:i + LINE_WIDTH] for i in range(0, len(body), LINE_WIDTH)]
    return "\n".join(lines) + "\n"
