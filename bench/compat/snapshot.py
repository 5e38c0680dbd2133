"""A lab host's final state (``hostsnap.py`` run on it through ``docker exec``) and the diff of two.

The diff lists what differs between Ansible's twin and fleet's, section by section (files,
packages, units, users, groups), as lines a person reads: the first one is an item's "first
error" when every task result matched.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

SCRIPT = Path(__file__).with_name("hostsnap.py")
SECTIONS = ("files", "packages", "units", "users", "groups")
# Ansible's apt and package modules install python3-apt (and what it depends on) on the host
# for themselves when it is missing; fleet's modules need nothing. Not the item's doing: a
# package of this list that only Ansible's twin has is not a difference.
ANSIBLE_OWN_PACKAGES = frozenset({"python3-apt", "python-apt-common", "distro-info-data", "iso-codes",
                                  "lsb-release", "python3-debian", "python3-distro-info"})


def take(container: str, timeout: float = 180) -> dict[str, dict[str, str]]:
    """The state of the lab container ``container``; RuntimeError when the script fails."""
    done = subprocess.run(["docker", "exec", "-i", container, "python3", "-"], input=SCRIPT.read_text(),
                          capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"snapshot of {container} failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    data: dict[str, Any] = json.loads(done.stdout)
    return {section: dict(data.get(section, {})) for section in SECTIONS}


def diff(ansible: dict[str, dict[str, str]], fleet: dict[str, dict[str, str]], limit: int = 200) -> list[str]:
    """What differs, Ansible's host first: ``files /etc/x: ansible 'file 0644 …', fleet 'missing'``."""
    lines = []
    for section in SECTIONS:
        left, right = ansible.get(section, {}), fleet.get(section, {})
        for key in sorted(set(left) | set(right)):
            a, f = left.get(key), right.get(key)
            if section == "packages" and key in ANSIBLE_OWN_PACKAGES and f is None:
                continue
            if a != f:
                lines.append(f"{section} {key}: ansible {a or 'missing'!r}, fleet {f or 'missing'!r}")
                if len(lines) >= limit:
                    return lines
    return lines
