"""The connection guard with a real firewall (issue 5, "never lock the operator out").

A one-host lab started with CAP_NET_ADMIN (the firewall is the container's own network
namespace, never the machine's) gets a permissive nftables ruleset plus a rule added by hand
(so "restored" means the ruleset that ran, not the file's), then:

* a ruleset that drops new SSH connections (established ones still pass, as an operator's
  mistake would look): the fresh connection fails, the agent that applied it rolls it back at
  once, the task fails and says so, the next task never runs, SSH and fleet work again;
* a ruleset that drops every inbound packet, the agent's own channel with it: the host's
  watchdog reverts it by itself after ``fleet_connection_guard_timeout``;
* a default-drop ruleset that allows SSH: confirmed and kept (the watchdog ends without
  reverting, long before its delay);
* the lockout with ``fleet_connection_guard: false``: it stays and SSH is cut (recovered
  through ``docker exec``), which is what the guard saves the host from.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import require
from tests.integration.conftest import ITLab, output, report, run_fleet
from tests.integration.nft import net_admin_lab

PLAYBOOKS = Path(__file__).parent / "playbooks"
LAB = "itfw"
HOST = "itfw1"
RULESET_FILE = "/etc/nftables.conf"
AFTER = "/root/after-firewall"  # written by the task after the ruleset
LOCKOUT = ("-e", "fw_policy=drop", "-e", "fw_ssh=false")
FAILED = f"applied on {HOST}, but a fresh connection failed: "
ROLLED_BACK = ": rolled back to the previous configuration"


@dataclass
class FirewallLab:
    container: Any
    directory: Path
    inventory: Path  # as `fleet lab up` writes it

    def sh(self, command: str, check: bool = True) -> str:
        code, out = self.container.exec_run(["sh", "-c", command])
        text = out.decode("utf-8", errors="replace")
        if check and code != 0:
            raise AssertionError(f"{HOST}: {command!r} exited {code}: {text}")
        return text

    def ruleset(self) -> str:
        return self.sh("nft list ruleset")

    def session_processes(self) -> list[str]:
        """Processes on the host that SSH sessions started (SSH_CONNECTION in their environment):
        once fleet is done, only guard watchdogs, which outlive their session."""
        return self.sh("for p in /proc/[0-9]*; do grep -qsz '^SSH_CONNECTION=' $p/environ "
                       "&& echo ${p#/proc/}; done; true").split()

    def file(self) -> str:
        """The ruleset file: mode, owner and content."""
        return self.sh(f"stat -c '%a %U %G' {RULESET_FILE} && cat {RULESET_FILE}")

    def inventory_with(self, path: Path, **variables: Any) -> Path:
        data = yaml.safe_load(self.inventory.read_text())
        data["all"]["children"][LAB]["hosts"][HOST].update(variables)
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        return path

    def ssh(self, timeout: int = 10) -> subprocess.CompletedProcess[str]:
        """A brand-new OpenSSH client connection (not fleet's)."""
        group = yaml.safe_load(self.inventory.read_text())["all"]["children"][LAB]
        return subprocess.run(
            ["ssh", "-i", group["vars"]["ansible_ssh_private_key_file"],
             *group["vars"]["ansible_ssh_common_args"].split(), "-o", "BatchMode=yes",
             "-o", f"ConnectTimeout={timeout}", f"root@{group['hosts'][HOST]['ansible_host']}", "echo", "connected"],
            capture_output=True, text=True, timeout=timeout + 20)


# -- the lab: one host with CAP_NET_ADMIN and nft (as test_sys_network.py's netlab) ------------

@pytest.fixture(scope="module")
def fwlab(itlab: ITLab, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FirewallLab]:
    """``itlab`` only for the integration lock (one session at a time on this machine)."""
    require(shutil.which("ssh") is not None, "the OpenSSH client is not installed (apt-get install openssh-client)")
    directory = tmp_path_factory.mktemp("itfw-lab")
    with net_admin_lab(LAB, directory) as (container, inventory):
        yield FirewallLab(container, directory, inventory)


@dataclass
class Baseline:
    ruleset: str
    file: str


@pytest.fixture
def baseline(fwlab: FirewallLab, tmp_path: Path) -> Iterator[Baseline]:
    """The permissive ruleset converged through fleet; put back through docker whatever a test did."""
    fwlab.sh(f"rm -f {AFTER} /root/harmless")
    first = apply(fwlab.inventory, tmp_path, "firewall_lockout")
    assert first["summary"]["failed"] == 0
    # a rule added at run time, not in the file: a rollback restores the ruleset that ran, not the file's
    fwlab.sh("nft add rule inet filter input tcp dport 8022 accept comment '\"by hand\"'")
    saved = Baseline(fwlab.ruleset(), fwlab.file())
    assert "policy accept;" in saved.ruleset and "tcp dport 22 accept" in saved.ruleset
    assert "tcp dport 8022" in saved.ruleset and "8022" not in saved.file
    fwlab.sh(f"rm -f {AFTER}")
    yield saved
    fwlab.sh("nft flush ruleset")  # whatever a failed test left, SSH passes again
    again = apply(fwlab.inventory, tmp_path, "firewall_lockout")  # over SSH: proves it is reachable
    assert again["summary"]["failed"] == 0


def apply(inventory: Path, tmp_path: Path, playbook: str, *extra: str, expect: int = 0) -> dict[str, Any]:
    path = tmp_path / f"{playbook}-{len(list(tmp_path.glob(playbook + '-*')))}.json"
    result = run_fleet("apply", "-i", str(inventory), str(PLAYBOOKS / f"{playbook}.yml"), *extra,
                       "--json", str(path))
    assert result.returncode == expect, output(result)
    return report(path)


def results(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["task"]: r for r in data["hosts"][HOST]["results"]}


def wait_for(condition: Any, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.5)
    return True


def assert_restored(fwlab: FirewallLab, saved: Baseline) -> None:
    assert fwlab.ruleset() == saved.ruleset
    assert fwlab.file() == saved.file
    assert fwlab.sh("ls /run /dev/shm /tmp | grep -c '^fleet-guard-' || true").strip() == "0"
    assert not fwlab.sh(f"ls {AFTER} 2>/dev/null || true").strip()  # the host stopped at the failed task
    ssh = fwlab.ssh()
    assert ssh.returncode == 0 and ssh.stdout.strip() == "connected", ssh.stderr


def assert_still_managed(fwlab: FirewallLab, tmp_path: Path) -> None:
    harmless = apply(fwlab.inventory, tmp_path, "firewall_harmless")
    assert harmless["summary"]["failed"] == 0 and results(harmless)["a file"]["changed"]
    assert fwlab.sh("cat /root/harmless") == "still managed\n"


# -- the tests ------------------------------------------------------------------------------------


def test_a_ruleset_that_drops_new_ssh_connections_is_rolled_back(fwlab: FirewallLab, baseline: Baseline,
                                                                 tmp_path: Path) -> None:
    started = time.monotonic()
    data = apply(fwlab.inventory, tmp_path, "firewall_lockout", *LOCKOUT, expect=1)
    took = time.monotonic() - started
    tasks = results(data)
    task = tasks["ruleset"]
    assert task["status"] == "failed" and not task["changed"], task
    assert task["msg"].startswith(FAILED + "cannot connect to ") and task["msg"].endswith(ROLLED_BACK), task["msg"]
    assert "after the firewall" not in tasks  # never sent: the host stopped at the failed task
    # rolled back by the agent that applied it, at once, not by the watchdog (60 s by default)
    assert took < 45, took
    assert_restored(fwlab, baseline)
    assert_still_managed(fwlab, tmp_path)


def test_a_ruleset_that_drops_every_packet_is_reverted_by_the_host(fwlab: FirewallLab, baseline: Baseline,
                                                                  tmp_path: Path) -> None:
    inventory = fwlab.inventory_with(tmp_path / "inv.yml", fleet_connection_guard_timeout=10)
    data = apply(inventory, tmp_path, "firewall_lockout", *LOCKOUT, "-e", "fw_established=false", expect=1)
    tasks = results(data)
    task = tasks["ruleset"]
    assert task["status"] == "failed" and not task["changed"], task
    assert task["msg"].startswith(FAILED), task["msg"]
    assert ("rolled back to the previous configuration" in task["msg"]
            or "the host reverts to the previous configuration by itself within 10 s" in task["msg"]), task["msg"]
    assert "after the firewall" not in tasks
    assert wait_for(lambda: fwlab.ruleset() == baseline.ruleset, 15), fwlab.ruleset()
    assert_restored(fwlab, baseline)
    assert_still_managed(fwlab, tmp_path)


def test_a_default_drop_ruleset_that_allows_ssh_is_confirmed_and_kept(fwlab: FirewallLab, baseline: Baseline,
                                                                     tmp_path: Path) -> None:
    # A watchdog delay far beyond the run (a loaded machine once took 5 s for a 1 s run): the
    # watchdog, confirmed, ends within a second, and only a missing confirmation could let it act.
    inventory = fwlab.inventory_with(tmp_path / "inv.yml", fleet_connection_guard_timeout=900)
    data = apply(inventory, tmp_path, "firewall_lockout", "-e", "fw_policy=drop")
    task = results(data)["ruleset"]
    assert task["status"] == "changed", task
    # the next task ran once the change was confirmed (it writes the registered confirmation)
    assert fwlab.sh(f"cat {AFTER}") == "drop: a fresh connection succeeded\n"
    kept = fwlab.ruleset()
    assert "policy drop;" in kept and "tcp dport 22 accept" in kept
    assert wait_for(lambda: not fwlab.session_processes(), 180), f"a watchdog still waits: {fwlab.session_processes()}"
    assert fwlab.ruleset() == kept
    assert "policy drop;" in fwlab.file()
    ssh = fwlab.ssh()
    assert ssh.returncode == 0 and ssh.stdout.strip() == "connected", ssh.stderr
    assert_still_managed(fwlab, tmp_path)


def test_without_the_guard_the_lockout_stays(fwlab: FirewallLab, baseline: Baseline, tmp_path: Path) -> None:
    """What the guard saves the host from: the same mistake applied unguarded cuts SSH."""
    inventory = fwlab.inventory_with(tmp_path / "inv.yml", fleet_connection_guard=False)
    data = apply(inventory, tmp_path, "firewall_lockout", *LOCKOUT)
    tasks = results(data)
    assert tasks["ruleset"]["status"] == "changed"
    assert tasks["after the firewall"]["changed"]  # over the connection that was already open
    assert fwlab.sh(f"cat {AFTER}") == "drop: not checked\n"
    try:
        ssh = fwlab.ssh(timeout=5)
        assert ssh.returncode == 255 and "timed out" in ssh.stderr, ssh.stderr
        assert "tcp dport 22" not in fwlab.ruleset()
    finally:
        fwlab.sh("nft flush ruleset")  # the console's way back
