"""testinfra tests of the base role (run by `fleet verify`, or `pytest --hosts=...`)."""


def test_motd_names_the_host(host):
    motd = host.file("/etc/motd")
    assert motd.is_file and motd.mode == 0o644
    assert "managed by fleet" in motd.content_string


def test_hosts_block_lists_the_fleet(host):
    hosts = host.file("/etc/hosts").content_string
    assert "# BEGIN FLEET MANAGED HOSTS" in hosts and "# END FLEET MANAGED HOSTS" in hosts
    block = hosts.split("# BEGIN FLEET MANAGED HOSTS", 1)[1].split("# END FLEET MANAGED HOSTS", 1)[0]
    assert len([line for line in block.splitlines() if line.strip()]) >= 1


def test_journald_retention(host):
    conf = host.file("/etc/systemd/journald.conf.d/50-fleet-retention.conf")
    assert conf.is_file
    assert "SystemMaxUse=" in conf.content_string and "MaxRetentionSec=" in conf.content_string
