"""testinfra tests of the security role (run by `fleet verify`, or `pytest --hosts=...`).

Settings a container cannot apply at runtime (kernel sysctls, the loaded firewall without
CAP_NET_ADMIN) are checked where they are persisted; each test fails when its setting is
reverted by hand."""

import pytest


def _sshd_effective(host):
    with host.sudo():
        out = host.check_output("sshd -T -C user=root,host=localhost,addr=127.0.0.1")
    return dict(line.split(None, 1) for line in out.splitlines() if " " in line)


def test_sshd_config_is_valid(host):
    with host.sudo():
        assert host.run("sshd -t").rc == 0


@pytest.mark.parametrize("key, value", [
    ("passwordauthentication", "no"),
    ("kbdinteractiveauthentication", "no"),
    ("permitemptypasswords", "no"),
    ("permitrootlogin", "without-password"),  # sshd -T spells prohibit-password this way
    ("maxauthtries", "4"),
    ("clientaliveinterval", "300"),
    ("clientalivecountmax", "2"),
    ("x11forwarding", "no"),
])
def test_sshd_effective_settings(host, key, value):
    assert _sshd_effective(host)[key] == value


def test_sshd_weak_algorithms_are_gone(host):
    effective = _sshd_effective(host)
    assert "cbc" not in effective["ciphers"] and "3des" not in effective["ciphers"]
    assert "hmac-sha1" not in effective["macs"].split(",")
    assert "diffie-hellman-group14-sha1" not in effective["kexalgorithms"]


def test_sshd_drop_in_is_root_only_readable(host):
    assert host.file("/etc/ssh/sshd_config.d/50-fleet-hardening.conf").user == "root"


def test_firewall_ruleset_drops_inbound_but_ssh(host):
    ruleset = host.file("/etc/nftables.conf")
    assert ruleset.is_file
    text = ruleset.content_string
    assert "policy drop;" in text.split("chain input", 1)[1].split("}", 1)[0]
    assert "ct state established,related accept" in text
    assert "tcp dport 22 accept" in text
    assert host.package("nftables").is_installed
    assert host.service("nftables").is_enabled


@pytest.mark.parametrize("key, value", [
    ("kernel.kptr_restrict", "2"),
    ("kernel.dmesg_restrict", "1"),
    ("kernel.randomize_va_space", "2"),
    ("fs.protected_hardlinks", "1"),
    ("fs.protected_symlinks", "1"),
    ("fs.suid_dumpable", "0"),
])
def test_kernel_sysctls_persisted(host, key, value):
    conf = host.file("/etc/sysctl.d/99-zz-fleet-security.conf").content_string
    assert f"{key} = {value}" in conf.splitlines() or f"{key}={value}" in conf.splitlines()


@pytest.mark.parametrize("path, mode, group", [
    ("/etc/shadow", 0o640, "shadow"),
    ("/etc/gshadow", 0o640, "shadow"),
    ("/etc/passwd", 0o644, "root"),
    ("/etc/ssh/sshd_config", 0o600, "root"),
])
def test_sensitive_file_permissions(host, path, mode, group):
    with host.sudo():
        target = host.file(path)
        assert target.mode == mode and target.user == "root" and target.group == group


@pytest.mark.parametrize("key, value", [("PASS_MAX_DAYS", "365"), ("PASS_MIN_DAYS", "1"),
                                        ("PASS_WARN_AGE", "7")])
def test_password_ageing(host, key, value):
    lines = [line.split() for line in host.file("/etc/login.defs").content_string.splitlines()]
    assert [key, value] in lines


def test_core_dumps_off(host):
    limits = host.file("/etc/security/limits.d/60-fleet-coredumps.conf").content_string.split("\n")
    assert ("*", "hard", "core", "0") in {tuple(line.split()) for line in limits if line.strip()}
    assert "Storage=none" in host.file("/etc/systemd/coredump.conf.d/60-fleet.conf").content_string
