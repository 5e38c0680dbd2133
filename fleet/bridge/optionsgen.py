"""Writes ``fleet/bridge/ansible_names.json`` from the installed ansible-core:
``python -m fleet.bridge.optionsgen`` (a test keeps the shipped file equal to it)."""

from __future__ import annotations

import json
import sys

from fleet.bridge.options import DATA, generate
from fleet.bridge.run import Bridge
from fleet.registry import MODULE_ALIASES, ModuleRegistry


def main() -> None:
    """Write ``ansible_names.json`` from the installed ansible-core."""

    registry = ModuleRegistry(use_entry_points=False)
    bridge = Bridge(cache=False)
    data = generate(bridge, [*registry.names(), *MODULE_ALIASES])
    DATA.write_text(json.dumps(data, indent=0, sort_keys=True) + "\n", "utf-8")
    print(f"{DATA}: {len(data['modules'])} modules, ansible-core {data['ansible_core']}", file=sys.stderr)


if __name__ == "__main__":
    main()
