"""``ansible-inventory``-style output: ``--list`` JSON and ``--graph`` text."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fleet.errors import InputError

if TYPE_CHECKING:
    from fleet.inventory.inventory import Inventory


def to_ansible_json(inventory: Inventory, export: bool = False) -> dict[str, Any]:
    """Groups (``hosts``, ``children``, and with ``export`` ``vars``) plus ``_meta.hostvars``.

    As ``ansible-inventory --list``: empty keys and empty groups are left out (an empty
    group is still named among its parent's ``children``); without ``export`` each host's
    vars are all its inventory vars merged, with it only the host's own vars.
    """
    available = set(inventory.group_hosts("all"))
    result: dict[str, Any] = {}
    seen: set[str] = set()

    def add(name: str) -> None:
        group = inventory.groups[name]
        entry: dict[str, Any] = {}
        result[name] = entry
        if name != "all":
            entry["hosts"] = [h for h in group.hosts if h in available]
        entry["children"] = list(group.children)
        for child in group.children:
            if child not in seen:
                seen.add(child)
                add(child)
        if export:
            entry["vars"] = inventory.group_vars_merged(name)
            if group.priority != 1:
                entry["vars"]["ansible_group_priority"] = group.priority
        for key in ("hosts", "children", "vars"):
            if key in entry and not entry[key]:
                del entry[key]
        if not entry:
            del result[name]

    seen.add("all")
    add("all")
    hostvars: dict[str, Any] = {}
    for host in inventory.group_hosts("all"):
        values = inventory.host_own_vars(host) if export else inventory.host_vars_merged(host)
        if values:
            hostvars[host] = values
    result["_meta"] = {"hostvars": hostvars}
    return result


def graph(inventory: Inventory, group: str = "all") -> str:
    """``@all:`` / ``  |--@web:`` / ``  |  |--web01`` lines, children then hosts, in order."""
    if group not in inventory.groups:
        raise InputError(f"--graph needs a group name, and {group!r} is not a group")
    lines: list[str] = []

    def walk(name: str, depth: int) -> None:
        lines.append(_indent(f"@{name}:", depth))
        current = inventory.groups[name]
        for child in current.children:
            walk(child, depth + 1)
        if name != "all":
            lines.extend(_indent(host, depth + 1) for host in current.hosts)

    walk(group, 0)
    return "\n".join(lines)


def _indent(text: str, depth: int) -> str:
    return "  |" * depth + "--" + text if depth else text
