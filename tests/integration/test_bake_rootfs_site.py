"""``fleet bake --rootfs`` of the top-level site.yml: a debootstrap-style tree converges in a
chroot (no systemd running, no /proc, no host keys, no name resolution), a second bake changes
nothing, and the packed tar, imported into docker, boots like a lab host and passes the roles'
testinfra tests.

The tree is the lab image's filesystem with the packages site.yml installs already in it: the
chroot has no DNS (the exported resolv.conf is empty) and is not given any, so apt must find
every package installed and its cache fresh, and report ok. The packages come from a container
bake of the lab image (docker's network) that runs only the roles' package tasks, with the
roles' own variables.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, require
from tests.integration.bakehelp import boot, export_image, remove_images
from tests.integration.conftest import ITLab, output, run_fleet

SITE = REPO / "site.yml"

# The roles' package tasks, with the roles' variables: what the tree must already have.
# auditd too: in a chroot ansible_virtualization_type is NA, so the security role wants it.
PACKAGES = f"""\
- hosts: all
  gather_facts: false
  vars_files:
    - {REPO}/roles/base/defaults/main.yml
    - {REPO}/roles/base/vars/main.yml
    - {REPO}/roles/security/defaults/main.yml
  tasks:
    - name: the base role's packages
      apt:
        name: "{{{{ base_packages + base_packages_extra + base_time_sync_packages[base_time_sync]
                  + (['unattended-upgrades'] if base_unattended_upgrades else []) }}}}"
        update_cache: true
        install_recommends: false
    - name: the security role's packages
      apt:
        name: "{{{{ [security_firewall_package] + (['auditd'] if security_auditd else []) }}}}"
