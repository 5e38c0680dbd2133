"""The loaded inventory: hosts, groups, variable layers, host patterns."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fleet.inventory.builder import InventoryBuilder
from fleet.inventory.export import graph as export_graph
from fleet.inventory.export import to_ansible_json as export_json
from fleet.inventory.gcpause import gc_paused
from fleet.inventory.model import Group, Host, VarsBlock
from fleet.inventory.patterns import (
    LOCALHOST_NAMES,
    PatternEvaluator,
    limit_parts,
    select_names,
    split_pattern,
)
from fleet.inventory.sources import load_source
from fleet.inventory.varsfiles import VarsDir
from fleet.vars import Layer

_MISSING = object()
GROUP_ALL = "inventory group all"
GROUP = "inventory group"
HOST = "inventory host"


class Inventory:
    """Hosts and groups from one or more inventory sources, merged.

    ``hosts`` and ``groups`` keep the order in which sources declared them; ``all`` and
    ``ungrouped`` always exist. Create one with :meth:`load`.
    """

    def __init__(
        self,
        groups: dict[str, Group],
        hosts: dict[str, Host],
        group_vars: Sequence[VarsDir] = (),
        host_vars: Sequence[VarsDir] = (),
        secrets: Any = None,
    ) -> None:
        self.secrets = secrets  # fleet.secrets.Secrets for vault-encrypted vars files
        self.groups = groups
        self.hosts = hosts
        self.group_vars_dirs = list(group_vars)
        self.host_vars_dirs = list(host_vars)
        self._group_hosts: dict[str, list[str]] = {}
        self._implicit: dict[str, Host] = {}
        self._patterns = PatternEvaluator(self, self._implicit_name)
        self.sources: list[str] = []  # the -i values (absolute paths where they are paths): ansible_inventory_sources

    @classmethod
    def load(
        cls, sources: str | Path | Sequence[str | Path], *, script_timeout: float = 60.0,
        secrets: Any = None,
    ) -> Inventory:
        """Load and merge inventory sources, in order (later sources add to earlier ones).

        A source is an inventory file (YAML, INI or an executable script), a directory of
        them, or a comma-separated host list (``"host1,host2,"``). Errors are
        :class:`~fleet.errors.InputError` naming file:line.
        """
        if isinstance(sources, (str, Path)):
            sources = [sources]
        with gc_paused():
            return cls._load(sources, script_timeout, secrets)

    @classmethod
    def _load(cls, sources: Sequence[str | Path], script_timeout: float, secrets: Any) -> Inventory:
        builder = InventoryBuilder()
        basedirs: dict[str, str] = {}
        for source in sources:
            basedir = load_source(os.fspath(source), builder, script_timeout)
            if basedir is not None:
                basedirs.setdefault(os.path.realpath(basedir or "."), basedir)
        groups, hosts = builder.finish()
        group_vars = [VarsDir(os.path.join(d, "group_vars"), secrets) for d in basedirs.values()]
        host_vars = [VarsDir(os.path.join(d, "host_vars"), secrets) for d in basedirs.values()]
        for vars_dir in group_vars:
            for name in groups:
                vars_dir.blocks_for(name)
        inventory = cls(groups, hosts, group_vars, host_vars, secrets)
        inventory.sources = [os.path.abspath(s) if os.path.exists(s) else os.fspath(s) for s in sources]
        return inventory

    def add_playbook_vars(self, playbook_dir: str | Path) -> None:
        """Also read ``group_vars/`` and ``host_vars/`` beside the playbook, as Ansible does.

        They rank above the inventory's own directories at each level (group ``all``,
        other groups, host), which is where appending them puts them.
        """
        known = {os.path.realpath(d.path) for d in self.group_vars_dirs + self.host_vars_dirs}
        group_vars = VarsDir(os.path.join(os.fspath(playbook_dir), "group_vars"), self.secrets)
        host_vars = VarsDir(os.path.join(os.fspath(playbook_dir), "host_vars"), self.secrets)
        if os.path.realpath(group_vars.path) not in known:
            for name in self.groups:
                group_vars.blocks_for(name)  # bad YAML fails now, before anything connects
            self.group_vars_dirs.append(group_vars)
        if os.path.realpath(host_vars.path) not in known:
            self.host_vars_dirs.append(host_vars)

    # -- hosts and groups -------------------------------------------------------------------

    def _implicit_name(self, name: str) -> str | None:
        if name in self.hosts or name not in LOCALHOST_NAMES:
            return None
        if name not in self._implicit:
            block = VarsBlock("implicit localhost", {"ansible_connection": "local"})
            self._implicit[name] = Host(name, blocks=[block], implicit=True)
        return name

    def get_host(self, name: str) -> Host | None:
        """A host by name; ``localhost``/``127.0.0.1``/``::1`` give the implicit localhost
        (not a member of ``all``) when the inventory does not define them."""
        host = self.hosts.get(name)
        if host is None and self._implicit_name(name) is not None:
            host = self._implicit[name]
        return host

    def _host(self, name: str) -> Host:
        host = self.get_host(name)
        if host is None:
            raise KeyError(f"host {name!r} is not in the inventory")
        return host

    def group_hosts(self, name: str) -> list[str]:
        """Every host of a group and its descendants, in Ansible's order (the group's own
        hosts, then each level of descendants in declaration order)."""
        cached = self._group_hosts.get(name)
        if cached is not None:
            return cached
        order = [name]
        seen_groups = {name}
        for group_name in order:  # grows while iterating: breadth-first
            for child in self.groups[group_name].children:
                if child not in seen_groups:
                    seen_groups.add(child)
                    order.append(child)
        result: list[str] = []
        seen: set[str] = set()
        for group_name in order:
            for host in self.groups[group_name].hosts:
                if host not in seen:
                    seen.add(host)
                    result.append(host)
        self._group_hosts[name] = result
        return result

    def groups_map(self) -> dict[str, list[str]]:
        """Ansible's ``groups`` magic variable: every group name to its host names."""
        return {name: list(self.group_hosts(name)) for name in self.groups}

    def group_names(self, host_name: str) -> list[str]:
        """Ansible's ``group_names``: the host's groups, sorted, without ``all``.

        As Ansible, a host in no other group gets ``["ungrouped"]``.
        """
        return sorted(g for g in self._host(host_name).groups if g != "all")

    def magic_vars(self, host_name: str) -> dict[str, Any]:
        """Per-host magic variables the inventory knows (``groups`` is :meth:`groups_map`)."""
        host = self._host(host_name)
        name = host.name
        try:
            ipaddress.ip_address(name)
            short = name
        except ValueError:
            short = name.split(".", 1)[0]
        inventory_file = host.inventory_file
        return {
            "inventory_hostname": name,
            "inventory_hostname_short": short,
            "group_names": self.group_names(name),
            "inventory_file": inventory_file,
            "inventory_dir": os.path.dirname(inventory_file) if inventory_file else None,
        }

    def select(self, pattern: str, limit: str | Sequence[str] | None = None) -> list[Host]:
        """Hosts matching an Ansible host pattern, restricted by ``limit`` (``--limit``).

        The result has no duplicates and follows Ansible's order; a pattern matching
        nothing gives ``[]``.
        """
        return [self._host(name) for name in select_names(self._patterns, pattern, limit)]

    def unmatched(self, pattern: str, limit: str | Sequence[str] | None = None) -> list[str]:
        """The parts of ``pattern`` and ``limit`` that name no group or host of this inventory."""
        parts = split_pattern(pattern) + (limit_parts(limit) if limit is not None else [])
        return [part for part in dict.fromkeys(parts) if self._patterns.matches_nothing(part)]

    # -- changes during a run (add_host, group_by) ----------------------------------------

    def add_dynamic_host(self, name: str, groups: Sequence[str], values: dict[str, Any], source: str) -> bool:
        """Ansible's ``add_host``: ``name`` joins the inventory (if new), each of ``groups`` (created
        if new) and gets ``values`` as host variables; True when anything changed."""
        builder = InventoryBuilder.resume(self.groups, self.hosts)
        changed = name not in self.hosts
        self._adopt_implicit(builder, name)
        host = builder.add_host(name, "all")  # as Ansible's: a direct member of all, listed first in it
        if values and any(host.vars.get(k, _MISSING) != v for k, v in values.items()):
            builder.add_host_vars(name, dict(values), source)
            changed = True
        for group in groups:
            changed = name not in builder.groups.get(group, Group(group)).hosts or changed
            builder.add_group(group)
            builder.add_host(name, group)
        return self._reconciled(builder) if changed else False

    def add_dynamic_group(self, host: str, group: str, parents: Sequence[str]) -> bool:
        """Ansible's ``group_by``: ``host`` joins ``group`` (created under ``parents`` if new);
        True when anything changed."""
        builder = InventoryBuilder.resume(self.groups, self.hosts)
        self._host(host)
        self._adopt_implicit(builder, host)
        changed = False
        builder.add_group(group)
        for parent in parents:
            changed = parent not in builder.groups or changed
            builder.add_group(parent)
            if parent != group and group not in builder.groups[parent].children:
                builder.add_child(parent, group)
                changed = True
        if host not in builder.groups[group].hosts:
            builder.add_host(host, group)
            changed = True
        return self._reconciled(builder) if changed else False

    def _adopt_implicit(self, builder: InventoryBuilder, name: str) -> None:
        """The implicit localhost joins the inventory with its variables (a local connection)."""
        if name not in self.hosts and self._implicit_name(name) is not None:
            builder.hosts[name] = Host(name, blocks=list(self._implicit[name].blocks))

    def _reconciled(self, builder: InventoryBuilder) -> bool:
        builder.finish()
        self._group_hosts.clear()
        self._patterns = PatternEvaluator(self, self._implicit_name)
        return True

    # -- variables ------------------------------------------------------------------------

    def host_layers(self, host_name: str) -> list[Layer]:
        """The inventory's variable layers for a host, lowest precedence first.

        The order is Ansible's (``VARIABLE_PRECEDENCE`` default): inline vars of ``all``,
        inline vars of the host's other groups (by depth, ``ansible_group_priority``,
        name), ``group_vars/all``, ``group_vars/<group>`` in the same group order, inline
        host vars, ``host_vars/<host>``. Values are raw (templates not rendered).
        """
        host = self._host(host_name)
        others = [g for g in host.groups if g != "all"]
        layers = [Layer(GROUP_ALL, b.source, b.values) for b in self.groups["all"].blocks]
        for name in others:
            layers.extend(Layer(GROUP, b.source, b.values) for b in self.groups[name].blocks)
        for vars_dir in self.group_vars_dirs:
            layers.extend(Layer(GROUP_ALL, b.source, b.values) for b in vars_dir.blocks_for("all"))
        for vars_dir in self.group_vars_dirs:
            for name in others:
                layers.extend(Layer(GROUP, b.source, b.values) for b in vars_dir.blocks_for(name))
        layers.extend(Layer(HOST, b.source, b.values) for b in host.blocks)
        for vars_dir in self.host_vars_dirs:
            layers.extend(Layer(HOST, b.source, b.values) for b in vars_dir.blocks_for(host.name))
        return layers

    def host_vars_merged(self, host_name: str) -> dict[str, Any]:
        """All inventory variables of a host merged (higher layers replace whole values)."""
        merged: dict[str, Any] = {}
        for layer in self.host_layers(host_name):
            merged.update(layer.values)
        return merged

    def group_vars_merged(self, group_name: str) -> dict[str, Any]:
        """A group's own variables: inline, then its group_vars files (``--export`` view)."""
        merged = dict(self.groups[group_name].vars)
        for vars_dir in self.group_vars_dirs:
            for block in vars_dir.blocks_for(group_name):
                merged.update(block.values)
        return merged

    def host_own_vars(self, host_name: str) -> dict[str, Any]:
        """A host's own variables: inline, then its host_vars files (``--export`` view)."""
        host = self._host(host_name)
        merged = dict(host.vars)
        for vars_dir in self.host_vars_dirs:
            for block in vars_dir.blocks_for(host.name):
                merged.update(block.values)
        return merged

    # -- output ---------------------------------------------------------------------------

    def to_ansible_json(self, export: bool = False) -> dict[str, Any]:
        """What ``ansible-inventory --list`` (``--export`` with ``export=True``) prints."""
        return export_json(self, export)

    def graph(self, group: str = "all") -> str:
        """What ``ansible-inventory --graph [group]`` prints."""
        return export_graph(self, group)
