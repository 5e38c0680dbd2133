"""The top-level site.yml (roles base, network, security) converges lab hosts, re-applies with
0 changed, checks clean without touching a file, passes verify, and heals a hand-made revert."""

from __future__ import annotations

import time
from pathlib import Path

from tests.conftest import REPO
from tests.integration.conftest import HOSTS, ITLab, output, report, run_fleet

SITE = REPO / "site.yml"
ROLES = ("base", "network", "security")

# One setting per role, reverted by hand on one host: (role, shell command).
REVERTS = (
    ("base", "ln -sf /usr/share/zoneinfo/Europe/Paris /etc/localtime && echo Europe/Paris > /etc/timezone"),
    ("network", "sed -i -E 's/^(net.ipv4.tcp_syncookies *= *)1/\\10/' /etc/sysctl.d/99-zz-fleet-network.conf"),
    ("security", "rm /etc/ssh/sshd_config.d/50-fleet-hardening.conf && systemctl reload ssh"),
)


def _apply(lab: ITLab, path: Path) -> tuple[dict, float]:
    started = time.monotonic()
    run = run_fleet("apply", "-i", str(lab.inventory), str(SITE), "--json", str(path))
    elapsed = time.monotonic() - started
    assert run.returncode == 0, output(run)
    return report(path), elapsed


def test_site_converges_reapplies_clean_checks_clean_and_verifies(lab: ITLab, tmp_path: Path) -> None:
    first, first_s = _apply(lab, tmp_path / "first.json")
    assert first["summary"]["failed"] == 0 and first["summary"]["unreachable"] == 0
    second, second_s = _apply(lab, tmp_path / "second.json")
    assert second["summary"]["changed"] == 0, [
        (h, r["task"]) for h, d in second["hosts"].items() for r in d["results"] if r["changed"]]
    print(f"site.yml on {len(HOSTS)} lab hosts: apply {first_s:.1f} s, re-apply {second_s:.1f} s")

    for host in HOSTS:
        hosts = lab.read(host, "/etc/hosts")  # a bind mount in a container: written in place
        for other in HOSTS:
            assert any(line.split()[:1] == [lab.ip(other)] and other in line.split()[1:]
                       for line in hosts.splitlines() if line.strip()), hosts
        assert "managed by fleet" in lab.read(host, "/etc/motd")
        assert "passwordauthentication no" in lab.sh(host, "sshd -T -C user=root,host=x,addr=127.0.0.1")

    before = {host: lab.diff(host) for host in HOSTS}
    check = run_fleet("check", "-i", str(lab.inventory), str(SITE))
    assert check.returncode == 0, output(check)
    assert {host: lab.diff(host) for host in HOSTS} == before, "fleet check changed a file"

    verify = run_fleet("verify", "-i", str(lab.inventory), str(SITE))
    assert verify.returncode == 0, output(verify)
    for role in ROLES:
        assert f"PASS role {role}" in verify.stdout, verify.stdout


def test_each_role_test_catches_a_revert_and_apply_heals_it(lab: ITLab, tmp_path: Path) -> None:
    _apply(lab, tmp_path / "converge.json")
    victim = HOSTS[1]
    for _role, command in REVERTS:
        lab.sh(victim, command)

    verify = run_fleet("verify", "-i", str(lab.inventory), str(SITE))
    assert verify.returncode == 1, output(verify)
    for role in ROLES:
        assert f"FAIL role {role}" in verify.stdout, verify.stdout

    check = run_fleet("check", "-i", str(lab.inventory), str(SITE), "--limit", victim)
    assert check.returncode == 2, output(check)

    healed, _ = _apply(lab, tmp_path / "heal.json")
    changed = {r["task"] for r in healed["hosts"][victim]["results"] if r["changed"]}
    assert {"base : timezone", "network : network sysctls", "security : sshd hardening drop-in"} <= changed, changed
    assert all(not r["changed"] for h in HOSTS if h != victim for r in healed["hosts"][h]["results"])
    verify = run_fleet("verify", "-i", str(lab.inventory), str(SITE))
    assert verify.returncode == 0, output(verify)
