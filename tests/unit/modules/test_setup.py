"""setup: facts gathered on this machine, checked against what the machine says."""

from __future__ import annotations

import getpass
import os
import platform
import socket
import statistics
import sys
import time
from pathlib import Path

from .conftest import load_module


def _lines(path: str) -> list[str]:
    return Path(path).read_text().splitlines()


def _facts(run, **params) -> dict:
    result = run("setup", params)
    assert result["status"] == "ok", result
    return result["data"]["ansible_facts"]


def test_keys_and_types(run):
    facts = _facts(run)
    strings = [
        "ansible_distribution",
        "ansible_distribution_version",
        "ansible_distribution_release",
        "ansible_distribution_major_version",
        "ansible_os_family",
        "ansible_system",
        "ansible_kernel",
        "ansible_architecture",
        "ansible_machine",
        "ansible_hostname",
        "ansible_nodename",
        "ansible_fqdn",
        "ansible_domain",
        "ansible_service_mgr",
        "ansible_pkg_mgr",
        "ansible_python_version",
        "ansible_user_id",
        "ansible_machine_id",
        "ansible_virtualization_type",
    ]
    for key in strings:
        assert isinstance(facts[key], str), key
    for key in [
        "ansible_memtotal_mb",
        "ansible_memfree_mb",
        "ansible_swaptotal_mb",
        "ansible_processor_vcpus",
        "ansible_processor_count",
        "ansible_processor_cores",
        "ansible_user_uid",
    ]:
        assert isinstance(facts[key], int), key
    for key in ["ansible_all_ipv4_addresses", "ansible_all_ipv6_addresses", "ansible_interfaces"]:
        assert isinstance(facts[key], list), key
    assert isinstance(facts["ansible_default_ipv4"], dict)
    assert isinstance(facts["ansible_env"], dict)
    assert set(facts["ansible_date_time"]) >= {"epoch", "iso8601", "date", "time", "tz"}
    assert set(facts["ansible_python"]) >= {"executable", "version", "version_info"}


def test_values_match_this_machine(run):
    facts = _facts(run)
    assert facts["ansible_hostname"] == socket.gethostname().split(".")[0]
    assert facts["ansible_nodename"] == platform.node()
    assert facts["ansible_fqdn"] == socket.getfqdn()
    assert facts["ansible_system"] == platform.system()
    assert facts["ansible_kernel"] == platform.release()
    assert facts["ansible_architecture"] == platform.machine()
    assert facts["ansible_python"]["executable"] == sys.executable
    assert facts["ansible_python_version"] == platform.python_version()
    assert facts["ansible_user_id"] == getpass.getuser()
    assert facts["ansible_user_uid"] == os.getuid()
    assert facts["ansible_env"]["PATH"] == os.environ["PATH"]
    assert abs(int(facts["ansible_date_time"]["epoch"]) - time.time()) < 5
    meminfo = dict(line.split(":", 1) for line in _lines("/proc/meminfo"))
    total_mb = int(meminfo["MemTotal"].split()[0]) // 1024
    assert abs(facts["ansible_memtotal_mb"] - total_mb) <= 1
    assert facts["ansible_processor_vcpus"] >= 1
    assert facts["ansible_processor_nproc"] == len(os.sched_getaffinity(0))
    assert sorted(facts["ansible_interfaces"]) == sorted(n for _i, n in socket.if_nameindex())
    assert all(not a.startswith("127.") for a in facts["ansible_all_ipv4_addresses"])
    assert "::1" not in facts["ansible_all_ipv6_addresses"]
    machine_id = (
        Path("/etc/machine-id").read_text().strip() if os.path.exists("/etc/machine-id") else ""
    )
    assert facts["ansible_machine_id"] == machine_id


def test_distribution_matches_os_release(run):
    facts = _facts(run)
    release = {}
    for line in _lines("/etc/os-release"):
        key, _sep, value = line.strip().partition("=")
        release[key] = value.strip('"')
    if release.get("ID") == "debian":
        assert facts["ansible_distribution"] == "Debian"
        assert facts["ansible_os_family"] == "Debian"
        assert facts["ansible_pkg_mgr"] == "apt"
        assert (
            facts["ansible_distribution_version"] == Path("/etc/debian_version").read_text().strip()
        )
    assert facts["ansible_distribution_major_version"] == release["VERSION_ID"].split(".")[0]
    if "VERSION_CODENAME" in release:
        assert facts["ansible_distribution_release"] == release["VERSION_CODENAME"]


