"""The inventory's data model: hosts, groups and the blocks of variables they carry."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fleet.errors import Location


@dataclass(eq=False, slots=True)
class VarsBlock:
    """Variables set in one place of an inventory source (a ``[web:vars]`` section, a host line).

    ``source`` is the human string used for :class:`fleet.vars.Layer` (``hosts.ini:12``).
    """

    source: str
    values: dict[str, Any]


def merge_blocks(blocks: list[VarsBlock]) -> dict[str, Any]:
    """Merge blocks in order; a later block replaces a whole value of an earlier one."""
    merged: dict[str, Any] = {}
    for block in blocks:
        merged.update(block.values)
    return merged


@dataclass(eq=False, slots=True)
class Group:
    """An inventory group.

    ``children``, ``parents`` and ``hosts`` hold names, in the order they were declared;
    ``hosts`` lists only direct members. ``depth`` is the longest path from ``all`` (0 for
    ``all``); ``priority`` is ``ansible_group_priority`` (default 1), which Ansible takes
    from the inventory source only and does not keep as a variable.
    """

    name: str
    children: list[str] = field(default_factory=list)
    parents: list[str] = field(default_factory=list)
    hosts: list[str] = field(default_factory=list)
    depth: int = 0
    priority: int = 1
    blocks: list[VarsBlock] = field(default_factory=list)
    location: Location | None = None

    @property
    def vars(self) -> dict[str, Any]:
        """The group's inline inventory variables, merged (group_vars files not included)."""
        return merge_blocks(self.blocks)

    @property
    def ansible_group_priority(self) -> int:
        """Alias of :attr:`priority`, under Ansible's variable name."""
        return self.priority


@dataclass(eq=False, slots=True)
class Host:
    """An inventory host.

    ``groups`` is every group the host belongs to, ancestors and ``all`` included, in the
    order Ansible merges group variables: by depth, then ``ansible_group_priority``, then
    name. ``inventory_file`` is the absolute path of the first source that named the host.
    """

    name: str
    groups: list[str] = field(default_factory=list)
    blocks: list[VarsBlock] = field(default_factory=list)
    inventory_file: str | None = None
    implicit: bool = False
    location: Location | None = None

    @property
    def vars(self) -> dict[str, Any]:
        """The host's inline inventory variables, merged (host_vars files not included)."""
        return merge_blocks(self.blocks)
