"""The chroot transport on a real Debian tree (the lab image's filesystem): a playbook
converges it, re-applies with 0 changed, and a wrong directory or interpreter is one clear
message."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import require
from tests.integration.bakehelp import copy_tree, export_image
from tests.integration.conftest import ITLab, output, run_fleet

PLAY = """\
- hosts: all
  become: true
  tasks:
    - name: config directory
      file: {path: /etc/fleet-chroot-test, state: directory, mode: "0750"}
    - name: config file
      copy: {dest: /etc/fleet-chroot-test/app.conf, content: "listen={{ port }}\\n", mode: "0640"}
    - name: a line
      lineinfile: {path: /etc/fleet-chroot-test/extra.conf, line: "workers=4", create: true, mode: "0644"}
    - name: service account
      user: {name: chrootsvc, system: true, create_home: false, shell: /usr/sbin/nologin}
    - name: facts say where we are
      assert: {that: ["ansible_facts.distribution_release == 'bookworm' or ansible_facts.os_family == 'Debian'"]}
"""


@pytest.fixture(scope="module")
def lab_tree(itlab: ITLab, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The lab image's root filesystem, exported once per module."""
    require(os.geteuid() == 0, "the chroot transport needs root (chroot(2))")
    from fleet.lab.image import image_tag

    root = tmp_path_factory.mktemp("lab-tree") / "rootfs"
    yield export_image(itlab.lab.client, image_tag(), root)


def _inventory(path: Path, root: Path, **extra: str) -> Path:
    host = {"ansible_connection": "chroot", "ansible_host": str(root), "port": "8080", **extra}
    path.write_text(json.dumps({"all": {"hosts": {"tree": host}}}))
    return path


def test_playbook_converges_a_tree_then_reapplies_clean(lab_tree: Path, tmp_path: Path) -> None:
    root = copy_tree(lab_tree, tmp_path / "rootfs")
    inventory = _inventory(tmp_path / "inv.json", root)
    (tmp_path / "play.yml").write_text(PLAY)
    first = run_fleet("apply", "-i", str(inventory), str(tmp_path / "play.yml"), "--json", str(tmp_path / "1.json"))
    assert first.returncode == 0, output(first)
    assert (root / "etc/fleet-chroot-test/app.conf").read_text() == "listen=8080\n"
    assert (root / "etc/fleet-chroot-test/extra.conf").read_text() == "workers=4\n"
    assert oct((root / "etc/fleet-chroot-test").stat().st_mode & 0o7777) == "0o750"
    assert any(line.startswith("chrootsvc:") for line in (root / "etc/passwd").read_text().splitlines())
    assert not Path("/etc/fleet-chroot-test").exists(), "the playbook wrote to the controller"

    second = run_fleet("apply", "-i", str(inventory), str(tmp_path / "play.yml"), "--json", str(tmp_path / "2.json"))
    assert second.returncode == 0, output(second)
    assert json.loads((tmp_path / "2.json").read_text())["summary"]["changed"] == 0
    check = run_fleet("check", "-i", str(inventory), str(tmp_path / "play.yml"))
    assert check.returncode == 0, output(check)


def test_wrong_directory_or_interpreter_is_one_clear_message(lab_tree: Path, tmp_path: Path) -> None:
    missing = run_fleet("run", "-i", str(_inventory(tmp_path / "a.json", tmp_path / "nowhere")), "all", "-m", "ping")
    assert missing.returncode == 1
    assert f"chroot {tmp_path / 'nowhere'}: does not exist" in output(missing)

    inventory = _inventory(tmp_path / "b.json", lab_tree, ansible_python_interpreter="/usr/bin/python9")
    nopython = run_fleet("run", "-i", str(inventory), "all", "-m", "ping")
    assert nopython.returncode == 1
    assert f"chroot {lab_tree}: no /usr/bin/python9 in the tree: install Python 3 there" in output(nopython)


def test_rootfs_bake_applies_in_place_and_packs_a_tar(lab_tree: Path, tmp_path: Path) -> None:
    import tarfile
    import time

    root = copy_tree(lab_tree, tmp_path / "rootfs")
    (tmp_path / "play.yml").write_text(PLAY)
    tar = tmp_path / "out" / "rootfs.tar.gz"
    started = time.monotonic()
    baked = run_fleet("bake", "--rootfs", str(root), "--tar", str(tar), "-e", "port=9090",
                      "--json", str(tmp_path / "1.json"), str(tmp_path / "play.yml"))
    seconds = time.monotonic() - started
    assert baked.returncode == 0, output(baked)
    assert baked.stdout.strip() == str(tar)
    assert (root / "etc/fleet-chroot-test/app.conf").read_text() == "listen=9090\n"
    recorded = dict(line.split("=", 1) for line in (root / "etc/fleet-bake").read_text().splitlines()
                    if "=" in line and not line.startswith("#"))
    assert recorded["fleet.bake.playbook"] == str(tmp_path / "play.yml")
    assert recorded["org.opencontainers.image.created"].endswith("Z")
    with tarfile.open(tar) as packed:
        member = packed.getmember("./etc/fleet-chroot-test/app.conf")
        assert (member.uid, oct(member.mode)) == (0, "0o640")
        handle = packed.extractfile(member)
        assert handle is not None and handle.read() == b"listen=9090\n"
        assert packed.getmember("./usr/bin/python3").issym()
    assert not list(tar.parent.glob(".partial-*"))

    again = run_fleet("bake", "--rootfs", str(root), "-e", "port=9090", "--json", str(tmp_path / "2.json"),
                      str(tmp_path / "play.yml"))
    assert again.returncode == 0, output(again)
    assert json.loads((tmp_path / "2.json").read_text())["summary"]["changed"] == 0
    print(f"\nrootfs bake + tar.gz of the lab tree: {seconds:.1f} s")


def test_failed_rootfs_bake_names_the_task_and_writes_no_tar(lab_tree: Path, tmp_path: Path) -> None:
    root = copy_tree(lab_tree, tmp_path / "rootfs")
    playbook = tmp_path / "fail.yml"
    playbook.write_text("- hosts: all\n  gather_facts: false\n  tasks:\n"
                        "    - name: this task fails on purpose\n      command: /bin/false\n")
    tar = tmp_path / "rootfs.tar"
    failed = run_fleet("bake", "--rootfs", str(root), "--tar", str(tar), str(playbook))
    assert failed.returncode == 1
    assert f"bake failed: task 'this task fails on purpose' ({playbook}:4) failed" in failed.stderr
    assert "no tar was written" in failed.stderr
    assert not tar.exists() and not (root / "etc/fleet-bake").exists()
