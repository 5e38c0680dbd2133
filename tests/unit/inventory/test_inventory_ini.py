"""INI inventories, with the examples of Ansible's "How to build your inventory" and ini plugin."""

from __future__ import annotations

from typing import Any

import pytest

from fleet.errors import InputError
from fleet.inventory.ini import parse_value

BASIC = """
mail.example.com

[webservers]
foo.example.com
bar.example.com

[dbservers]
one.example.com
two.example.com
three.example.com
"""


def test_basic_docs_example(load_text) -> None:
    inv = load_text("hosts", BASIC)
    assert list(inv.hosts) == [
        "mail.example.com",
        "foo.example.com",
        "bar.example.com",
        "one.example.com",
        "two.example.com",
        "three.example.com",
    ]
    assert inv.groups_map() == {
        "all": list(inv.hosts),
        "ungrouped": ["mail.example.com"],
        "webservers": ["foo.example.com", "bar.example.com"],
        "dbservers": ["one.example.com", "two.example.com", "three.example.com"],
    }
    assert inv.groups["all"].children == ["ungrouped", "webservers", "dbservers"]
    assert inv.groups["webservers"].parents == ["all"]


def test_children_and_group_vars_docs_example(load_text) -> None:
    inv = load_text(
        "hosts.ini",
        """
        [atlanta]
        host1
        host2

        [raleigh]
        host2
        host3

        [southeast:children]
        atlanta
        raleigh

        [southeast:vars]
        some_server=foo.southeast.example.com
        halon_system_timeout=30
        self_destruct_countdown=60
        escape_pods=2

        [usa:children]
        southeast
        northeast

        [northeast]
        host4
        """,
    )
    assert inv.group_hosts("southeast") == ["host1", "host2", "host3"]
    # Ansible's order: a group's own hosts, then its descendants level by level.
    assert inv.group_hosts("usa") == ["host4", "host1", "host2", "host3"]
    assert inv.groups["southeast"].vars == {
        "some_server": "foo.southeast.example.com",
        "halon_system_timeout": 30,
        "self_destruct_countdown": 60,
        "escape_pods": 2,
    }
    assert inv.groups["usa"].depth == 1
    assert inv.groups["southeast"].depth == 2
    assert inv.groups["atlanta"].depth == 3
    assert inv.hosts["host2"].groups == ["all", "usa", "southeast", "atlanta", "raleigh"]
    assert inv.group_names("host2") == ["atlanta", "raleigh", "southeast", "usa"]


def test_ini_plugin_docs_example_values(load_text) -> None:
    inv = load_text(
        "hosts",
        """
        [web]
        host1
        host2 ansible_port=222 # defined inline, interpreted as an integer

        [web:vars]
        http_port=8080 # all members of 'web' will inherit these
        myvar=23 # defined in a :vars section, interpreted as a string

        [web:children] # child groups will automatically add their hosts to parent group
        apache
        nginx

        [apache]
        tomcat1
        tomcat2 myvar=34 # host specific vars override group vars
        tomcat3 mysecret="'03#pa33w0rd'" # proper quoting to prevent value changes

        [nginx]
        jenkins1

        [nginx:vars]
        has_java = True # vars in child groups override same in parent

        [all:vars]
        has_java = False # 'all' is 'top' parent
        """,
    )
    assert inv.hosts["host2"].vars == {"ansible_port": 222}
    # Ansible runs :vars values through literal_eval too: a trailing "# ..." is a Python
    # comment, so these are ints and booleans, whatever the docs' comment says.
    assert inv.groups["web"].vars == {"http_port": 8080, "myvar": 23}
    assert inv.groups["nginx"].vars == {"has_java": True}
    assert inv.groups["all"].vars == {"has_java": False}
    assert inv.hosts["tomcat2"].vars == {"myvar": 34}
    assert inv.hosts["tomcat3"].vars == {"mysecret": "03#pa33w0rd"}
    assert inv.group_hosts("web") == ["host1", "host2", "tomcat1", "tomcat2", "tomcat3", "jenkins1"]
    assert inv.host_vars_merged("jenkins1") == {"has_java": True, "http_port": 8080, "myvar": 23}
    assert inv.host_vars_merged("tomcat2")["myvar"] == 34


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2222", 2222),
        ("-5", -5),
        ("0", 0),
        ("1.5", 1.5),
        ("True", True),
        ("False", False),
        ("None", None),
        ("[1, 'a']", [1, "a"]),
        ("(1, 2)", [1, 2]),
        ("{'a': 1}", {"a": 1}),
        ("'quoted'", "quoted"),
        ("0123", "0123"),
        ("10-5", "10-5"),
        ("FALSE", "FALSE"),
        ("yes", "yes"),
        ("10.0.0.1", "10.0.0.1"),
        ("web.example.com", "web.example.com"),
        ("1+2j", "(1+2j)"),
        ("", ""),
        ("/usr/bin/python3", "/usr/bin/python3"),
        ("{{ lookup('env', 'HOME') }}", "{{ lookup('env', 'HOME') }}"),
    ],
)
def test_parse_value(text: str, expected: Any) -> None:
    assert parse_value(text) == expected


