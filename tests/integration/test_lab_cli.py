"""``fleet lab up|status|down`` itself: a second, small lab beside the session's."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.integration.conftest import HOSTS, ITLab, output, run_fleet

NAME = "itcli"


@pytest.fixture
def cli_lab(itlab: ITLab, tmp_path: Path) -> Iterator[Path]:
    """A directory for the lab ``itcli``; whatever the test leaves up is removed afterwards."""
    yield tmp_path
    from fleet.lab.lab import Lab, LabSpec

    Lab(LabSpec(name=NAME), client=itlab.lab.client).down()


def _lab_containers(client: Any) -> dict[str, str]:
    """Every lab container: name -> the lab it belongs to."""
    return {c.name: c.labels.get("fleet.lab", "") for c in client.containers.list(all=True, filters={"label": "fleet.lab"})}


def _up(directory: Path, inventory: Path) -> tuple[float, str]:
    started = time.monotonic()
    result = run_fleet("lab", "up", "-n", "2", "--name", NAME, "--dir", str(directory / "state"),
                       "--inventory-out", str(inventory))
    elapsed = time.monotonic() - started
    assert result.returncode == 0, output(result)
    return elapsed, result.stdout


def test_lab_up_status_down(itlab: ITLab, cli_lab: Path) -> None:
    client = itlab.lab.client
    image_before = {image.id for image in client.images.list(filters={"label": "fleet.lab.image=1"})}
    inventory = cli_lab / "lab.yml"

    elapsed, stdout = _up(cli_lab, inventory)
    print(f"fleet lab up -n 2 took {elapsed:.1f} s (image reused)")
    assert stdout.strip().splitlines()[-1] == str(inventory)
    data = yaml.safe_load(inventory.read_text())
    hosts = data["all"]["children"][NAME]["hosts"]
    assert list(hosts) == [f"{NAME}1", f"{NAME}2"]

    # The inventory works as written.
    playbook = cli_lab / "p.yml"
    playbook.write_text("- hosts: all\n  tasks:\n"
                        "    - copy: {content: \"{{ ansible_hostname }} {{ ansible_default_ipv4.address }}\\n\", "
                        "dest: /srv/test-lab-cli}\n")
    applied = run_fleet("apply", "-i", str(inventory), str(playbook))
    assert applied.returncode == 0, output(applied)

    status = run_fleet("lab", "status", "--name", NAME)
    assert status.returncode == 0, output(status)
    rows = [line.split() for line in status.stdout.splitlines()]
    assert [(r[0], r[1], r[3]) for r in rows] == [(f"{NAME}1", f"fleet-{NAME}-1", "running"),
                                                  (f"{NAME}2", f"fleet-{NAME}-2", "running")]
    assert {r[2] for r in rows} == {values["ansible_host"] for values in hosts.values()}

    # Distinct hostnames, IPs and host keys; the facts the playbook wrote agree.
    seen = []
    for index, (name, values) in enumerate(hosts.items(), start=1):
        container = client.containers.get(f"fleet-{NAME}-{index}")
        code, out = container.exec_run(["cat", "/srv/test-lab-cli", "/etc/ssh/ssh_host_ed25519_key.pub"])
        assert code == 0, out
        facts, key = out.decode().splitlines()
        assert facts == f"{name} {values['ansible_host']}"
        seen.append((name, values["ansible_host"], key.split()[1]))
    for position in range(3):
        assert len({entry[position] for entry in seen}) == 2, seen

    # up again while running: nothing new, same inventory.
    again, _ = _up(cli_lab, inventory)
    print(f"fleet lab up on a running lab took {again:.1f} s")
    assert yaml.safe_load(inventory.read_text())["all"]["children"][NAME]["hosts"] == hosts

    # down removes exactly this lab: the session's lab and the image stay.
    before = _lab_containers(client)
    down = run_fleet("lab", "down", "--name", NAME)
    assert down.returncode == 0, output(down)
    assert "removed 2 lab hosts" in down.stdout
    after = _lab_containers(client)
    gone = {name: lab for name, lab in before.items() if name not in after}
    assert gone == {f"fleet-{NAME}-1": NAME, f"fleet-{NAME}-2": NAME}
    assert all(itlab.container(host).status == "running" for host in HOSTS)
    assert not client.networks.list(names=[f"fleet-{NAME}"])
    assert client.networks.list(names=[itlab.lab.spec.network])
    assert {image.id for image in client.images.list(filters={"label": "fleet.lab.image=1"})} >= image_before
    status = run_fleet("lab", "status", "--name", NAME)
    assert status.stdout.strip() == f"lab '{NAME}' has no hosts"

    # A second up after down reuses the image: no build, same image id.
    second, _ = _up(cli_lab, inventory)
    print(f"second fleet lab up (after down) took {second:.1f} s")
    ids = {client.containers.get(f"fleet-{NAME}-{i}").image.id for i in (1, 2)}
    assert ids <= image_before, "a new image was built"
