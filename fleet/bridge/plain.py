"""Values as Ansible's code receives them: plain JSON data, and names it could resolve."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def plain(value: Any) -> Any:
    """``value`` as plain JSON data for a module: fleet's marked strings (host data, rendered
    secrets) become ``str``, tuples lists, anything else its text."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(value) if isinstance(value, int) else float(value)
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, Mapping):
        return {str(plain(k)): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def plausible(name: str) -> bool:
    """A name ansible-core could resolve (``a.b.c`` or an identifier)."""
    return bool(name) and all(part.isidentifier() for part in name.split("."))