def test_host_line_quoting_and_port(load_text) -> None:
    inv = load_text(
        "hosts",
        """
        jumper ansible_port=5555 ansible_host=192.0.2.50
        badwolf.example.com:5309
        spaced motd="hello world" ansible_port=2200
        [db]
        db[01:03].example.com:2222 role=db
        """,
    )
    assert inv.hosts["jumper"].vars == {"ansible_port": 5555, "ansible_host": "192.0.2.50"}
    assert inv.hosts["badwolf.example.com"].vars == {"ansible_port": 5309}
    assert inv.hosts["spaced"].vars == {"motd": "hello world", "ansible_port": 2200}
    assert list(inv.group_hosts("db")) == [
        "db01.example.com",
        "db02.example.com",
        "db03.example.com",
    ]
    assert inv.hosts["db02.example.com"].vars == {"ansible_port": 2222, "role": "db"}
    assert inv.group_hosts("ungrouped") == ["jumper", "badwolf.example.com", "spaced"]


def test_comments_and_vars_section_whole_line_value(load_text) -> None:
    inv = load_text(
        "hosts",
        """
        ; a comment
        # another
        [g]
        h1
        [g:vars]
        greeting = hello big world
        path=/opt/app
        """,
    )
    assert inv.groups["g"].vars == {"greeting": "hello big world", "path": "/opt/app"}


def test_group_priority_is_not_a_variable(load_text) -> None:
    inv = load_text(
        "hosts",
        """
        [a]
        h1
        [a:vars]
        ansible_group_priority=10
        x=1
        """,
    )
    assert inv.groups["a"].priority == 10
    assert inv.groups["a"].ansible_group_priority == 10
    assert inv.groups["a"].vars == {"x": 1}


def test_vars_section_before_group_declaration_is_allowed(load_text) -> None:
    inv = load_text(
        "hosts",
        """
        [later:vars]
        x=1
        [parent:children]
        later
        [later]
        h1
        """,
    )
    assert inv.groups["later"].vars == {"x": 1}
    assert inv.group_hosts("parent") == ["h1"]


def test_host_in_group_leaves_ungrouped(load_text) -> None:
    inv = load_text("hosts", "h1\nh2\n[g]\nh1\n")
    assert inv.group_hosts("ungrouped") == ["h2"]
    assert inv.group_names("h1") == ["g"]
    assert inv.group_names("h2") == ["ungrouped"]


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("[web]\nh1\n[web:child]\nx\n", 3, "unknown type 'child'"),
        ("[web]\nh1\n[web servers]\n", 3, "invalid section header"),
        ("[web]\nh1 novalue\n", 2, "expected key=value host variable"),
        ("[web]\nh1\n[web:vars]\njustaword\n", 4, "expected key=value in [web:vars]"),
        ("[web]\nh1\n[p:children]\nbad name\n", 4, "expected a group name"),
        (
            "[p:children]\nweb\nother\n[web]\nh1\n",
            3,
            "names group 'other', which is never declared",
        ),
        ("[ghost:vars]\nx=1\n", 1, "[ghost:vars] is for group 'ghost'"),
        ("[web]\nh[1:x]\n", 2, "bad host range 'h[1:x]'"),
        ("[web]\nh1 x='unclosed\n", 2, "cannot parse host line"),
        ("[web]\nh1:\n", 2, "trailing ':'"),
        ("---\nall:\n", 1, "YAML"),
        ("[web]\nh1\n[web:vars]\nansible_group_priority=high\n", 4, "must be an integer"),
        ("[a:children]\nb\n[b:children]\na\n", 4, "is its own ancestor"),
        ("[a:children]\na\n", 2, "cannot be a child of itself"),
    ],
)
def test_errors_name_file_and_line(write_tree, text: str, line: int, message: str) -> None:
    from fleet.inventory import Inventory

    root = write_tree({"inv/hosts.ini": text})
    with pytest.raises(InputError) as err:
        Inventory.load(str(root / "inv/hosts.ini"))
    assert message in str(err.value)
    assert str(err.value).startswith(f"{root / 'inv/hosts.ini'}:{line}: ")
