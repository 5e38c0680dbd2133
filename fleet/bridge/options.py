"""What Ansible documents, for the preflight to tell a name Ansible knows from a typo.

- the parameters Ansible's module of the same name documents, for each of fleet's native
  modules (options and their aliases, as ``ansible-doc`` shows them, doc fragments merged);
- the module names ansible-core knows without any collection installed: ansible.builtin's
  modules and the short names its routing sends to collections (``ufw`` ->
  ``community.general.ufw``).

Read from the installed ansible-core's own documentation when there is one, else from
``ansible_names.json``, generated once from ansible-core 2.19 by :func:`generate` (``python -m
fleet.bridge.optionsgen``; a unit test compares it with the installed ansible-core).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from fleet.bridge.core import AnsibleCore
from fleet.bridge.doc import documentation
from fleet.bridge.resolve import Resolution

DATA = Path(__file__).with_name("ansible_names.json")
# Ansible's action plugins that hand a task's arguments to another module: ``package`` to the
# host's package manager module, ``service`` to systemd's (ansible.builtin.package/service)
HANDED_TO = {"package": ("apt", "dnf", "dnf5"), "service": ("systemd_service",)}
# where fleet's module names are also written (fleet.registry.NAMESPACES)
COLLECTIONS = ("ansible.posix.", "community.general.")
SKIPPED_ROUTES = ("formerly_core_", "uses_redirected_")  # ansible-core's own test fixtures


class Shipped:
    """``ansible_names.json``, read once per instance."""

    def __init__(self, path: Path = DATA) -> None:
        self.path = path

    @cached_property
    def data(self) -> dict[str, Any]:
        return dict(json.loads(self.path.read_text("utf-8")))

    def options(self, name: str) -> frozenset[str] | None:
        entry = self.data["modules"].get(name)
        return frozenset(entry["options"]) if entry else None

    def module(self, name: str) -> dict[str, Any] | None:
        """``{"fqcn", "kind", "options"}`` of Ansible's module named as fleet's ``name``."""
        entry = self.data["modules"].get(name)
        return dict(entry) if entry else None

    def has(self, name: str) -> bool:
        """Does ansible-core know ``name`` (a builtin module, or a short name it routes)?"""
        short = name.removeprefix("ansible.builtin.").removeprefix("ansible.legacy.")
        if short in self.data["builtin"]:
            return True
        collection, _, module = short.rpartition(".")
        routed = self.data["routed"]
        return module in routed.get(collection, ()) if collection else any(short in names for names in routed.values())


def documented(doc: Mapping[str, Any]) -> set[str]:
    """The option names and aliases a module's DOCUMENTATION lists."""
    names: set[str] = set()
    for option, spec in (doc.get("options") or {}).items():
        names.add(str(option))
        names.update(str(alias) for alias in (spec or {}).get("aliases") or ())
    return names


def live_options(core: AnsibleCore, found: Resolution, handed: Iterable[Resolution] = ()) -> frozenset[str]:
    """The options Ansible documents for ``found`` (and the modules its action plugin hands
    the arguments to), read from the installed ansible-core."""
    names = documented(documentation(core, found))
    for other in handed:
        if other.path:
            names |= documented(documentation(core, other))
    return frozenset(names)


def generate(bridge: Any, native: Iterable[str]) -> dict[str, Any]:
    """The content of ``ansible_names.json`` from the installed ansible-core (and the
    collections installed beside it): ``native`` are fleet's module names."""
    core = bridge.core()
    modules: dict[str, Any] = {}
    for name in sorted(set(native)):
        found = next((f for f in (bridge.resolve(f"{prefix}{name}") for prefix in ("", *COLLECTIONS)) if f.path),
                     None)
        if found is None:
            continue  # Ansible has no module of that name
        handed = [bridge.resolve(other) for other in HANDED_TO.get(name, ())]
        modules[name] = {"fqcn": found.fqcn, "kind": found.kind,
                         "options": sorted(live_options(core, found, handed))}
    builtin = Path(core.module("ansible.modules").__file__ or "").parent
    runtime = Path(core.module("ansible.config").__file__ or "").parent / "ansible_builtin_runtime.yml"
    routing = (yaml.safe_load(runtime.read_text("utf-8")) or {}).get("plugin_routing", {})
    routes = {**(routing.get("action") or {}), **(routing.get("modules") or {})}  # yum: the dnf action
    routed: dict[str, list[str]] = {}
    for short, route in routes.items():
        target = str((route or {}).get("redirect") or "")
        if target.count(".") >= 2 and not short.startswith(SKIPPED_ROUTES):
            routed.setdefault(target.rsplit(".", 1)[0], []).append(short)
    return {"ansible_core": core.version, "modules": modules,
            "builtin": sorted(p.stem for p in builtin.glob("*.py") if not p.stem.startswith("_")),
            "routed": {collection: sorted(names) for collection, names in sorted(routed.items())}}
