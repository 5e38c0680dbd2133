"""sshd_config, hosts, networkd and nftables on the lab's systemd hosts: apply converges (read
back with the hosts' own tools: ``sshd -T``, ``getent``, ``nft``), re-apply reports 0 changed,
sshd refusing a setting replaces nothing and a fresh SSH connection still works, check mode on a
drifted host reports the change and changes nothing.

nftables needs CAP_NET_ADMIN, which the session lab does not give its hosts: that test starts a
one-host lab of its own with ``cap_add=["NET_ADMIN"]`` (``fleet lab up --cap-add NET_ADMIN``).
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import HOSTS, ITLab, output, report, run_fleet
from tests.integration.nft import net_admin_lab

PLAYBOOKS = Path(__file__).parent / "playbooks"
DROPIN = "/etc/ssh/sshd_config.d/40-itest.conf"
FIRST = "/etc/ssh/sshd_config.d/10-itest-first.conf"  # sorts before ours: its value wins
UNIT = "/etc/systemd/network/90-itest.network"
CHANGING = ["banner file", "sshd drop-in", "fleet hosts in /etc/hosts", "second entry", "networkd unit"]
DROPIN_TEXT = ("# Managed by fleet (sshd_config): local changes are overwritten.\n"
               "ClientAliveInterval 300\nClientAliveCountMax 2\nMaxAuthTries 4\n"
               "Banner /etc/ssh/itest-banner\n")
UNIT_TEXT = ("# Managed by fleet (networkd): local changes are overwritten.\n"
             "[Match]\nName=itest0\n\n"
             "[Network]\nAddress=10.99.1.1/24\nDNS=10.99.0.53\nDNS=10.99.0.54\nIPv6AcceptRA=no\n\n"
             "[Route]\nDestination=10.98.0.0/16\nGateway=10.99.1.254\n")


def play(inventory: Path, tmp_path: Path, name: str, *extra: str, check: bool = False,
         expect: int = 0) -> dict[str, Any]:
    path = tmp_path / f"{name}-{len(list(tmp_path.glob(name + '-*')))}.json"
    result = run_fleet("check" if check else "apply", "-i", str(inventory), str(PLAYBOOKS / f"{name}.yml"),
                       *extra, "--json", str(path))
    assert result.returncode == expect, output(result)
    return report(path)


def by_task(data: dict[str, Any], host: str) -> dict[str, dict[str, Any]]:
    return {r["task"]: r for r in data["hosts"][host]["results"]}


def sshd_t(lab: ITLab, host: str, keyword: str) -> str:
    return lab.sh(host, f"sshd -T | grep -i '^{keyword} '").split(None, 1)[1].strip()


def fresh_ssh(lab: ITLab, host: str) -> subprocess.CompletedProcess[str]:
    """A brand-new OpenSSH client connection (not fleet's), so the banner shows what sshd runs."""
    group = lab.group(lab.data())["vars"]
    return subprocess.run(
        ["ssh", "-i", group["ansible_ssh_private_key_file"], *group["ansible_ssh_common_args"].split(),
         "-o", "BatchMode=yes", "-o", "ConnectTimeout=10", f"root@{lab.ip(host)}", "echo", "connected"],
        capture_output=True, text=True, timeout=30)


def _clean(lab: ITLab, tmp_path: Path) -> None:
    play(lab.inventory, tmp_path, "sys_network_cleanup")
    for host in HOSTS:
        lab.sh(host, f"rm -f {FIRST} && systemctl reload ssh")


@pytest.fixture
def clean_lab(lab: ITLab, tmp_path: Path) -> Iterator[ITLab]:
    _clean(lab, tmp_path)
    yield lab
    _clean(lab, tmp_path)
    for host in HOSTS:
        assert not lab.exists(host, DROPIN) and not lab.exists(host, UNIT)
        assert "10.99.0." not in lab.read(host, "/etc/hosts")


def test_sshd_hosts_networkd_converge_refuse_invalid_and_detect_drift(clean_lab: ITLab, tmp_path: Path) -> None:
    lab = clean_lab
    lab.sh("itest3", f"echo 'MaxAuthTries 6' > {FIRST}")
    networkd = {host: lab.sh(host, "systemctl is-active systemd-networkd", check=False).strip() for host in HOSTS}

    first = play(lab.inventory, tmp_path, "sys_network")
    assert first["summary"]["changed"] == len(HOSTS) * len(CHANGING)
    assert first["summary"]["failed"] == 0
    for host in HOSTS:
        results = by_task(first, host)
        assert [t for t, r in results.items() if r["changed"]] == CHANGING
        # the drop-in: written, validated, sshd reloaded (no warning), effective per sshd -T
        assert lab.read(host, DROPIN) == DROPIN_TEXT
        assert lab.stat(host, DROPIN) == ("0644", "root", "root")
        assert sshd_t(lab, host, "clientaliveinterval") == "300"
        assert sshd_t(lab, host, "maxauthtries") == ("6" if host == "itest3" else "4")
        warnings = results["sshd drop-in"].get("warnings", [])
        if host == "itest3":  # an earlier drop-in wins: said, not hidden
            assert warnings == [f"MaxAuthTries: {FIRST}:1 sets 6 first (sshd uses the first value)"]
        else:
            assert warnings == []
        # the running sshd was reloaded: a fresh OpenSSH connection shows the new banner
        if shutil.which("ssh"):
            ssh = fresh_ssh(lab, host)
            assert ssh.returncode == 0 and ssh.stdout.strip() == "connected", ssh.stderr
            assert f"itest banner {host}" in ssh.stderr
        # /etc/hosts (a bind mount in the container: rewritten in place) and the resolver
        hosts = lab.read(host, "/etc/hosts")
        assert "10.99.0.1\tdb.itest db-itest\n" in hosts and "10.99.0.2\tweb.itest web-itest\n" in hosts
        assert lab.sh(host, "getent hosts db-itest").split() == ["10.99.0.1", "db.itest", "db-itest"]
        # networkd: the unit, and an honest word when networkd does not run
        assert lab.read(host, UNIT) == UNIT_TEXT
        assert lab.stat(host, UNIT) == ("0644", "root", "root")
        unit_warnings = results["networkd unit"].get("warnings", [])
        if networkd[host] == "active":
            assert unit_warnings == []
        else:
            assert unit_warnings == [f"reload: written, networkd not running: not reloaded ({networkd[host]})"]

    again = play(lab.inventory, tmp_path, "sys_network")
    assert again["summary"]["changed"] == 0 and again["summary"]["failed"] == 0

    # sshd refuses a setting: sshd -t fails on the candidate, the drop-in stays as it was,
    # sshd still accepts its config, and a fresh connection (fleet again) works.
    refused = play(lab.inventory, tmp_path, "sys_network_invalid", expect=1)
    assert refused["summary"]["failed"] == len(HOSTS)
    for host in HOSTS:
        task = by_task(refused, host)["sshd drop-in"]
        assert task["status"] == "failed"
        assert "sshd refused the new configuration, nothing was replaced" in task["msg"]
        assert "sometimes" in task["msg"]
        assert lab.read(host, DROPIN) == DROPIN_TEXT
        lab.sh(host, "sshd -t")
        leftovers = "ls -A /etc/ssh/sshd_config.d/ /tmp | grep -c -e '^[.]fleet-' -e '^fleet-sshd-' || true"
        assert lab.sh(host, leftovers).strip() == "0"
    ping = run_fleet("run", "-i", str(lab.inventory), "all", "-m", "ping")
    assert ping.returncode == 0, output(ping)
    if shutil.which("ssh"):
        assert all(fresh_ssh(lab, host).returncode == 0 for host in HOSTS)

    # Drift on itest2: the drop-in edited, a hosts line dropped. check reports both, fixes none.
    lab.sh("itest2", f"sed -i 's/ClientAliveInterval 300/ClientAliveInterval 60/' {DROPIN}")
    lab.sh("itest2", "grep -v '^10.99.0.1' /etc/hosts > /tmp/hosts.new && cat /tmp/hosts.new > /etc/hosts")
    drifted = {path: lab.read("itest2", path) for path in (DROPIN, "/etc/hosts")}
    check = play(lab.inventory, tmp_path, "sys_network", "--diff", check=True, expect=2)
    changed = {(h, r["task"]): r for h, d in check["hosts"].items() for r in d["results"] if r["changed"]}
    assert set(changed) == {("itest2", "sshd drop-in"), ("itest2", "fleet hosts in /etc/hosts")}
    assert "-ClientAliveInterval 60\n" in changed[("itest2", "sshd drop-in")]["diff"]["unified"]["content"]
    assert "+10.99.0.1\tdb.itest db-itest\n" in \
        changed[("itest2", "fleet hosts in /etc/hosts")]["diff"]["unified"]["content"]
    assert {path: lab.read("itest2", path) for path in drifted} == drifted
    assert sshd_t(lab, "itest2", "clientaliveinterval") == "60"
    fixed = play(lab.inventory, tmp_path, "sys_network")
    assert fixed["summary"]["changed"] == 2
    assert sshd_t(lab, "itest2", "clientaliveinterval") == "300"


# -- nftables: a lab host with CAP_NET_ADMIN ---------------------------------------------------

@pytest.fixture(scope="module")
def netlab(itlab: ITLab, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Path]]:
    """A one-host lab started with CAP_NET_ADMIN (its own network namespace: the firewall it
    loads is the container's, never the machine's)."""
    with net_admin_lab("itnet", tmp_path_factory.mktemp("itnet-lab")) as (container, inventory):
        yield container, inventory


