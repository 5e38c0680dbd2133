"""The implied inventory of a bake (one host) and, for ``--role``, the implied play."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


def inventory_vars(connection: str, address: str) -> dict[str, Any]:
    """Variables of the bake host: its connection (a container as root, or a directory tree)
    and ``fleet_bake: true``, which roles read to leave per-instance settings (host name,
    the fleet's /etc/hosts) to the machines made from the image."""
    if connection == "docker":
        return {"ansible_connection": "docker", "ansible_host": address, "ansible_user": "root", "fleet_bake": True}
    return {"ansible_connection": "chroot", "ansible_host": address, "fleet_bake": True}


def write_inventory(directory: Path, name: str, host_vars: dict[str, Any]) -> Path:
    """``inventory.yml`` in ``directory`` with the single host ``name`` in group ``bake``."""
    path = directory / "inventory.yml"
    data = {"all": {"children": {"bake": {"hosts": {name: host_vars}}}}}
    path.write_text("# written by fleet bake\n" + yaml.safe_dump(data, sort_keys=False))
    return path


def write_role_play(directory: Path, roles: list[str]) -> Path:
    """``bake.yml`` applying ``roles`` (names or paths) to every host, facts gathered."""
    path = directory / "bake.yml"
    play = [{"name": f"bake: {', '.join(Path(r).name for r in roles)}", "hosts": "all",
             "gather_facts": True, "roles": list(roles)}]
    path.write_text("# written by fleet bake (--role)\n" + yaml.safe_dump(play, sort_keys=False))
    return path
