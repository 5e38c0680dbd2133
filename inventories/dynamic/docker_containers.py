#!/usr/bin/env python3
"""Dynamic inventory: running containers that carry a label, reached with ``docker exec``.

    fleet apply -i inventories/dynamic/docker_containers.py site.yml
    inventories/dynamic/docker_containers.py --list | --host NAME

By default the label is ``fleet.lab`` (the hosts of ``fleet lab up``): each container is a host
named by its ``fleet.lab.host`` label (else its container name), in a group named after the
lab. ``FLEET_INVENTORY_LABEL=KEY`` selects other containers (grouped by that label's value).
Standard library only, as Ansible's script inventories; the docker CLI must be on PATH.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

LABEL = os.environ.get("FLEET_INVENTORY_LABEL", "fleet.lab")
FORMAT = '{{.Names}}\t{{.Label "' + LABEL + '"}}\t{{.Label "fleet.lab.host"}}'


def containers() -> list[tuple[str, str, str]]:
    """(container, label value, host label) of every running container with the label."""
    try:
        out = subprocess.run(["docker", "ps", "--filter", f"label={LABEL}", "--format", FORMAT],
                             capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        sys.exit(f"docker_containers.py: cannot run docker ps: {exc}")
    if out.returncode != 0:
        sys.exit(f"docker_containers.py: docker ps failed: {out.stderr.strip()}")
    rows = []
    for line in out.stdout.splitlines():
        fields = line.split("\t")
        if len(fields) == 3 and fields[0]:
            rows.append((fields[0], fields[1], fields[2]))
    return rows


def group_name(value: str) -> str:
    """A label value as a valid group name (letters, digits, underscores)."""
    name = re.sub(r"[^A-Za-z0-9_]", "_", value) or "ungrouped"
    return name if not name[0].isdigit() else f"_{name}"


def inventory() -> dict:
    groups: dict[str, dict] = {}
    hostvars: dict[str, dict] = {}
    for container, value, host in sorted(containers()):
        name = host or container
        hostvars[name] = {"ansible_connection": "docker", "ansible_host": container, "ansible_user": "root"}
        groups.setdefault(group_name(value), {"hosts": []})["hosts"].append(name)
    return {**groups, "_meta": {"hostvars": hostvars}}


def main(argv: list[str]) -> int:
    if argv[1:2] == ["--list"]:
        print(json.dumps(inventory(), indent=2))
    elif len(argv) == 3 and argv[1] == "--host":
        print(json.dumps(inventory()["_meta"]["hostvars"].get(argv[2], {})))
    else:
        print(f"usage: {argv[0]} --list | --host NAME", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
