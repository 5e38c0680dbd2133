"""Filters, tests and lookups fleet does not have, found by name only when a template first
uses one: the Templar is given a :class:`PluginSource` (the Ansible bridge's, which asks
ansible-core's loaders for those of ansible.builtin and the installed collections).

Fleet's own filters stay first: a source is asked only for a name fleet lacks, and a name it
does not know either is the usual "no filter named" error. What such a filter computes from
host data is host data too (the Templar's taint sees the host value read, not the filter).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

Lookup = Callable[[list[Any], Mapping[str, Any], dict[str, Any]], list[Any]]


class PluginSource(Protocol):
    """Where the Templar finds a filter, test or lookup it lacks (None: there is none)."""

    def filter(self, name: str) -> Callable[..., Any] | None:
        """The filter named ``name`` (FQCN, or a short name of ansible.builtin)."""

    def test(self, name: str) -> Callable[..., Any] | None:
        """The test named ``name``."""

    def lookup(self, name: str) -> Lookup | None:
        """The lookup named ``name``: called with (terms, variables, keyword arguments)."""


class LazyPlugins(dict[str, Any]):
    """A Jinja environment's ``filters`` or ``tests``: fleet's own, then what ``fetch`` finds
    (asked once per name, kept). Jinja looks names up with ``get`` when it compiles and with
    ``[]`` when it runs; both come here."""

    def __init__(self, native: Mapping[str, Any]) -> None:
        super().__init__(native)
        self.fetch: Callable[[str], Callable[..., Any] | None] | None = None
        self._absent: set[str] = set()

    def _load(self, name: Any) -> Any:
        if self.fetch is None or not isinstance(name, str) or name in self._absent:
            return None
        found = self.fetch(name)
        if found is None:
            self._absent.add(name)
            return None
        self[name] = found
        return found

    def __missing__(self, name: str) -> Any:
        found = self._load(name)
        if found is None:
            raise KeyError(name)
        return found

    def get(self, name: str, default: Any = None) -> Any:
        if dict.__contains__(self, name):
            return dict.__getitem__(self, name)
        found = self._load(name)
        return default if found is None else found

    def __contains__(self, name: object) -> bool:
        return dict.__contains__(self, name) or self._load(name) is not None

    def use(self, fetch: Callable[[str], Callable[..., Any] | None] | None) -> None:
        """Ask ``fetch`` from now on (names it missed before are asked again)."""
        self.fetch = fetch
        self._absent.clear()
