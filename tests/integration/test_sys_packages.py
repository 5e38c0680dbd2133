"""apt and package modules on the lab's Debian hosts, against the Debian mirror the machine uses:
the cache is updated once (cache_valid_time), two packages are installed in one apt-get call,
re-apply reports 0 changed, the package front removes one, and check mode on a host where a
package was removed by hand reports it and installs nothing (dpkg-query proves it)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import HOSTS, ITLab, output, report, run_fleet

PLAYBOOKS = Path(__file__).parent / "playbooks"
PACKAGES = ("tree", "less")
STAMP = "/var/lib/apt/periodic/update-success-stamp"


def play(lab: ITLab, tmp_path: Path, name: str, check: bool = False, expect: int = 0) -> dict[str, Any]:
    path = tmp_path / f"{name}-{len(list(tmp_path.glob(name + '-*')))}.json"
    result = run_fleet("check" if check else "apply", "-i", str(lab.inventory), str(PLAYBOOKS / f"{name}.yml"),
                       "--diff", "--json", str(path), timeout=600)
    assert result.returncode == expect, output(result)
    data = report(path)
    data["stdout"] = result.stdout
    return data


def by_task(data: dict[str, Any], host: str) -> dict[str, dict[str, Any]]:
    return {r["task"]: r for r in data["hosts"][host]["results"]}


def changed(data: dict[str, Any]) -> set[tuple[str, str]]:
    return {(h, r["task"]) for h, d in data["hosts"].items() for r in d["results"] if r["changed"]}


def installed(lab: ITLab, host: str, name: str) -> bool:
    status = lab.sh(host, f"dpkg-query -W -f='${{Status}}' {name} 2>/dev/null", check=False)
    return status.strip().endswith(" installed")


@pytest.fixture
def pkg_lab(lab: ITLab) -> Iterator[ITLab]:
    """Hosts without the test's packages, with an apt cache older than an hour whose lists lack
    their Release files: the update fetches them again, so the lists move whatever the mirror did
    since the image was built (an update that fetches nothing is ``ok``, as in Ansible)."""
    before = {host: {name: installed(lab, host, name) for name in PACKAGES} for host in HOSTS}
    for host in HOSTS:
        lab.sh(host, "DEBIAN_FRONTEND=noninteractive apt-get remove -y -q --purge "
                     + " ".join(PACKAGES) + " >/dev/null 2>&1; "
                     f"rm -f {STAMP} /var/lib/apt/lists/*Release*; touch -d '2 hours ago' /var/lib/apt/lists", check=False)
    yield lab
    for host in HOSTS:  # put back what the image had, leave out what the test added
        extra = [n for n in PACKAGES if installed(lab, host, n) and not before[host][n]]
        if extra:
            lab.sh(host, "DEBIAN_FRONTEND=noninteractive apt-get remove -y -q --purge " + " ".join(extra),
                   check=False)


def test_install_reapply_remove_and_check_finds_a_package_removed_by_hand(pkg_lab: ITLab, tmp_path: Path) -> None:
    lab = pkg_lab
    first = play(lab, tmp_path, "sys_packages")
    assert first["summary"]["failed"] == 0
    assert changed(first) == {(h, t) for h in HOSTS for t in ("cache", "packages")}, first["stdout"]
    for host in HOSTS:
        results = by_task(first, host)
        assert results["cache"]["diff"]["before"] == {"apt_cache": "stale"}
        assert results["packages"]["diff"]["before"] == {"tree": "absent", "less": "absent"}
        assert results["packages"]["diff"]["after"] == {"tree": "present", "less": "present"}
        assert results["package front"]["status"] == "ok"
        assert all(installed(lab, host, name) for name in PACKAGES)
        assert lab.exists(host, STAMP)  # the update recorded itself, even on Debian
        # one apt-get call for the list: apt's history has both on the last command line
        last = lab.sh(host, "grep '^Commandline:' /var/log/apt/history.log | tail -1")
        assert " install tree=" in last and " less=" in last and "DPkg::Lock::Timeout" in last, last

    second = play(lab, tmp_path, "sys_packages")
    assert second["summary"]["changed"] == 0, second["stdout"]
    assert second["summary"]["failed"] == 0

    removed = play(lab, tmp_path, "sys_packages_absent")
    assert changed(removed) == {(h, "tree removed") for h in HOSTS}, removed["stdout"]
    for host in HOSTS:
        assert by_task(removed, host)["tree removed"]["diff"]["after"] == {"tree": "absent"}
        assert not installed(lab, host, "tree") and installed(lab, host, "less")
    assert play(lab, tmp_path, "sys_packages_absent")["summary"]["changed"] == 0

    back = play(lab, tmp_path, "sys_packages")
    assert changed(back) == {(h, "packages") for h in HOSTS}, back["stdout"]  # cache still valid

    # Drift: tree removed by hand on itest2. check reports it, installs nothing.
    lab.sh("itest2", "DEBIAN_FRONTEND=noninteractive apt-get remove -y -q tree")
    status = lab.sh("itest2", "md5sum /var/lib/dpkg/status")
    docker_diff = lab.diff("itest2")
    check = play(lab, tmp_path, "sys_packages", check=True, expect=2)
    # apt and the package front (which installs nothing either) both see it
    assert changed(check) == {("itest2", "packages"), ("itest2", "package front")}, check["stdout"]
    for task in ("packages", "package front"):
        diff = by_task(check, "itest2")[task]["diff"]
        assert diff["before"] == {"tree": "absent"} and diff["after"] == {"tree": "present"}
    assert "tree: 'absent' → 'present'" in check["stdout"]
    assert not installed(lab, "itest2", "tree")
    assert lab.sh("itest2", "md5sum /var/lib/dpkg/status") == status
    assert lab.diff("itest2") == docker_diff
