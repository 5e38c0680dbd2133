"""testinfra tests of the base role (run by `fleet verify`, or `pytest --hosts=...`).

They check the role's defaults; each test fails when its setting is reverted by hand."""

import pytest


def test_hostname_is_persisted_and_running(host):
    persisted = host.file("/etc/hostname").content_string.strip()
    assert persisted and persisted == host.check_output("hostname")


def test_timezone(host):
    localtime = host.file("/etc/localtime")
    assert localtime.is_symlink and localtime.linked_to.endswith("/zoneinfo/Etc/UTC")
    assert host.file("/etc/timezone").content_string.strip() == "Etc/UTC"


def test_locale_generated_and_default(host):
    assert "en_US.utf8" in host.check_output("locale -a").split()
    assert "LANG=en_US.UTF-8" in host.file("/etc/default/locale").content_string.splitlines()


@pytest.mark.parametrize("name", ["locales", "tzdata", "ca-certificates", "less", "procps", "cron",
                                  "logrotate", "systemd-timesyncd", "unattended-upgrades"])
def test_baseline_packages(host, name):
    assert host.package(name).is_installed


def test_time_sync_enabled(host):
    assert host.service("systemd-timesyncd").is_enabled


def test_journald_retention(host):
    conf = host.file("/etc/systemd/journald.conf.d/50-fleet-retention.conf")
    assert conf.is_file
    assert "SystemMaxUse=200M" in conf.content_string and "MaxRetentionSec=1month" in conf.content_string


def test_admin_group_may_sudo(host):
    assert host.group("fleet-admins").exists
    sudoers = host.file("/etc/sudoers.d/fleet-admins")
    assert sudoers.is_file and sudoers.mode == 0o440 and sudoers.user == "root"
    assert "%fleet-admins ALL=NOPASSWD: ALL" in sudoers.content_string.splitlines()


def test_unattended_upgrades(host):
    periodic = host.file("/etc/apt/apt.conf.d/20auto-upgrades").content_string
    assert 'APT::Periodic::Unattended-Upgrade "1";' in periodic
    assert 'APT::Periodic::Update-Package-Lists "1";' in periodic


def test_open_files_limit(host):
    limits = host.file("/etc/security/limits.d/50-fleet.conf").content_string.split("\n")
    entries = {tuple(line.split()) for line in limits if line.strip() and not line.startswith("#")}
    assert ("*", "soft", "nofile", "65536") in entries and ("*", "hard", "nofile", "65536") in entries


def test_motd_names_the_host(host):
    motd = host.file("/etc/motd")
    assert motd.is_file and motd.mode == 0o644
    assert "managed by fleet" in motd.content_string