"""

NOT_MOUNTED = "key kernel.kptr_restrict: persisted, not applied at runtime: /proc/sys is not mounted here (a chroot?)"
NOT_STARTED = "active: not started: systemd is not running here (a chroot or an image build?)"


def _build_machine() -> tuple[str, str]:
    """What a chroot bake must never change on the build machine: its host name and the
    tables of its loaded firewall ruleset (site.yml's ruleset starts with 'flush ruleset')."""
    tables = subprocess.run(["nft", "list", "tables"], capture_output=True, text=True).stdout \
        if shutil.which("nft") else ""
    return socket.gethostname(), tables


def _results(report: Path) -> list[dict[str, Any]]:
    data = json.loads(report.read_text())
    return [r for host in data["hosts"].values() for r in host["results"]]


def _warnings(report: Path) -> set[str]:
    return {w for r in _results(report) for w in r.get("warnings") or []}


@pytest.fixture
def client(itlab: ITLab) -> Any:
    require(os.geteuid() == 0, "a rootfs bake needs root (chroot(2))")
    return itlab.lab.client


@pytest.fixture
def made(client: Any) -> Iterator[dict[str, list[Any]]]:
    """Images, containers and trees a test makes; all removed afterwards, failed or not."""
    things: dict[str, list[Any]] = {"images": [], "containers": [], "trees": []}
    yield things
    import docker.errors

    for name in things["containers"]:
        with contextlib.suppress(docker.errors.NotFound):
            client.containers.get(name).remove(force=True)
    remove_images(client, *things["images"])
    for tree in things["trees"]:
        shutil.rmtree(tree, ignore_errors=True)


def test_site_rootfs_bake_converges_rebakes_clean_boots_and_verifies(client: Any, made: dict[str, list[Any]],
                                                                   tmp_path: Path) -> None:
    from fleet.lab.image import image_tag

    suffix = uuid.uuid4().hex[:8]
    packages_tag, baked_tag = f"fleet-itest-rootfs:packages-{suffix}", f"fleet-itest-rootfs:baked-{suffix}"
    made["images"] += [packages_tag, baked_tag]
    made["trees"] += [tmp_path / "rootfs", tmp_path / "out"]

    # -- the tree: the lab image's filesystem with the roles' packages ------------------------
    (tmp_path / "packages.yml").write_text(PACKAGES)
    packages = run_fleet("bake", "--from", image_tag(), "--tag", packages_tag, str(tmp_path / "packages.yml"),
                         timeout=600)
    assert packages.returncode == 0, output(packages)
    tree = export_image(client, packages_tag, tmp_path / "rootfs")
    assert (tree / "etc/resolv.conf").read_text().strip() == "", "the tree should have no name resolution"
    assert not list((tree / "etc/ssh").glob("ssh_host_*")), "the tree should have no host keys yet"

    # -- first bake: converges, honest about what a chroot cannot do ---------------------------
    tar = tmp_path / "out" / "rootfs.tar"
    build_machine = _build_machine()
    started = time.monotonic()
    first = run_fleet("bake", "--rootfs", str(tree), "--tar", str(tar), "--json", str(tmp_path / "1.json"),
                      str(SITE), timeout=600)
    bake_s = time.monotonic() - started
    assert _build_machine() == build_machine, "the chroot bake changed the build machine"
    assert first.returncode == 0, output(first)
    assert first.stdout.strip() == str(tar) and tar.is_file()
    results = _results(tmp_path / "1.json")
    apt = [r for r in results if r["module"] == "apt"]
    assert apt and all(r["status"] == "ok" for r in apt), apt  # installed, cache fresh: no network needed
    assert {NOT_MOUNTED, NOT_STARTED} <= _warnings(tmp_path / "1.json")
    hardening = (tree / "etc/ssh/sshd_config.d/50-fleet-hardening.conf").read_text()
    assert "PasswordAuthentication no" in hardening.splitlines()
    assert "kernel.kptr_restrict=2" in (tree / "etc/sysctl.d/99-zz-fleet-security.conf").read_text().splitlines()
    assert (tree / "etc/systemd/system/sysinit.target.wants/nftables.service").is_symlink()
    # the sshd check left nothing behind: no host key, no privilege separation directory
    assert not list((tree / "etc/ssh").glob("ssh_host_*")) and not (tree / "run/sshd").exists()
    assert "fleet.bake.roles=base,network,security" in (tree / "etc/fleet-bake").read_text().splitlines()

    # -- second bake of the same tree: nothing left to change, the same warnings ------------
    started = time.monotonic()
    again = run_fleet("bake", "--rootfs", str(tree), "--json", str(tmp_path / "2.json"), str(SITE), timeout=600)
    rebake_s = time.monotonic() - started
    assert again.returncode == 0, output(again)
    assert _build_machine() == build_machine, "the chroot bake changed the build machine"
    assert [r["task"] for r in _results(tmp_path / "2.json") if r["changed"]] == []
    assert {NOT_MOUNTED, NOT_STARTED} <= _warnings(tmp_path / "2.json")

    # -- the tar as an image, booted as the lab boots its hosts, checked by the roles' tests -
    imported = subprocess.run(["docker", "import", "--change", 'CMD ["/sbin/init"]', str(tar), baked_tag],
                              capture_output=True, text=True)
    assert imported.returncode == 0, imported.stderr
    shutil.rmtree(tmp_path / "rootfs")
    shutil.rmtree(tmp_path / "out")
    name = f"fleet-itest-rootfsboot-{suffix}"
    made["containers"].append(name)
    container = boot(client, baked_tag, name)
    assert container.exec_run(["test", "-s", "/etc/ssh/ssh_host_ed25519_key"])[0] == 0, "no host key made at boot"
    inventory = tmp_path / "booted.json"
    inventory.write_text(json.dumps({"all": {"hosts": {name: {"ansible_connection": "docker"}}}}))
    started = time.monotonic()
    verify = run_fleet("verify", "-i", str(inventory), str(SITE), timeout=300)
    verify_s = time.monotonic() - started
    assert verify.returncode == 0, output(verify)
    for role in ("base", "network", "security"):
        assert f"PASS role {role}" in verify.stdout, verify.stdout
    print(f"\nrootfs bake of site.yml (+ tar): {bake_s:.1f} s; re-bake: {rebake_s:.1f} s (0 changed); "
          f"verify of the booted image: {verify_s:.1f} s")
