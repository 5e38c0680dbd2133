"""The vault's errors: one clear message each, never a traceback (the CLI prints them)."""

from __future__ import annotations

from fleet.errors import InputError, Location

DECRYPTION_FAILED = "decryption failed: wrong password or the data was modified"


class VaultError(InputError):
    """Anything the vault reports: bad format, missing password, unreadable password source
    (bad input, like a YAML error: the run stops before it touches a host)."""


class DecryptionFailed(VaultError):
    """No secret of the keyring opened the data: a wrong password, or the data was modified."""


def location_of(where: str | Location | None) -> Location | None:
    """``where`` as the vault's functions take it (a path, a ``Location`` or nothing)."""
    if where is None or where == "":
        return None
    return where if isinstance(where, Location) else Location(str(where))
