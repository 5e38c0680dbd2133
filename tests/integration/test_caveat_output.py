"""What a host keeps from being as wanted (a container's read-only /proc/sys), on a re-apply
that changes nothing: each warning names its setting, the same warning of several hosts and
settings is one line, and output that is not a terminal is not wrapped at 80 columns. The
JSON report keeps every host's own warnings."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.conftest import fleet
from tests.integration.conftest import HOSTS, ITLab, output, report, run_fleet

SYSCTL_FILE = "/etc/sysctl.d/98-test-caveats.conf"
LOOPED = ("net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_keepalive_intvl", "net.ipv4.tcp_keepalive_probes")
SINGLE = "net.ipv4.tcp_fin_timeout"
WHY = "persisted, not applied at runtime: /proc/sys is read-only here (a container?)"


def _playbook(lab: ITLab, path: Path) -> Path:
    """Values one above what the kernel has, so the runtime value is wanted and refused."""
    def wanted(key: str) -> int:
        return int(lab.read(HOSTS[0], "/proc/sys/" + key.replace(".", "/")).strip()) + 1

    tasks = [
        {"name": "looped keys", "sysctl": {"name": "{{ item.key }}", "value": "{{ item.value }}",
                                           "sysctl_file": SYSCTL_FILE},
         "loop": [{"key": key, "value": wanted(key)} for key in LOOPED]},
        {"name": "one key", "sysctl": {"name": SINGLE, "value": wanted(SINGLE), "sysctl_file": SYSCTL_FILE}},
    ]
    path.write_text(yaml.safe_dump([{"hosts": "all", "gather_facts": False, "tasks": tasks}], sort_keys=False))
    return path


def test_a_reapply_groups_caveats_names_their_keys_and_is_not_wrapped(lab: ITLab, tmp_path: Path) -> None:
    for host in HOSTS:
        lab.reset(host, SYSCTL_FILE)
        mounts = lab.sh(host, "awk '$5 == \"/proc/sys\" {print $6}' /proc/self/mountinfo").split(",")
        assert "ro" in mounts, f"{host}: /proc/sys is writable, nothing to warn about"
    playbook = _playbook(lab, tmp_path / "caveats.yml")
    try:
        first = run_fleet("apply", "-i", str(lab.inventory), str(playbook))
        assert first.returncode == 0, output(first)
        again = fleet("apply", "-i", str(lab.inventory), str(playbook), "--json", str(tmp_path / "r.json"),
                      env={"COLUMNS": ""})  # no width given: rich's default is 80 columns
    finally:
        for host in HOSTS:
            lab.reset(host, SYSCTL_FILE)
    assert again.returncode == 0, output(again)
    data = report(tmp_path / "r.json")
    assert data["summary"]["changed"] == 0
    hosts = f"{len(HOSTS)} hosts ({', '.join(HOSTS)})"
    lines = again.stdout.splitlines()
    assert "TASK [looped keys]" in lines and "TASK [one key]" in lines, again.stdout
    warnings = [line for line in lines if "[WARNING]" in line]
    assert warnings == [
        f"  [WARNING]: {WHY} — {len(LOOPED)} keys on {hosts}: {', '.join(LOOPED)}",
        f"  [WARNING]: key {SINGLE}: {WHY} — {hosts}",
    ], again.stdout
    assert max(len(line) for line in warnings) > 80
    assert not any(line.startswith("ok: ") for line in lines), again.stdout
    for host in HOSTS:  # the report keeps each host's own warnings, one per key
        results = {r["task"]: r for r in data["hosts"][host]["results"]}
        assert results["looped keys"]["warnings"] == [f"key {key}: {WHY}" for key in LOOPED]
        assert results["one key"]["warnings"] == [f"key {SINGLE}: {WHY}"]
