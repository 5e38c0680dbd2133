"""Inline ``!vault`` values as YAML loads them (still encrypted).

They live with the vault, not with the YAML loader or the run's secrets, so that the loader
(:mod:`fleet.yamlsrc`), the templar and :class:`fleet.secrets.Secrets` (which decrypts them)
depend on the vault and not on each other.
"""

from __future__ import annotations

from fleet.errors import Location


class VaultValue:
    """An inline ``!vault`` value as loaded: decrypted when a template first uses it
    (:meth:`fleet.secrets.Secrets.decrypt`), so a value nobody uses needs no password."""

    __slots__ = ("text", "location")

    def __init__(self, text: str, location: Location | None) -> None:
        self.text = text
        self.location = location

    def __repr__(self) -> str:
        return f"<vault-encrypted value from {self.location or 'YAML'}>"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, VaultValue) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)
