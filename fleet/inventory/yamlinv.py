"""YAML (and JSON) inventory files: ``group: {hosts: ..., vars: ..., children: ...}``.

As Ansible's ``yaml`` plugin: top-level keys are groups (usually just ``all``); a group is a
mapping or empty; ``hosts``/``children`` map names to a mapping (or nothing), and a plain
string stands for a one-entry mapping. Host keys may hold ranges and ``:port``. Ansible
warns about and skips any other key in a group; fleet rejects it, naming file:line.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from fleet.errors import InputError, Location
from fleet.inventory.builder import PRIORITY_VAR, InventoryBuilder
from fleet.inventory.ranges import expand_host_pattern
from fleet.yamlsrc import SourceDict, loads, location_of

GROUP_KEYS = ("hosts", "vars", "children")
_KEY_LINE = re.compile(r"""^\s*(?:-\s+)?(["']?)(.+?)\1\s*:(?:\s|$)""")


def kind_name(value: Any) -> str:
    """A YAML-ish name for a value's type, for error messages."""
    if isinstance(value, Mapping):
        return "mapping"
    if isinstance(value, list):
        return "list"
    if isinstance(value, str):
        return "string"
    return type(value).__name__


class _YamlParser:
    def __init__(self, text: str, path: str, builder: InventoryBuilder, inventory_file: str):
        self.lines = text.splitlines()
        self.path = path
        self.builder = builder
        self.inventory_file = inventory_file
        self._key_lines: dict[int, tuple[Any, dict[str, int]]] = {}

    def key_location(self, mapping: Any, key: Any) -> Location:
        """Line of ``key`` in ``mapping`` (found by scanning the text once per mapping)."""
        start = location_of(mapping, Location(self.path))
        assert start is not None
        entry = self._key_lines.get(id(mapping))
        if entry is None:
            entry = (mapping, self._index_keys(mapping, start.line))
            self._key_lines[id(mapping)] = entry
        line = entry[1].get(str(key))
        return Location(self.path, line) if line else start

    def _index_keys(self, mapping: Mapping[Any, Any], start: int) -> dict[str, int]:
        wanted = {str(k) for k in mapping}
        found: dict[str, int] = {}
        for index in range(max(start - 1, 0), len(self.lines) if start else 0):
            m = _KEY_LINE.match(self.lines[index])
            if m and m.group(2) in wanted and m.group(2) not in found:
                found[m.group(2)] = index + 1
                if len(found) == len(wanted):
                    break
        return found

    def parse(self, data: Any) -> None:
        top = Location(self.path, 1)
        if data is None or data == {}:
            raise InputError("YAML inventory is empty", top)
        if not isinstance(data, Mapping):
            raise InputError(
                f"YAML inventory must be a mapping of group names, got {kind_name(data)}", top
            )
        if "plugin" in data:
            raise InputError(
                f"inventory plugin configuration (plugin: {data['plugin']}) is not supported; "
                "use a YAML/INI inventory or an executable inventory script",
                self.key_location(data, "plugin"),
            )
        for name, group_data in data.items():
            self.group(name, group_data, self.key_location(data, name))

    def group(self, name: Any, data: Any, where: Location) -> str:
        if not isinstance(name, str):
            raise InputError(f"group name must be a string, got {name!r}", where)
        self.builder.add_group(name, where)
        if data is None:
            return name
        if not isinstance(data, Mapping):
            raise InputError(
                f"group {name!r} must be a mapping with hosts, vars and/or children, "
                f"got {kind_name(data)}",
                where,
            )
        for key, value in data.items():
            key_where = self.key_location(data, key)
            if key not in GROUP_KEYS:
                raise InputError(
                    f"unknown key {key!r} in group {name!r}: a group may only have "
                    "hosts, vars and children",
                    key_where,
                )
            if isinstance(value, str):  # one name: keep where it was for error messages
                value = SourceDict({value: None}, location=key_where)
            if value is None:
                continue
            if not isinstance(value, Mapping):
                raise InputError(
                    f"{key!r} of group {name!r} must be a mapping, got {kind_name(value)}",
                    key_where,
                )
            if key == "vars":
                self.group_vars(name, value, key_where)
            elif key == "children":
                for child, child_data in value.items():
                    child_where = self.key_location(value, child)
                    self.group(child, child_data, child_where)
                    self.builder.add_child(name, child, child_where)
            else:
                self.hosts(name, value)
        return name

    def group_vars(self, group: str, values: Mapping[str, Any], where: Location) -> None:
        if PRIORITY_VAR in values:
            self.builder.set_priority(
                group, values[PRIORITY_VAR], self.key_location(values, PRIORITY_VAR)
            )
        block = {k: v for k, v in values.items() if k != PRIORITY_VAR}
        source = str(location_of(values, where))
        self.builder.add_group_vars(group, block, source)

    def hosts(self, group: str, hosts: Mapping[Any, Any]) -> None:
        where = location_of(hosts, Location(self.path))
        for key, host_vars in hosts.items():
            if host_vars is not None and not isinstance(host_vars, Mapping):
                raise InputError(
                    f"variables of host {key!r} must be a mapping, got {kind_name(host_vars)}",
                    self.key_location(hosts, key),
                )
            text = str(key)
            try:
                names, port = expand_host_pattern(text)
            except InputError as exc:
                raise InputError(exc.message, self.key_location(hosts, key)) from None
            values: dict[str, Any] = {} if port is None else {"ansible_port": port}
            if host_vars:
                values.update(host_vars)
                source = str(location_of(host_vars, where))
            else:
                source = str(self.key_location(hosts, key)) if values else ""
            for name in names:
                self.builder.add_host(name, group, where, self.inventory_file)
                self.builder.add_host_vars(name, values, source)


def parse_yaml(text: str, path: str, builder: InventoryBuilder, inventory_file: str) -> None:
    """Parse YAML inventory ``text`` read from ``path`` into ``builder``."""
    _YamlParser(text, path, builder, inventory_file).parse(loads(text, path))
