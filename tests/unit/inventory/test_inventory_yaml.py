"""YAML inventories, with the examples of Ansible's docs and yaml plugin."""

from __future__ import annotations

import pytest

from fleet.errors import InputError
from fleet.inventory import Inventory

BASIC = """
all:
  hosts:
    mail.example.com:
  children:
    webservers:
      hosts:
        foo.example.com:
        bar.example.com:
    dbservers:
      hosts:
        one.example.com:
        two.example.com:
        three.example.com:
"""

PLUGIN_EXAMPLE = """
all: # keys must be unique, i.e. only one 'hosts' per group
    hosts:
        test1:
        test2:
            host_var: value
    vars:
        group_all_var: value
    children:   # key order does not matter, indentation does
        other_group:
            children:
                group_x:
                    hosts:
                        test5   # Note that one machine will work without a colon
                group_y:
                    hosts:
                        test6:  # So always use a colon
            vars:
                g2_var2: value3
            hosts:
                test4:
                    ansible_host: 127.0.0.1
        last_group:
            hosts:
                test1 # same host as above, additional group membership
            vars:
                group_last_var: value
"""


def test_basic_docs_example_matches_ini(load_text) -> None:
    inv = load_text("hosts.yml", BASIC)
    assert inv.groups_map() == {
        "all": [
            "mail.example.com",
            "foo.example.com",
            "bar.example.com",
            "one.example.com",
            "two.example.com",
            "three.example.com",
        ],
        "ungrouped": ["mail.example.com"],
        "webservers": ["foo.example.com", "bar.example.com"],
        "dbservers": ["one.example.com", "two.example.com", "three.example.com"],
    }
    assert inv.groups["all"].hosts == ["mail.example.com"]
    assert inv.group_names("mail.example.com") == ["ungrouped"]


def test_yaml_plugin_docs_example(load_text) -> None:
    inv = load_text("inventory.yaml", PLUGIN_EXAMPLE)
    assert inv.hosts["test2"].vars == {"host_var": "value"}
    assert inv.hosts["test4"].vars == {"ansible_host": "127.0.0.1"}
    assert inv.groups["all"].vars == {"group_all_var": "value"}
    assert inv.groups["other_group"].children == ["group_x", "group_y"]
    assert inv.group_hosts("other_group") == ["test4", "test5", "test6"]
    assert inv.group_names("test1") == ["last_group"]
    assert inv.host_vars_merged("test5") == {"group_all_var": "value", "g2_var2": "value3"}
    assert inv.host_vars_merged("test1") == {"group_all_var": "value", "group_last_var": "value"}


def test_top_level_groups_other_than_all(load_text) -> None:
    inv = load_text(
        "inv.yml",
        """
        ungrouped:
          hosts:
            mail.example.com:
        webservers:
          hosts:
            foo.example.com:
            bar.example.com:
        east:
          hosts:
            foo.example.com:
        prod:
          children:
            east:
        """,
    )
    assert inv.groups["all"].children == ["ungrouped", "webservers", "prod"]
    assert inv.groups["east"].parents == ["prod"]
    assert inv.group_names("foo.example.com") == ["east", "prod", "webservers"]
    assert inv.hosts["foo.example.com"].groups == ["all", "prod", "webservers", "east"]


def test_ranges_ports_and_typed_values(load_text) -> None:
    inv = load_text(
        "inv.yaml",
        """
        webservers:
          hosts:
            www[01:03].example.com:
              http_port: 8080
            "db-[a:b]:2222":
          vars:
            enabled: yes
            tags: [a, b]
        """,
    )
    assert list(inv.hosts) == [
        "www01.example.com",
        "www02.example.com",
        "www03.example.com",
        "db-a",
        "db-b",
    ]
    assert inv.hosts["www02.example.com"].vars == {"http_port": 8080}
    assert inv.hosts["db-b"].vars == {"ansible_port": 2222}
    assert inv.groups["webservers"].vars == {"enabled": True, "tags": ["a", "b"]}


def test_json_file_is_yaml_inventory(load_text) -> None:
    inv = load_text("inv.json", '{"all": {"children": {"web": {"hosts": {"w1": {"a": 1}}}}}}')
    assert inv.host_vars_merged("w1") == {"a": 1}


def test_inline_layer_source_names_file_and_line(write_tree) -> None:
    root = write_tree(
        {
            "inv/hosts.yml": """
                all:
                  vars:
                    a: 1
                  children:
                    web:
                      hosts:
                        w1:
                          b: 2
                """
        }
    )
    inv = Inventory.load(str(root / "inv/hosts.yml"))
    path = root / "inv/hosts.yml"
    assert [(layer.kind, layer.source, dict(layer.values)) for layer in inv.host_layers("w1")] == [
        ("inventory group all", f"{path}:3", {"a": 1}),
        ("inventory host", f"{path}:8", {"b": 2}),
    ]


def test_group_priority_from_yaml_vars(load_text) -> None:
    inv = load_text(
        "inv.yml", "all:\n  children:\n    a:\n      vars:\n        ansible_group_priority: 5\n"
    )
    assert inv.groups["a"].priority == 5
    assert inv.groups["a"].vars == {}


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("all:\n  hosts:\n    a: [1\n", 3, "YAML syntax error"),  # the line of the open [, not past the end
        (
            "all:\n  children:\n    web:\n      host:\n        w1:\n",
            4,
            "unknown key 'host' in group 'web'",
        ),
        ("all:\n  hosts:\n    w1:\n  varz:\n    a: 1\n", 4, "unknown key 'varz' in group 'all'"),
        ("all:\n  hosts:\n    - w1\n", 2, "'hosts' of group 'all' must be a mapping, got list"),
        ("all:\n  hosts:\n    w1: 3\n", 3, "variables of host 'w1' must be a mapping"),
        ("all:\n  hosts:\n    ok:\n    w[1:x]:\n", 4, "bad host range 'w[1:x]'"),
        ("web: [a, b]\n", 1, "group 'web' must be a mapping"),
        ("- a\n- b\n", 1, "must be a mapping of group names"),
        ("", 1, "YAML inventory is empty"),
        ("plugin: aws_ec2\n", 1, "inventory plugin configuration"),
        (
            "a:\n  children:\n    b:\n      children:\n        a:\n",
            5,
            "group 'a' is its own ancestor: a -> b -> a",
        ),
        ("a:\n  vars:\n    ansible_group_priority: top\n", 3, "must be an integer"),
    ],
)
def test_errors_name_file_and_line(write_tree, text: str, line: int, message: str) -> None:
    root = write_tree({"inv/hosts.yml": text})
    with pytest.raises(InputError) as err:
        Inventory.load(str(root / "inv/hosts.yml"))
    assert message in str(err.value)
    assert str(err.value).startswith(f"{root / 'inv/hosts.yml'}:{line}: ")
