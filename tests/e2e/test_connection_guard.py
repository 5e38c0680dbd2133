"""The connection guard over real SSH: a change that locks the controller out is rolled back
(the next connection fails, the original agent restores the file), one that does not is kept."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from fleet.testing.sshd import LocalSSHD, find_sshd
from tests.conftest import fleet, require

SITE = Path(__file__).parent / "guard" / "site.yml"


@pytest.fixture
def own_sshd(tmp_path: Path) -> Iterator[LocalSSHD]:
    """An sshd of this test's own: the test rewrites its authorized_keys."""
    require(find_sshd() is not None, "sshd is not installed (apt-get install openssh-server)")
    server = LocalSSHD.start(tmp_path / "sshd")
    yield server
    server.stop()


def _inventory(sshd: LocalSSHD, path: Path, **variables: object) -> Path:
    data = {"all": {"hosts": {"h1": {**sshd.host_vars(), **variables}}}}
    path.write_text(yaml.safe_dump(data))
    return path


def test_a_change_that_locks_the_controller_out_is_rolled_back(own_sshd: LocalSSHD, tmp_path: Path) -> None:
    authorized = own_sshd.workdir / "authorized_keys"
    before = authorized.read_text()
    marker = tmp_path / "reached"
    inventory = _inventory(own_sshd, tmp_path / "inv.yml", access_path=str(authorized), access_content="",
                           marker_path=str(marker))
    run = fleet("apply", "-i", str(inventory), str(SITE), "--json", str(tmp_path / "r.json"))
    assert run.returncode == 1, run.stdout + run.stderr
    result = json.loads((tmp_path / "r.json").read_text())["hosts"]["h1"]["results"][0]
    assert result["status"] == "failed" and not result["changed"]
    assert "a fresh connection failed" in result["msg"] and "rolled back" in result["msg"], result["msg"]
    assert authorized.read_text() == before  # the controller can log in again
    assert not marker.exists()  # the host stopped at the failed task
    again = fleet("run", "-i", str(inventory), "all", "-m", "ping")
    assert again.returncode == 0, again.stdout + again.stderr


def test_a_change_that_keeps_access_is_confirmed_and_stays(own_sshd: LocalSSHD, tmp_path: Path) -> None:
    target = tmp_path / "harmless"
    marker = tmp_path / "reached"
    inventory = _inventory(own_sshd, tmp_path / "inv.yml", access_path=str(target), access_content="new\n",
                           marker_path=str(marker), fleet_connection_guard_timeout=2)
    run = fleet("apply", "-i", str(inventory), str(SITE), "--json", str(tmp_path / "r.json"))
    assert run.returncode == 0, run.stdout + run.stderr
    result = json.loads((tmp_path / "r.json").read_text())["hosts"]["h1"]["results"][0]
    assert result["status"] == "changed"
    assert marker.read_text() == "a fresh connection succeeded\n"  # registered by the guard
    time.sleep(3)  # past the watchdog's delay: a confirmed change is not reverted
    assert target.read_text() == "new\n"


def test_the_guard_can_be_turned_off_per_host(own_sshd: LocalSSHD, tmp_path: Path) -> None:
    target = tmp_path / "harmless"
    inventory = _inventory(own_sshd, tmp_path / "inv.yml", access_path=str(target), access_content="x\n",
                           marker_path=str(tmp_path / "reached"), fleet_connection_guard=False)
    run = fleet("apply", "-i", str(inventory), str(SITE), "--json", str(tmp_path / "r.json"))
    assert run.returncode == 0, run.stdout + run.stderr
    result = json.loads((tmp_path / "r.json").read_text())["hosts"]["h1"]["results"][0]
    assert result["status"] == "changed"
    assert (tmp_path / "reached").read_text() == "not checked\n"  # no fresh connection was made
