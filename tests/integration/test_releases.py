"""The built-in roles on every Debian release the lab knows: one host per release (bullseye,
bookworm, trixie; labs ``rel<release>``), site.yml applied twice (the second apply changes
nothing; ``fleet check`` then finds nothing to do), ``fleet verify`` passes every role's
testinfra tests, each host runs its release's Python, and ``fleet lab status`` names the
release. Images are built here when missing (root)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import REPO, require
from tests.integration.conftest import output, report, run_fleet

SITE = REPO / "site.yml"
ROLES = ("base", "network", "security")


@dataclass
class ReleaseLabs:
    """One single-host lab per release and an inventory with all three hosts."""

    labs: dict[str, Any]  # release -> fleet.lab.lab.Lab
    inventory: Path

    def host(self, name: str) -> str:
        return f"rel{name}1"

    def sh(self, name: str, command: str) -> str:
        container = self.labs[name].client.containers.get(f"fleet-rel{name}-1")
        code, out = container.exec_run(["sh", "-c", command])
        assert code == 0, f"{name}: {command!r} exited {code}: {out.decode(errors='replace')}"
        return str(out.decode(errors="replace"))


@pytest.fixture(scope="module")
def release_labs(lab_client: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReleaseLabs]:
    from fleet.lab.image import find_image
    from fleet.lab.lab import Lab, LabSpec
    from fleet.lab.releases import RELEASES

    missing = [name for name in RELEASES if find_image(lab_client, name) is None]
    require(not missing or os.geteuid() == 0, f"lab images of {', '.join(missing)} are not built and building "
                                              f"them needs root (fleet lab setup --release NAME)")
    directory = tmp_path_factory.mktemp("release-labs")
    labs = {name: Lab(LabSpec(name=f"rel{name}", hosts=1, directory=directory / name, release=name),
                      client=lab_client, say=print) for name in RELEASES}
    merged: dict[str, Any] = {"all": {"children": {}}}
    try:
        for name, lab in labs.items():
            lab.down()  # leftovers of an interrupted run
            started = time.monotonic()
            inventory = lab.up(inventory_out=directory / name / "inventory.yml")
            print(f"fleet lab up --release {name}: {time.monotonic() - started:.0f} s")
            merged["all"]["children"].update(yaml.safe_load(inventory.read_text())["all"]["children"])
        path = directory / "inventory.yml"
        path.write_text(yaml.safe_dump(merged, sort_keys=False))
        yield ReleaseLabs(labs, path)
    finally:
        for lab in labs.values():
            lab.down()


def _apply(labs: ReleaseLabs, path: Path) -> dict[str, Any]:
    started = time.monotonic()
    run = run_fleet("apply", "-i", str(labs.inventory), str(SITE), "--json", str(path), timeout=900)
    print(f"site.yml on bullseye, bookworm and trixie: {path.stem} took {time.monotonic() - started:.0f} s")
    assert run.returncode == 0, output(run)
    return report(path)


def test_site_converges_reapplies_clean_and_verifies_on_every_release(release_labs: ReleaseLabs,
                                                                       tmp_path: Path) -> None:
    from fleet.lab.releases import RELEASES

    for name, spec in RELEASES.items():
        assert release_labs.sh(name, "python3 --version").split()[1].rsplit(".", 1)[0] == spec.python
        assert f"VERSION_CODENAME={name}" in release_labs.sh(name, "cat /etc/os-release")
        status = run_fleet("lab", "status", "--name", f"rel{name}")
        assert status.returncode == 0 and status.stdout.split()[-1] == name, output(status)
    # trixie keeps apt's sources in the deb822 format a trixie install writes
    assert release_labs.sh("trixie", "ls /etc/apt/sources.list.d/ /etc/apt/").split().count("sources.list") == 0
    assert "Suites: trixie" in release_labs.sh("trixie", "cat /etc/apt/sources.list.d/debian.sources")

    first = _apply(release_labs, tmp_path / "first.json")
    assert first["summary"]["failed"] == 0 and first["summary"]["unreachable"] == 0
    assert sorted(first["hosts"]) == sorted(release_labs.host(name) for name in RELEASES)
    second = _apply(release_labs, tmp_path / "second.json")
    assert second["summary"]["changed"] == 0, [
        (h, r["task"]) for h, d in second["hosts"].items() for r in d["results"] if r["changed"]]

    check = run_fleet("check", "-i", str(release_labs.inventory), str(SITE), timeout=600)
    assert check.returncode == 0, output(check)

    for name in RELEASES:
        effective = release_labs.sh(name, "sshd -T -C user=root,host=x,addr=127.0.0.1")
        assert "passwordauthentication no" in effective
        assert "curve25519-sha256" in effective.split("kexalgorithms ", 1)[1].split("\n", 1)[0]

    started = time.monotonic()
    verify = run_fleet("verify", "-i", str(release_labs.inventory), str(SITE), timeout=600)
    print(f"fleet verify on the three releases took {time.monotonic() - started:.0f} s")
    assert verify.returncode == 0, output(verify)
    for role in ROLES:
        assert f"PASS role {role}" in verify.stdout, verify.stdout
