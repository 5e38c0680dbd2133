"""fleet bake, image -> image, on the lab base image: site.yml baked with labels, the image
boots and passes the roles' testinfra tests, a re-bake from it changes nothing, a failed
bake leaves nothing behind, and images without systemd are baked with a keep-alive shell."""

from __future__ import annotations

import datetime
import hashlib
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO
from tests.integration.bakehelp import bake_containers, boot, remove_images
from tests.integration.conftest import ITLab, output, run_fleet

SITE = REPO / "site.yml"

FAILING = """\
- hosts: all
  gather_facts: false
  tasks:
    - name: a file first
      copy: {dest: /etc/bake-fail-test, content: "x\\n"}
    - name: this task fails on purpose
      command: /bin/false
"""


@pytest.fixture
def client(itlab: ITLab) -> Any:
    return itlab.lab.client


@pytest.fixture
def base() -> str:
    from fleet.lab.image import image_tag

    return image_tag()


@pytest.fixture
def tags(client: Any) -> Iterator[list[str]]:
    """Image tags a test bakes; removed afterwards, with any container the test booted."""
    made: list[str] = []
    yield made
    for container in client.containers.list(all=True, filters={"label": "fleet.itest.bake"}):
        container.remove(force=True)
    remove_images(client, *made)


def _tag(tags: list[str], what: str) -> str:
    tags.append(f"fleet-itest-bake:{what}-{uuid.uuid4().hex[:8]}")
    return tags[-1]


def _bake(*args: str, timeout: float = 600) -> tuple[Any, float]:
    started = time.monotonic()
    result = run_fleet("bake", *args, timeout=timeout)
    return result, time.monotonic() - started


def _changed(report_path: Path) -> list[str]:
    report = json.loads(report_path.read_text())
    return [r["task"] for host in report["hosts"].values() for r in host["results"] if r["changed"]]


def test_site_bake_labels_boots_verifies_and_rebakes_clean(client: Any, base: str, tags: list[str],
                                                           tmp_path: Path) -> None:
    first_tag = _tag(tags, "site")
    first, first_s = _bake("--from", base, "--tag", first_tag, "--json", str(tmp_path / "1.json"), str(SITE))
    assert first.returncode == 0, output(first)
    image = client.images.get(first_tag)
    assert first.stdout.strip() == image.id  # stdout is the image ID alone
    assert bake_containers(client) == []

    labels = image.labels
    assert labels["fleet.bake.roles"] == "base,network,security"
    assert labels["fleet.bake.playbook"] == str(SITE)
    assert labels["fleet.bake.playbook.sha256"] == hashlib.sha256(SITE.read_bytes()).hexdigest()
    assert labels["fleet.version"]
    assert labels["fleet.bake.from"] == base and labels["org.opencontainers.image.base.name"] == base
    created = datetime.datetime.fromisoformat(labels["org.opencontainers.image.created"].replace("Z", "+00:00"))
    assert created.tzinfo is not None and labels["org.opencontainers.image.created"].endswith("Z")
    assert image.attrs["Config"]["Cmd"] == ["/sbin/init"]

    # no instance state in the image: host keys are made by each instance at its first boot
    archive = client.containers.create(first_tag, ["/bin/true"], labels={"fleet.itest.bake": "1"})
    keys = {m for m in _names(archive, "/etc/ssh") if m.startswith("ssh_host_")}
    assert keys == set(), keys

    # the image boots like a lab host and passes the roles' own tests
    name = f"fleet-itest-bakeboot-{uuid.uuid4().hex[:6]}"
    container = boot(client, first_tag, name)
    container.reload()
    assert container.exec_run(["test", "-s", "/etc/ssh/ssh_host_ed25519_key"])[0] == 0, "no host key made at boot"
    inventory = tmp_path / "booted.yml"
    inventory.write_text(json.dumps({"all": {"hosts": {name: {"ansible_connection": "docker"}}}}))
    try:
        verify = run_fleet("verify", "-i", str(inventory), str(SITE), timeout=300)
        assert verify.returncode == 0, output(verify)
        for role in ("base", "network", "security"):
            assert f"PASS role {role}" in verify.stdout, verify.stdout
    finally:
        container.remove(force=True)

    # the same inputs again, from the baked image: nothing left to change
    second_tag = _tag(tags, "again")
    second, second_s = _bake("--from", first_tag, "--tag", second_tag, "--json", str(tmp_path / "2.json"), str(SITE))
    assert second.returncode == 0, output(second)
    assert _changed(tmp_path / "2.json") == []
    print(f"\nbake site.yml from {base}: {first_s:.1f} s; re-bake from the baked image: {second_s:.1f} s "
          f"({_summary(first)}; {_summary(second)})")


