"""Collections' action groups (``meta/runtime.yml`` ``action_groups``), for ``module_defaults``'
``group/NAME`` keys: the modules of a group as Ansible's ``Base._resolve_group`` finds them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fleet.errors import InputError, Location

FINDER = "ansible.utils.collection_loader._collection_finder"


def group_actions(group: str, metadata: Callable[[str], Any], resolve: Callable[[str], str],
                  location: Location | None, seen: dict[str, frozenset[str]],
                  mandatory: bool = True) -> frozenset[str]:
    """The module FQCNs (as written and as resolved) of ``group`` (``ns.coll.NAME``).

    ``metadata(collection)``: the collection's parsed runtime metadata (ValueError when it is not
    installed); ``resolve(fqcn)``: where a module name leads; ``seen`` caches groups (and stops
    ``extend_group`` cycles). A group that cannot be found is an InputError, as in Ansible,
    unless it is only extended (``mandatory`` False: then it adds nothing)."""
    if group in seen:
        return seen[group]
    collection = ".".join(group.split(".")[:2])
    missing = InputError(f"Error loading module_defaults: could not resolve the module_defaults group {group}",
                         location)
    try:
        groups = (metadata(collection) or {}).get("action_groups") or {}
    except ValueError:
        if not mandatory:
            return frozenset()
        raise missing from None
    entries = groups.get(group, groups.get(group[len(collection) + 1:]))
    if not isinstance(entries, list):
        if not mandatory:
            return frozenset()
        raise missing
    seen[group] = frozenset()
    members: set[str] = set()
    extends: list[str] = []
    for action in entries:
        if isinstance(action, str):
            name = action if action.count(".") >= 2 else f"{collection}.{action}"
            members.update({name, resolve(name)} - {""})
        elif isinstance(action, dict) and isinstance(action.get("metadata"), dict):
            extend = action["metadata"].get("extend_group") or []
            extends += [extend] if isinstance(extend, str) else [e for e in extend if isinstance(e, str)] \
                if isinstance(extend, list) else []
    seen[group] = frozenset(members)
    for other in extends:
        name = other if other.count(".") >= 2 else f"{collection}.{other}"
        members |= group_actions(name, metadata, resolve, location, seen, mandatory=False)
    seen[group] = frozenset(members)
    return seen[group]
