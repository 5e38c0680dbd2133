"""Collects groups, hosts and variables from inventory sources, then applies Ansible's rules.

Sources call :class:`InventoryBuilder` methods as they parse; :meth:`InventoryBuilder.finish`
then links top-level groups under ``all``, fills ``ungrouped``, rejects group cycles,
computes depths and each host's sorted group list.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fleet.errors import InputError, Location
from fleet.inventory.model import Group, Host, VarsBlock

PRIORITY_VAR = "ansible_group_priority"


class InventoryBuilder:
    """Mutable inventory under construction; one per :meth:`Inventory.load` call."""

    def __init__(self) -> None:
        self.groups: dict[str, Group] = {}
        self.hosts: dict[str, Host] = {}
        self._members: dict[str, set[str]] = {}
        self._edge_locations: dict[tuple[str, str], Location | None] = {}
        self.add_group("all")
        self.add_group("ungrouped")
        self.add_child("all", "ungrouped")

    @classmethod
    def resume(cls, groups: dict[str, Group], hosts: dict[str, Host]) -> InventoryBuilder:
        """A builder over a finished inventory's groups and hosts, to change them during a run
        (``add_host``, ``group_by``) and apply Ansible's rules again with :meth:`finish`."""
        builder = cls.__new__(cls)
        builder.groups, builder.hosts = groups, hosts
        builder._members = {name: set(group.hosts) for name, group in groups.items()}
        builder._edge_locations = {}
        return builder

    def add_group(self, name: str, location: Location | None = None) -> Group:
        """Declare a group (no-op if it exists)."""
        group = self.groups.get(name)
        if group is None:
            if not isinstance(name, str) or not name:
                raise InputError(f"invalid group name {name!r}", location)
            group = Group(name, location=location)
            self.groups[name] = group
            self._members[name] = set()
        return group

    def add_host(
        self,
        name: str,
        group: str | None,
        location: Location | None = None,
        inventory_file: str | None = None,
    ) -> Host:
        """Declare a host, optionally as a direct member of ``group`` (which must exist)."""
        host = self.hosts.get(name)
        if host is None:
            if not isinstance(name, str) or not name:
                raise InputError(f"invalid host name {name!r}", location)
            host = Host(name, inventory_file=inventory_file, location=location)
            self.hosts[name] = host
        if group is not None:
            members = self._members[group]
            if name not in members:
                members.add(name)
                self.groups[group].hosts.append(name)
        return host

    def add_child(self, parent: str, child: str, location: Location | None = None) -> None:
        """Make group ``child`` a child of group ``parent`` (both must exist)."""
        if parent == child:
            raise InputError(f"group {child!r} cannot be a child of itself", location)
        parent_group = self.groups[parent]
        if child in parent_group.children:
            return
        parent_group.children.append(child)
        self.groups[child].parents.append(parent)
        self._edge_locations[(parent, child)] = location

    def add_group_vars(
        self, group: str, values: Mapping[str, Any], source: str, location: Location | None = None
    ) -> None:
        """Add a block of inline variables to a group; ``ansible_group_priority`` sets priority."""
        block = dict(values)
        if PRIORITY_VAR in block:
            self.set_priority(group, block.pop(PRIORITY_VAR), location)
        if block:
            self.groups[group].blocks.append(VarsBlock(source, block))

    def set_priority(self, group: str, value: Any, location: Location | None = None) -> None:
        """Set ``ansible_group_priority`` of a group (must be an integer)."""
        try:
            self.groups[group].priority = int(value)
        except (TypeError, ValueError):
            raise InputError(
                f"{PRIORITY_VAR} of group {group!r} must be an integer, got {value!r}", location
            ) from None

    def add_host_vars(self, host: str, values: dict[str, Any], source: str) -> None:
        """Add a block of inline variables to a host (the dict is kept, not copied)."""
        if values:
            self.hosts[host].blocks.append(VarsBlock(source, values))

    # -- finishing -------------------------------------------------------------------------

    def finish(self) -> tuple[dict[str, Group], dict[str, Host]]:
        """Apply Ansible's reconciliation rules and return ``(groups, hosts)``."""
        for name, group in self.groups.items():
            if name != "all" and not group.parents:
                self.add_child("all", name)
        order = self._topological_order()
        ancestors = self._ancestors(order)
        self._fill_ungrouped(ancestors)
        self._assign_host_groups(ancestors)
        return self.groups, self.hosts

    def _topological_order(self) -> list[str]:
        """Parents before children; sets depths; raises on a cycle."""
        pending = {name: len(group.parents) for name, group in self.groups.items()}
        queue = [name for name, count in pending.items() if count == 0]
        order: list[str] = []
        while queue:
            name = queue.pop()
            order.append(name)
            depth = self.groups[name].depth + 1
            for child in self.groups[name].children:
                child_group = self.groups[child]
                if child_group.depth < depth:
                    child_group.depth = depth
                pending[child] -= 1
                if pending[child] == 0:
                    queue.append(child)
        if len(order) != len(self.groups):
            done = set(order)
            self._raise_cycle([n for n in self.groups if n not in done])
        return order

    def _raise_cycle(self, candidates: list[str]) -> None:
        """Find one cycle among ``candidates`` and report the edge that closes it."""
        remaining = set(candidates)
        state: dict[str, int] = {}
        for start in candidates:
            if start in state:
                continue
            path: list[str] = [start]
            iters = [iter(self.groups[start].children)]
            state[start] = 1
            while iters:
                child = next(iters[-1], None)
                if child is None:
                    state[path.pop()] = 2
                    iters.pop()
                    continue
                if child not in remaining:
                    continue
                if state.get(child) == 1:
                    loop = path[path.index(child) :] + [child]
                    location = self._edge_locations.get((path[-1], child))
                    raise InputError(
                        f"group {child!r} is its own ancestor: {' -> '.join(loop)}", location
                    )
                if child not in state:
                    state[child] = 1
                    path.append(child)
                    iters.append(iter(self.groups[child].children))
        raise InputError("inventory groups form a cycle")  # pragma: no cover - unreachable

    def _ancestors(self, order: list[str]) -> dict[str, frozenset[str]]:
        """Each group with all its ancestors (itself included)."""
        result: dict[str, frozenset[str]] = {}
        for name in order:
            group = self.groups[name]
            acc = {name}
            for parent in group.parents:
                acc |= result[parent]
            result[name] = frozenset(acc)
        return result

    def _fill_ungrouped(self, ancestors: dict[str, frozenset[str]]) -> None:
        """Hosts in no group but ``all``/``ungrouped`` go to ``ungrouped``; others leave it."""
        grouped: set[str] = set()
        for name, group in self.groups.items():
            if name not in ("all", "ungrouped"):
                grouped.update(group.hosts)
        ungrouped = self.groups["ungrouped"]
        members = self._members["ungrouped"]
        if members & grouped:
            ungrouped.hosts = [h for h in ungrouped.hosts if h not in grouped]
            members -= grouped
        for name in self.hosts:
            if name not in grouped and name not in members:
                members.add(name)
                ungrouped.hosts.append(name)

    def _assign_host_groups(self, ancestors: dict[str, frozenset[str]]) -> None:
        direct: dict[str, list[str]] = {name: [] for name in self.hosts}
        for gname, group in self.groups.items():
            for member in group.hosts:
                direct[member].append(gname)
        cache: dict[tuple[str, ...], list[str]] = {}
        for hname, host in self.hosts.items():
            key = tuple(direct[hname])
            sorted_groups = cache.get(key)
            if sorted_groups is None:
                names: set[str] = set()
                for gname in key:
                    names |= ancestors[gname]
                sorted_groups = sorted(names, key=self._sort_key)
                cache[key] = sorted_groups
            host.groups = list(sorted_groups)

    def _sort_key(self, name: str) -> tuple[int, int, str]:
        group = self.groups[name]
        return (group.depth, group.priority, name)