def _names(container: Any, directory: str) -> set[str]:
    import io
    import tarfile

    stream, _ = container.get_archive(directory)
    with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as tar:
        return {m.name.split("/")[1] for m in tar.getmembers() if m.name.count("/") == 1}


def _summary(result: Any) -> str:
    return next((line for line in result.stderr.splitlines() if line.startswith("baked ")), "?")


def test_failed_bake_leaves_no_image_and_no_container(client: Any, base: str, tags: list[str],
                                                      tmp_path: Path) -> None:
    playbook = tmp_path / "fail.yml"
    playbook.write_text(FAILING)
    tag = _tag(tags, "fail")
    images_before = {i.id for i in client.images.list(all=True)}
    failed, _ = _bake("--from", base, "--tag", tag, str(playbook))
    assert failed.returncode == 1, output(failed)
    assert f"bake failed: task 'this task fails on purpose' ({playbook}:6) failed" in failed.stderr
    assert "no image was made; the bake container was removed" in failed.stderr
    assert failed.stdout == ""
    assert not client.images.list(name=tag.split(":")[0], filters={"reference": tag})
    assert {i.id for i in client.images.list(all=True)} == images_before
    assert bake_containers(client) == []

    kept, _ = _bake("--from", base, "--tag", tag, "--keep-on-failure", str(playbook))
    assert kept.returncode == 1
    left = bake_containers(client)
    try:
        assert len(left) == 1 and f"docker rm -f {left[0]}" in kept.stderr, output(kept)
        assert client.containers.get(left[0]).exec_run(["cat", "/etc/bake-fail-test"])[1] == b"x\n"
    finally:
        for name in left:
            client.containers.get(name).remove(force=True)
    assert {i.id for i in client.images.list(all=True)} == images_before


def test_failed_verify_of_a_role_bake_leaves_nothing(client: Any, base: str, tags: list[str],
                                                     tmp_path: Path) -> None:
    role = tmp_path / "roles" / "strict"
    (role / "tasks").mkdir(parents=True)
    (role / "tests").mkdir()
    (role / "tasks" / "main.yml").write_text('- name: marker\n  copy: {dest: /etc/strict, content: "1\\n"}\n')
    (role / "tests" / "test_strict.py").write_text(
        "def test_marker_says_two(host):\n    assert host.file('/etc/strict').content_string == '2\\n'\n")
    tag = _tag(tags, "verify")
    failed, _ = _bake("--from", base, "--tag", tag, "--role", "strict", "--roles-path", str(tmp_path / "roles"),
                      "--verify")
    assert failed.returncode == 1, output(failed)
    assert "verify failed: role strict: " in failed.stderr and "test_marker_says_two" in failed.stderr
    assert not client.images.list(filters={"reference": tag})
    assert bake_containers(client) == []


def test_keepalive_bake_keeps_the_image_command(client: Any, base: str, tags: list[str], tmp_path: Path) -> None:
    playbook = tmp_path / "small.yml"
    playbook.write_text('- hosts: all\n  gather_facts: false\n  tasks:\n'
                        '    - copy: {dest: /etc/bake-marker, content: "baked\\n", mode: "0644"}\n')
    tag = _tag(tags, "keepalive")
    result, seconds = _bake("--keepalive", "--from", base, "--tag", tag, str(playbook))
    assert result.returncode == 0, output(result)
    config = client.images.get(tag).attrs["Config"]
    assert config["Cmd"] == ["/sbin/init"] and not config.get("Entrypoint")
    marker = client.containers.run(tag, ["cat", "/etc/bake-marker"], entrypoint=[], remove=True,
                                   labels={"fleet.itest.bake": "1"})
    assert marker == b"baked\n"
    print(f"\nkeep-alive bake of one task: {seconds:.1f} s")


def test_docker_engine_errors_are_one_message_and_clean_up(client: Any, base: str, tags: list[str],
                                                           tmp_path: Path) -> None:
    playbook = tmp_path / "small.yml"
    playbook.write_text("- hosts: all\n  gather_facts: false\n  tasks:\n    - ping:\n")
    result = run_fleet("bake", "--network", "fleet-itest-no-such-net", "--from", base, "--tag",
                       _tag(tags, "net"), str(playbook))
    assert result.returncode == 1
    assert "ERROR: docker: " in result.stderr and "network fleet-itest-no-such-net not found" in result.stderr
    assert bake_containers(client) == []
    missing = run_fleet("bake", "--from", "fleet-itest-no-such-image:1", "--tag", _tag(tags, "x"), str(playbook))
    assert missing.returncode == 1
    assert "--from fleet-itest-no-such-image:1: no such image here (fleet bake never pulls" in missing.stderr
