"""``ansible-inventory``-style output: ``--list`` JSON and ``--graph`` text."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fleet.errors import InputError

if TYPE_CHECKING:
    from fleet.inventory.inventory import Inventory

MAX_GRAPH_LINES = 1_000_000


def to_ansible_json(inventory: Inventory, export: bool = False) -> dict[str, Any]:
    """Groups (``hosts``, ``children``, and with ``export`` ``vars``) plus ``_meta.hostvars``.

    As ``ansible-inventory --list``: empty keys and empty groups are left out (an empty
    group is still named among its parent's ``children``); without ``export`` each host's
    vars are all its inventory vars merged, with it only the host's own vars.
    """
    available = set(inventory.group_hosts("all"))
    result: dict[str, Any] = {}
    seen: set[str] = set()
    stack = ["all"]  # depth first, each group once, where it is first reached (no recursion:
    while stack:  # a chain of thousands of child groups is valid input)
        name = stack.pop()
        if name in seen:
            continue
        seen.add(name)
        group = inventory.groups[name]
        entry: dict[str, Any] = {}
        if name != "all":
            entry["hosts"] = [h for h in group.hosts if h in available]
        entry["children"] = list(group.children)
        if export:
            entry["vars"] = inventory.group_vars_merged(name)
            if group.priority != 1:
                entry["vars"]["ansible_group_priority"] = group.priority
        for key in ("hosts", "children", "vars"):
            if key in entry and not entry[key]:
                del entry[key]
        if entry:
            result[name] = entry
        stack.extend(reversed(group.children))
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
    # A group reached through several parents is shown under each (as Ansible does), so the
    # output can grow exponentially with crafted input: it is bounded, and built without recursion.
    stack: list[tuple[str, int, bool]] = [(group, 0, False)]
    while stack:
        name, depth, is_host = stack.pop()
        if is_host:
            lines.append(_indent(name, depth))
            continue
        if len(lines) >= MAX_GRAPH_LINES:
            raise InputError(f"the graph of group {group!r} has more than {MAX_GRAPH_LINES} lines "
                             "(groups reached through many parents); use --list")
        lines.append(_indent(f"@{name}:", depth))
        current = inventory.groups[name]
        hosts = [] if name == "all" else [(host, depth + 1, True) for host in current.hosts]
        stack.extend(reversed([(child, depth + 1, False) for child in current.children] + hosts))
    return "\n".join(lines)

def _indent(text: str, depth: int) -> str:
    return "  |" * depth + "--" + text if depth else text
