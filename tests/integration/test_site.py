"""The top-level site.yml converges lab hosts, re-applies with 0 changed, and passes verify."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import REPO
from tests.integration.conftest import HOSTS, ITLab, output, report, run_fleet

SITE = REPO / "site.yml"


def test_site_converges_reapplies_clean_and_verifies(lab: ITLab, tmp_path: Path) -> None:
    first = run_fleet("apply", "-i", str(lab.inventory), str(SITE), "--json", str(tmp_path / "first.json"))
    assert first.returncode == 0, output(first)
    assert report(tmp_path / "first.json")["summary"]["failed"] == 0

    second = run_fleet("apply", "-i", str(lab.inventory), str(SITE), "--json", str(tmp_path / "second.json"))
    assert second.returncode == 0, output(second)
    assert report(tmp_path / "second.json")["summary"]["changed"] == 0, output(second)

    for host in HOSTS:  # /etc/hosts is a bind mount in a container: written in place
        hosts = lab.read(host, "/etc/hosts")
        for other in HOSTS:
            assert f"{lab.ip(other)} {other}\n" in hosts
        assert "managed by fleet" in lab.read(host, "/etc/motd")

    check = run_fleet("check", "-i", str(lab.inventory), str(SITE))
    assert check.returncode == 0, output(check)

    verify = run_fleet("verify", "-i", str(lab.inventory), str(SITE), "--junit", str(tmp_path / "v.xml"))
    assert verify.returncode == 0, output(verify)
    assert "PASS role base" in verify.stdout