def test_nftables_loaded_reapplied_refused_and_drift(netlab: tuple[Any, Path], tmp_path: Path) -> None:
    container, inventory = netlab

    def sh(command: str) -> str:
        code, out = container.exec_run(["sh", "-c", command])
        assert code == 0, out.decode(errors="replace")
        return out.decode()

    first = play(inventory, tmp_path, "sys_network_nftables")
    assert first["summary"]["changed"] == 1 and first["summary"]["failed"] == 0
    task = by_task(first, "itnet1")["ruleset"]
    # docker may have put its embedded-DNS NAT table into the container's namespace
    assert task["diff"]["before"]["ruleset"] in ("empty", "differs: table inet filter is not loaded")
    assert task["diff"]["after"]["ruleset"] == "matches"
    assert "warnings" not in task
    listing = sh("nft list ruleset")
    assert "policy drop;" in listing and "tcp dport 22 accept" in listing
    good = sh("cat /etc/nftables.conf")

    # a fresh connection through the firewall (fleet connects anew each run): 0 changed
    again = play(inventory, tmp_path, "sys_network_nftables")
    assert again["summary"]["changed"] == 0

    refused = play(inventory, tmp_path, "sys_network_nftables", "-e", "nft_bad=true", expect=1)
    msg = by_task(refused, "itnet1")["ruleset"]["msg"]
    assert msg.startswith("nft refused the ruleset, nothing was replaced:"), msg
    assert sh("cat /etc/nftables.conf") == good and sh("nft list ruleset") == listing
    assert sh("ls -A /etc | grep -c '^.fleet-' || true").strip() == "0"

    # drift: the ruleset flushed by hand. check reports it and loads nothing; apply reloads.
    sh("nft flush ruleset")
    check = play(inventory, tmp_path, "sys_network_nftables", check=True, expect=2)
    task = by_task(check, "itnet1")["ruleset"]
    assert task["diff"]["fields"] == ["ruleset"] and task["diff"]["before"]["ruleset"] == "empty"
    assert sh("nft list ruleset").strip() == ""
    fixed = play(inventory, tmp_path, "sys_network_nftables")
    assert fixed["summary"]["changed"] == 1 and sh("nft list ruleset") == listing

    # a base chain's policy changed: a structural difference, reloaded
    changed = play(inventory, tmp_path, "sys_network_nftables", "-e", "nft_policy=accept")
    task = by_task(changed, "itnet1")["ruleset"]
    assert task["diff"]["fields"] == ["content", "ruleset"]
    assert "policy accept;" in sh("nft list chain inet filter input")
