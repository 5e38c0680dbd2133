"""ansible-inventory style output (--list, --list --export, --graph) and the groups model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fleet.errors import InputError
from fleet.inventory import Inventory

EXAMPLES = Path(__file__).resolve().parents[3] / "inventories" / "examples"

NESTED = """
ungrouped:
  hosts:
    mail.example.com:
webservers:
  hosts:
    foo.example.com:
    bar.example.com:
dbservers:
  hosts:
    one.example.com:
    two.example.com:
    three.example.com:
east:
  hosts:
    foo.example.com:
    one.example.com:
    two.example.com:
west:
  hosts:
    bar.example.com:
    three.example.com:
prod:
  children:
    east:
  vars:
    env: prod
test:
  children:
    west:
"""


@pytest.fixture
def nested(load_text) -> Inventory:
    return load_text("inventory.yaml", NESTED)


def test_graph(nested: Inventory) -> None:
    assert nested.graph() == "\n".join(
        [
            "@all:",
            "  |--@ungrouped:",
            "  |  |--mail.example.com",
            "  |--@webservers:",
            "  |  |--foo.example.com",
            "  |  |--bar.example.com",
            "  |--@dbservers:",
            "  |  |--one.example.com",
            "  |  |--two.example.com",
            "  |  |--three.example.com",
            "  |--@prod:",
            "  |  |--@east:",
            "  |  |  |--foo.example.com",
            "  |  |  |--one.example.com",
            "  |  |  |--two.example.com",
            "  |--@test:",
            "  |  |--@west:",
            "  |  |  |--bar.example.com",
            "  |  |  |--three.example.com",
        ]
    )
    assert (
        nested.graph("test")
        == "@test:\n  |--@west:\n  |  |--bar.example.com\n  |  |--three.example.com"
    )


def test_graph_unknown_group(nested: Inventory) -> None:
    with pytest.raises(InputError, match="'nope' is not a group"):
        nested.graph("nope")


def test_list_json(nested: Inventory) -> None:
    data = nested.to_ansible_json()
    assert data == {
        "all": {"children": ["ungrouped", "webservers", "dbservers", "prod", "test"]},
        "ungrouped": {"hosts": ["mail.example.com"]},
        "webservers": {"hosts": ["foo.example.com", "bar.example.com"]},
        "dbservers": {"hosts": ["one.example.com", "two.example.com", "three.example.com"]},
        "prod": {"children": ["east"]},
        "east": {"hosts": ["foo.example.com", "one.example.com", "two.example.com"]},
        "test": {"children": ["west"]},
        "west": {"hosts": ["bar.example.com", "three.example.com"]},
        "_meta": {
            "hostvars": {
                "foo.example.com": {"env": "prod"},
                "one.example.com": {"env": "prod"},
                "two.example.com": {"env": "prod"},
            }
        },
    }
    json.dumps(data)


def test_list_json_export_keeps_group_vars_on_groups(write_tree) -> None:
    root = write_tree(
        {
            "i/hosts": "[web]\nw1 a=1\n[web:vars]\nb=2\nansible_group_priority=3\n[empty]\n",
            "i/group_vars/web.yml": "c: 3\n",
            "i/host_vars/w1.yml": "d: 4\n",
        }
    )
    inv = Inventory.load(str(root / "i/hosts"))
    data = inv.to_ansible_json(export=True)
    assert data["web"] == {"hosts": ["w1"], "vars": {"b": 2, "c": 3, "ansible_group_priority": 3}}
    assert "empty" not in data
    assert data["all"] == {"children": ["ungrouped", "web", "empty"]}
    assert data["_meta"] == {"hostvars": {"w1": {"a": 1, "d": 4}}}
    assert inv.to_ansible_json()["_meta"] == {"hostvars": {"w1": {"b": 2, "c": 3, "a": 1, "d": 4}}}


def test_groups_model(nested: Inventory) -> None:
    east = nested.groups["east"]
    assert (east.parents, east.children, east.hosts, east.depth) == (
        ["prod"],
        [],
        ["foo.example.com", "one.example.com", "two.example.com"],
        2,
    )
    assert nested.groups["all"].depth == 0
    assert nested.hosts["foo.example.com"].groups == ["all", "prod", "webservers", "east"]
    assert nested.group_names("foo.example.com") == ["east", "prod", "webservers"]
    assert nested.groups_map()["prod"] == ["foo.example.com", "one.example.com", "two.example.com"]


def test_cycle_across_sources_names_the_edge(write_tree) -> None:
    root = write_tree({"a.ini": "[a:children]\nb\n[b]\nh\n", "b.yml": "b:\n  children:\n    a:\n"})
    with pytest.raises(InputError) as err:
        Inventory.load([root / "a.ini", root / "b.yml"])
    assert "group 'a' is its own ancestor: a -> b -> a" in str(err.value)
    assert str(err.value).startswith(f"{root / 'b.yml'}:3: ")


def test_long_chain_depth(write_tree) -> None:
    lines = [f"[g{i}:children]\ng{i + 1}\n" for i in range(300)] + ["[g300]\nh\n"]
    root = write_tree({"hosts": "".join(lines)})
    inv = Inventory.load(str(root / "hosts"))
    assert inv.groups["g300"].depth == 301
    assert inv.hosts["h"].groups[:3] == ["all", "g0", "g1"]
    assert len(inv.group_names("h")) == 301


def test_example_inventory_loads() -> None:
    inv = Inventory.load(str(EXAMPLES / "docs" / "hosts.ini"))
    assert inv.group_names("host2") == ["atlanta", "raleigh", "southeast", "usa"]
    assert inv.host_vars_merged("host2")["ntp_server"] == "ntp.atlanta.example.com"
    assert inv.host_vars_merged("host1")["http_port"] == 80
    assert [h.name for h in inv.select("usa:!raleigh")] == ["host4", "host1"]


def test_example_yaml_and_ini_agree() -> None:
    ini = Inventory.load(str(EXAMPLES / "docs" / "hosts.ini"))
    yml = Inventory.load(str(EXAMPLES / "docs" / "hosts.yml"))
    assert {k: sorted(v) for k, v in ini.groups_map().items()} == {
        k: sorted(v) for k, v in yml.groups_map().items()
    }
    for host in ini.hosts:
        assert ini.host_vars_merged(host) == yml.host_vars_merged(host)
        assert ini.group_names(host) == yml.group_names(host)
