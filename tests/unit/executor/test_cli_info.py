"""`fleet inventory` (--graph/--list/--host) and `fleet modules` output on the test site."""

from __future__ import annotations

import json

from tests.unit.executor.conftest import HOSTS, Site


def test_inventory_graph_list_and_host(site: Site) -> None:
    site.host_vars = {"h1": {"port": 8080}}
    site.group_vars = {"web": {"tier": "front"}}
    graph = site.cli("inventory", "-i", str(site.inventory), "--graph")
    assert graph.exit_code == 0
    assert graph.stdout.splitlines() == [
        "@all:", "  |--@ungrouped:", "  |--@web:", "  |  |--h1", "  |  |--h2", "  |--@db:", "  |  |--h3",
    ]
    listed = json.loads(site.cli("inventory", "-i", str(site.inventory), "--list").stdout)
    assert listed["web"]["hosts"] == ["h1", "h2"] and listed["db"]["hosts"] == ["h3"]
    assert set(listed["_meta"]["hostvars"]) == set(HOSTS)
    assert listed["_meta"]["hostvars"]["h1"]["port"] == 8080
    host = json.loads(site.cli("inventory", "-i", str(site.inventory), "--host", "h1").stdout)
    assert host["port"] == 8080 and host["tier"] == "front" and host["ansible_connection"] == "local"
    missing = site.cli("inventory", "-i", str(site.inventory), "--host", "nope")
    assert missing.exit_code == 1 and "nope" in missing.stderr


def test_modules_list_and_one_module(site: Site) -> None:
    listed = site.cli("modules")
    assert listed.exit_code == 0
    names = [line.split()[0] for line in listed.stdout.splitlines() if line.strip()]
    assert {"copy", "file", "template", "command", "shell", "lineinfile", "stat", "setup"} <= set(names)
    copy = site.cli("modules", "copy")
    assert copy.exit_code == 0
    assert copy.stdout.splitlines()[0].startswith("copy — ")
    assert "Parameters:" in copy.stdout
    assert "  dest (string) required" in copy.stdout
    unknown = site.cli("modules", "copyy")
    assert unknown.exit_code == 1 and "copyy" in unknown.stderr
