"""``fleet lab up`` starts a host whose container stopped while booting once more, printing why;
a host that stops again fails the command with the cause. A small lab of its own (one host,
named by $FLEET_TEST_RETRY_LAB, default ``itretry``) whose container is killed as it starts."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fleet.errors import FleetError
from tests.conftest import fleet, require
from tests.integration.conftest import _start_engine

NAME = os.environ.get("FLEET_TEST_RETRY_LAB", "itretry")


@pytest.fixture
def said() -> list[str]:
    """What the lab printed."""
    return []


@pytest.fixture
def retry_lab(tmp_path: Path, said: list[str]) -> Iterator[Any]:
    """A one-host lab (not started), removed afterwards."""
    problem = _start_engine()
    require(problem is None, f"the container lab needs Docker: {problem}")
    from fleet.lab.lab import Lab, LabSpec

    lab = Lab(LabSpec(name=NAME, hosts=1, directory=tmp_path / "lab"), say=said.append)
    lab.down()
    yield lab
    lab.down()


def _kill_on_start(lab: Any, times: int) -> threading.Thread:
    """Kill the lab's container the first ``times`` times it starts (long before its sshd is
    up: systemd takes seconds to get there, the engine's event comes at once)."""
    events = lab.client.events(decode=True, filters={"type": "container", "event": "start",
                                                     "container": lab.spec.container(1)})

    def watch() -> None:
        for killed, event in enumerate(events, start=1):
            lab.client.containers.get(event["id"]).kill()
            if killed == times:
                break
        events.close()

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def test_a_host_that_stopped_while_booting_is_started_once_more(retry_lab: Any, said: list[str],
                                                                tmp_path: Path) -> None:
    watcher = _kill_on_start(retry_lab, times=1)
    inventory = retry_lab.up(inventory_out=tmp_path / "inventory.yml")
    watcher.join(timeout=60)
    printed = "\n".join(said)
    assert f"lab host {retry_lab.spec.container(1)} stopped while booting (exit code 137" in printed, printed
    assert f"starting {retry_lab.spec.container(1)} once more" in printed, printed
    ping = fleet("run", "-i", str(inventory), "all", "-m", "ping", timeout=180)
    assert ping.returncode == 0, ping.stdout + ping.stderr  # the second boot is a working host


def test_a_host_that_stops_twice_fails_with_the_cause(retry_lab: Any, said: list[str], tmp_path: Path) -> None:
    watcher = _kill_on_start(retry_lab, times=2)
    with pytest.raises(FleetError, match=r"stopped while booting \(exit code 137") as caught:
        retry_lab.up(inventory_out=tmp_path / "inventory.yml")
    watcher.join(timeout=60)
    assert retry_lab.spec.container(1) in str(caught.value)
    assert len([line for line in said if "once more" in line]) == 1  # once, not forever
    assert not (tmp_path / "inventory.yml").exists()