def test_default_ipv4_from_routing_table(run):
    facts = _facts(run)
    routes = [line.split() for line in _lines("/proc/net/route")[1:]]
    default = [r for r in routes if r[1] == "00000000" and r[7] == "00000000"]
    if not default:
        assert facts["ansible_default_ipv4"] == {}
        return
    ipv4 = facts["ansible_default_ipv4"]
    assert ipv4["interface"] == default[0][0]
    gateway = socket.inet_ntoa(int(default[0][2], 16).to_bytes(4, "little"))
    assert ipv4["gateway"] == gateway
    assert ipv4["address"] in facts["ansible_all_ipv4_addresses"]
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect((gateway, 9))  # no packet is sent: just asks the kernel for a route
        assert probe.getsockname()[0] == ipv4["address"]
    finally:
        probe.close()


def test_ipv6_addresses_from_proc(run):
    facts = _facts(run)
    expected = []
    if os.path.exists("/proc/net/if_inet6"):
        for line in _lines("/proc/net/if_inet6"):
            address = socket.inet_ntop(socket.AF_INET6, bytes.fromhex(line.split()[0]))
            if address != "::1":
                expected.append(address)
    assert sorted(facts["ansible_all_ipv6_addresses"]) == sorted(expected)


def test_gather_subset_min_skips_network_and_hardware(run):
    for subset in (["!all"], ["min"], "!all,!min"):
        facts = _facts(run, gather_subset=subset)
        assert "ansible_default_ipv4" not in facts
        assert "ansible_memtotal_mb" not in facts
        assert "ansible_distribution" in facts and "ansible_hostname" in facts
    facts = _facts(run, gather_subset=["!all", "network"])
    assert "ansible_default_ipv4" in facts and "ansible_memtotal_mb" not in facts
    facts = _facts(run, gather_subset=["!hardware"])
    assert "ansible_default_ipv4" in facts and "ansible_memtotal_mb" not in facts


DEBIAN_DIST_FILE = (
    {"ansible_distribution_file_parsed", "ansible_distribution_file_path", "ansible_distribution_file_variety",
     "ansible_distribution_minor_version"} if Path("/etc/debian_version").exists() else set()
)


def test_filter(run):
    facts = _facts(run, filter=["ansible_distribution*", "memtotal_mb"])
    assert set(facts) == {
        "ansible_distribution",
        "ansible_distribution_version",
        "ansible_distribution_major_version",
        "ansible_distribution_release",
        "ansible_memtotal_mb",
    } | DEBIAN_DIST_FILE  # as ansible-core's setup returns them there (tests/integration/test_facts_vs_ansible.py)
    assert set(_facts(run, filter="ansible_hostname")) == {"ansible_hostname"}


def test_fast(run):
    """One setup call gathers everything in well under 50 ms of CPU (measured: ~4 ms). CPU time, not
    wall time: on a loaded machine the wall clock also counts the time other processes ran."""
    module = load_module("setup")
    module.observe(module.Params(), None)  # warm up (imports, caches)
    durations = []
    for _ in range(5):
        start = time.process_time()
        module.observe(module.Params(), None)
        durations.append(time.process_time() - start)
    assert statistics.median(durations) < 0.05, durations


def test_systemd_fact_from_systemctl_version() -> None:
    """Ansible's ``systemd`` fact (the systemd target asserts version and features)."""
    setup = load_module("setup")

    class Host:
        def __init__(self, rc: int, out: str) -> None:
            self.answer = (rc, out, "")

        def query(self, argv: list) -> tuple:
            assert argv == ["systemctl", "--version"]
            return self.answer

    out = "systemd 252 (252.30-1~deb12u2)\n+PAM +AUDIT +SELINUX -APPARMOR default-hierarchy=unified\n"
    assert setup._systemd(Host(0, out)) == {"systemd": {
        "version": 252, "features": "+PAM +AUDIT +SELINUX -APPARMOR default-hierarchy=unified"}}
    assert setup._systemd(Host(1, "")) == {} and setup._systemd(Host(0, "odd\n")) == {}
