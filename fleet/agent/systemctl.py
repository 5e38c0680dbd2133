"""Reading systemd's answers: ``systemctl show`` output and whether a unit is active.

Used by the modules that manage units or reload a service after a change (systemd,
sshd_config, networkd). Queries only.
"""

from __future__ import annotations


def parse_show(text: str) -> list:
    """``systemctl show`` output as a list of property dicts (one per blank-line block).

    Values of ``Exec*`` properties may span lines inside ``{ ... }`` (as Ansible parses them).
    """
    units: list = []
    cur: dict = {}
    key, multi = None, []
    for line in text.splitlines():
        if key is not None:
            multi.append(line)
            if line.rstrip().endswith("}"):
                cur[key] = "\n".join(multi).strip()
                key, multi = None, []
            continue
        if not line.strip():
            if cur:
                units.append(cur)
            cur = {}
            continue
        if "=" not in line:
            continue
        k, v = line.split("=", 1)
        if k.startswith("Exec") and v.lstrip().startswith("{") and not v.rstrip().endswith("}"):
            key, multi = k, [v]
            continue
        cur[k] = v.strip()
    if cur:
        units.append(cur)
    return units


def unit_state(host, unit: str) -> str:
    """``systemctl is-active UNIT``'s word (``active``, ``inactive``, ``failed``...; ``""``
    when it printed nothing)."""
    return host.query(["systemctl", "is-active", unit])[1].strip()
