"""testinfra tests of the network role (run by `fleet verify`, or `pytest --hosts=...`).

Network sysctls are checked where they are persisted (a container's /proc/sys is read-only);
each test fails when its setting is reverted by hand."""

import pytest


def test_the_host_resolves_its_own_name(host):
    name = host.check_output("hostname")
    assert host.addr(name).is_resolvable


def test_hosts_file_has_the_fleet(host):
    lines = [line.split() for line in host.file("/etc/hosts").content_string.splitlines()
             if line.strip() and not line.startswith("#")]
    name = host.check_output("hostname")
    assert any(name in fields[1:] and not fields[0].startswith("127.") for fields in lines)


@pytest.mark.parametrize("key, value", [
    ("net.ipv4.ip_forward", "0"),
    ("net.ipv4.conf.all.rp_filter", "1"),
    ("net.ipv4.tcp_syncookies", "1"),
    ("net.ipv4.conf.all.accept_redirects", "0"),
    ("net.ipv4.conf.all.send_redirects", "0"),
    ("net.ipv6.conf.all.accept_redirects", "0"),
])
def test_network_sysctls_persisted(host, key, value):
    conf = host.file("/etc/sysctl.d/99-zz-fleet-network.conf").content_string.splitlines()
    assert f"{key} = {value}" in conf or f"{key}={value}" in conf
