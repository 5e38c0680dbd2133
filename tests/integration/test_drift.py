"""``fleet drift`` on the container lab: hand-made drift on one host (a managed file edited, a
service stopped, a sysctl file changed, a user removed) is reported as exactly those host/task
pairs with their diffs, no container changes (``docker diff``), the next run calls it
persisting, ``fleet apply`` resolves it, and an unreachable host exits 1 with the others'
drift still reported."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from tests.integration.conftest import HOSTS, ITLab, output, report, run_fleet

PLAYBOOK = Path(__file__).parent / "playbooks" / "drift.yml"
SYSCTL = "/etc/sysctl.d/90-fleet-drift.conf"
CLEANUP = "systemctl disable --now fleet-drift 2>/dev/null; userdel -r driftuser 2>/dev/null; " \
          f"rm -f /etc/fleet-drift.conf /usr/lib/systemd/system/fleet-drift.service {SYSCTL}; " \
          "systemctl daemon-reload; true"


def drift(lab: ITLab, tmp_path: Path, *extra: str, expect: int, inventory: Path | None = None) -> dict[str, Any]:
    path = tmp_path / f"drift-{len(list(tmp_path.glob('drift-*')))}.json"
    started = time.monotonic()
    run = run_fleet("drift", "-i", str(inventory or lab.inventory), str(PLAYBOOK), "--state-dir",
                    str(tmp_path / "state"), "--json", str(path), *extra)
    assert run.returncode == expect, output(run)
    data = report(path)
    data["elapsed_s"] = time.monotonic() - started
    return data


def drifted(data: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(host, task["task"]): task["drift"] for host, entry in data["drift"]["hosts"].items()
            for task in entry["tasks"] if task["status"] == "drift"}


def test_drift_on_lab_hosts(lab: ITLab, tmp_path: Path) -> None:
    try:
        applied = run_fleet("apply", "-i", str(lab.inventory), str(PLAYBOOK))
        assert applied.returncode == 0, output(applied)
        clean = drift(lab, tmp_path, expect=0)
        assert clean["drift"]["summary"]["clean"] == len(HOSTS)
        tasks = len(clean["drift"]["hosts"][HOSTS[0]]["tasks"])
        assert all(h["agent_requests"] <= tasks for h in clean["hosts"].values())

        victim = HOSTS[1]
        lab.sh(victim, "sed -i 's/level = 3/level = 9/' /etc/fleet-drift.conf")
        lab.sh(victim, "systemctl stop fleet-drift")
        lab.sh(victim, f"sed -i 's/=1$/=0/' {SYSCTL}")
        lab.sh(victim, "userdel driftuser")
        before = {host: lab.diff(host) for host in HOSTS}
        first = drift(lab, tmp_path, expect=2)
        assert {host: lab.diff(host) for host in HOSTS} == before, "fleet drift changed a host"
        found = drifted(first)
        assert set(found) == {(victim, "managed file"), (victim, "drift service"),
                              (victim, "drift sysctl"), (victim, "drift user")}, found
        assert "-level = 9" in found[(victim, "managed file")]["unified"]["content"]
        assert "+level = 3" in found[(victim, "managed file")]["unified"]["content"]
        service = found[(victim, "drift service")]
        assert service["fields"] == ["state"] and service["after"]["state"] == "started", service
        assert "-net.ipv4.tcp_syncookies=0" in found[(victim, "drift sysctl")]["unified"]["content"]
        user = found[(victim, "drift user")]
        assert user["before"]["state"] == "absent" and user["after"]["state"] == "present", user
        assert all(item["state"] == "new" for item in found.values())
        assert first["drift"]["summary"]["drifted"] == 1 and first["drift"]["summary"]["clean"] == 2

        second = drift(lab, tmp_path, expect=2)
        assert {k: (v["state"], v["first_seen"]) for k, v in drifted(second).items()} == {
            k: ("persisting", v["first_seen"]) for k, v in found.items()}

        dead = lab.derived(tmp_path / "dead.yml", host_vars={HOSTS[2]: {"ansible_port": 1}})
        with_dead = drift(lab, tmp_path, expect=1, inventory=dead)
        assert with_dead["drift"]["hosts"][HOSTS[2]]["status"] == "unreachable"
        assert set(drifted(with_dead)) == set(found)

        healed = run_fleet("apply", "-i", str(lab.inventory), str(PLAYBOOK))
        assert healed.returncode == 0, output(healed)
        resolved = drift(lab, tmp_path, expect=0)
        assert {(r["host"], r["task"]) for r in resolved["drift"]["resolved"]} == set(found)
        print(f"fleet drift on {len(HOSTS)} lab hosts, {tasks} tasks: {resolved['elapsed_s']:.2f} s")
    finally:
        for host in HOSTS:
            lab.sh(host, CLEANUP, check=False)
