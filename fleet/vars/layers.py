"""A layer of variables: one source in the precedence order (a group_vars file, play vars...)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Layer:
    """Variables from one source.

    ``kind`` names the precedence level (see :data:`PRECEDENCE`), ``source`` says where the
    values came from (``inventories/prod/group_vars/web.yml`` or ``site.yml:3``) for
    ``fleet vars --explain``; ``values`` may hold templates, resolved lazily per host, unless
    ``final``: then they are data already rendered (loop items) and never templated again.
    """

    kind: str
    source: str
    values: Mapping[str, Any] = field(default_factory=dict)
    final: bool = False


class Final:
    """A value that is data, not a template, inside a layer that is templated otherwise
    (a loop item passed to ``include_tasks`` among its include params)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __repr__(self) -> str:
        return f"Final({self.value!r})"


# Lowest to highest. Every Layer.kind must be one of these.
PRECEDENCE: tuple[str, ...] = (
    # ansible_connection and ansible_host where nothing else sets them: Ansible's play context
    # adds them to a task's variables; never read as connection settings (ConnectionVars)
    "play context",
    "role defaults",
    "inventory group all",
    "inventory group",  # parent groups before child groups, then by name
    "inventory host",
    "facts",
    "play vars",
    "play vars_files",
    "role vars",
    "block vars",
    "task vars",
    "include_vars",
    "set_fact / register",
    "role params",
    "include params",
    "extra vars",
    "magic vars",  # inventory_hostname, groups, hostvars, ...: not overridable
)
