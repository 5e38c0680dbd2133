"""fleet's facts against ansible-core's ``setup`` on the same lab host.

For every fact Ansible returns, fleet returns the same key with the same value, except the
volatile ones (clock, load, free memory, filesystem usage) and the deliberate gaps the setup
module documents (facts that need a command: capabilities, devices, LVM). Over ssh,
as an operator runs both.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.integration.conftest import ITLab, run_fleet

HOST = "itest1"
GAPS = {"ansible_system_capabilities", "ansible_system_capabilities_enforced",
        "ansible_devices", "ansible_device_links", "ansible_lvm", "ansible_locally_reachable_ips",
        "ansible_hostnqn", "ansible_iscsi_iqn", "ansible_fibre_channel_wwn", "discovered_interpreter_python"}
VOLATILE = {"ansible_date_time", "ansible_uptime_seconds", "ansible_loadavg", "ansible_memfree_mb",
            "ansible_memory_mb", "ansible_env", "ansible_python"}
MOUNT_VOLATILE = ("size_available", "block_available", "block_used", "inode_available", "inode_used")


def _ansible_setup(inventory: Path) -> dict:
    ansible = Path(sys.executable).with_name("ansible")
    out = subprocess.run([str(ansible), HOST, "-i", str(inventory), "-m", "setup", "-o"], capture_output=True,
                         text=True, timeout=300, env={"PATH": "/usr/bin:/bin", "HOME": str(inventory.parent),
                                                      "ANSIBLE_HOST_KEY_CHECKING": "false"})
    assert out.returncode == 0, out.stdout + out.stderr
    return json.loads(out.stdout.split("=>", 1)[1])["ansible_facts"]


def _mounts(value: list) -> list:
    return sorted(({k: v for k, v in m.items() if k not in MOUNT_VOLATILE} for m in value),
                  key=lambda m: (m["mount"], m["device"]))


def test_every_ansible_fact_is_there_with_the_same_value(lab: ITLab) -> None:
    theirs = _ansible_setup(lab.inventory)
    result = run_fleet("facts", "-i", str(lab.inventory), HOST, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    ours = json.loads(result.stdout)[HOST]
    missing = sorted(set(theirs) - set(ours) - GAPS)
    assert not missing, f"facts Ansible gives and fleet does not: {missing}"
    differ = {}
    for key, value in theirs.items():
        if key in GAPS or key in VOLATILE:
            continue
        mine = ours[key]
        if key == "ansible_mounts":
            value, mine = _mounts(value), _mounts(mine)
        elif key.startswith("ansible_virtualization_tech") or key == "ansible_interfaces":  # any order in Ansible
            value, mine = sorted(value), sorted(mine)
        if mine != value:
            differ[key] = (value, mine)
    assert not differ, json.dumps(differ, indent=1, default=str)[:4000]
    for key in VOLATILE:  # there, with the same shape
        assert type(ours[key]) is type(theirs[key]), key
    assert sorted(ours["ansible_date_time"]) == sorted(theirs["ansible_date_time"])
    assert sorted(ours["ansible_memory_mb"]) == sorted(theirs["ansible_memory_mb"])
    assert ours["ansible_virtualization_type"] == "docker"  # what Ansible says in a lab container
