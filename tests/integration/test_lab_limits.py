"""``fleet lab up`` at its advertised maximum on this machine kind, and all or nothing: root's
inotify limit is checked (and raised, saying so) before anything starts; an interrupted or
refused ``up`` leaves no container, network or inventory behind; a container that has a lab
host's name but is not the lab's is never removed."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import REPO
from tests.integration.conftest import output, run_fleet

MAX_NAME = "i13firsthourmax"
NAME = "i13firsthourup"


def _advertised_maximum() -> int:
    from fleet.cli.lab import up

    (count,) = [p for p in up.params if p.name == "count"]
    return int(count.type.max)  # type: ignore[attr-defined]


def _lab_containers(client: Any, name: str) -> list[Any]:
    return client.containers.list(all=True, filters={"label": f"fleet.lab={name}"})


@pytest.fixture
def lab_named(lab_client: Any) -> Iterator[Any]:
    """Whatever the test leaves of its labs is removed afterwards."""
    from fleet.lab.lab import Lab, LabSpec

    yield lab_client
    for name in (MAX_NAME, NAME):
        Lab(LabSpec(name=name), client=lab_client).down()


def test_up_starts_the_advertised_maximum(lab_named: Any, tmp_path: Path) -> None:
    count = _advertised_maximum()
    inventory = tmp_path / "max.yml"
    started = time.monotonic()
    up = run_fleet("lab", "up", "-n", str(count), "--name", MAX_NAME, "--dir", str(tmp_path / "state"),
                   "--inventory-out", str(inventory), timeout=3600)
    print(f"fleet lab up -n {count} took {time.monotonic() - started:.0f} s")
    assert up.returncode == 0, output(up)
    assert "raised fs.inotify.max_user_instances" in up.stderr or "fs.inotify" not in up.stderr, up.stderr
    hosts = yaml.safe_load(inventory.read_text())["all"]["children"][MAX_NAME]["hosts"]
    assert len(hosts) == count
    running = [c for c in _lab_containers(lab_named, MAX_NAME) if c.status == "running"]
    assert len(running) == count
    ping = run_fleet("run", "-i", str(inventory), "all", "-m", "ping", "-f", str(count), "--json",
                     str(tmp_path / "ping.json"), timeout=1800)
    assert ping.returncode == 0, output(ping)
    assert f"0 unreachable, {count} hosts" in ping.stdout, ping.stdout


def _as_in_a_terminal() -> None:
    # CI runs the suite as a script's background job, where SIGINT is ignored and the child would
    # inherit that (POSIX: ignored signals stay ignored across exec); an operator's Ctrl-C is not.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _up_in_background(tmp_path: Path, count: int) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "fleet", "lab", "up", "-n", str(count), "--name", NAME,
                             "--dir", str(tmp_path / "state"), "--inventory-out", str(tmp_path / "inv.yml")],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=_as_in_a_terminal)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_an_interrupted_up_removes_what_it_started(lab_named: Any, tmp_path: Path, signum: int) -> None:
    process = _up_in_background(tmp_path, 8)
    deadline = time.monotonic() + 300
    while len(_lab_containers(lab_named, NAME)) < 2 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert process.poll() is None, "fleet lab up finished before it could be interrupted"
    process.send_signal(signum)
    _, err = process.communicate(timeout=300)
    assert process.returncode == 130, err
    assert "interrupted" in err
    assert _lab_containers(lab_named, NAME) == []
    assert not lab_named.networks.list(names=[f"fleet-{NAME}"])
    assert not (tmp_path / "inv.yml").exists()
    assert not (tmp_path / "state" / "id_ed25519").exists()


def test_a_container_with_a_hosts_name_is_never_removed(lab_named: Any, tmp_path: Path) -> None:
    from fleet.lab.image import image_tag

    blocker = lab_named.containers.create(image_tag(), ["/bin/true"], name=f"fleet-{NAME}-3",
                                          labels={"test": "not a lab host"})
    try:
        up = run_fleet("lab", "up", "-n", "4", "--name", NAME, "--dir", str(tmp_path / "state"),
                       "--inventory-out", str(tmp_path / "inv.yml"))
        assert up.returncode == 1, output(up)
        assert (f"a container named fleet-{NAME}-3 exists and is not a host of lab '{NAME}'"
                in up.stderr), up.stderr
        blocker.reload()  # still there, untouched
        assert blocker.labels["test"] == "not a lab host" and "fleet.lab" not in blocker.labels
        assert _lab_containers(lab_named, NAME) == []
        assert not lab_named.networks.list(names=[f"fleet-{NAME}"])
        assert not (tmp_path / "inv.yml").exists()
    finally:
        blocker.remove(force=True)


def test_a_refused_up_says_why_and_removes_what_it_made(lab_named: Any, tmp_path: Path) -> None:
    up = run_fleet("lab", "up", "-n", "2", "--name", NAME, "--dir", str(tmp_path / "state"), "--cap-add", "NET_ADMN",
                   "--inventory-out", str(tmp_path / "inv.yml"))
    assert up.returncode == 1, output(up)
    assert up.stderr.strip() == (f"ERROR: docker refused to start lab '{NAME}': invalid CapAdd: unknown capability: "
                                 f"\"CAP_NET_ADMN\"; removed what this run had started (the network, the key)")
    assert _lab_containers(lab_named, NAME) == []
    assert not lab_named.networks.list(names=[f"fleet-{NAME}"])
    assert not (tmp_path / "inv.yml").exists() and not (tmp_path / "state" / "id_ed25519").exists()
