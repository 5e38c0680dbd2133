"""Variable layers: inline vars, group_vars/ and host_vars/ (file and directory forms)."""

from __future__ import annotations

import pytest

from fleet.errors import InputError
from fleet.inventory import Inventory

TREE = {
    "inv/hosts.ini": """
        [all:vars]
        shared=ini_all
        [web]
        w1 shared=w1_inline
        [web:vars]
        shared=web_inline
        [prod:children]
        web
        [prod:vars]
        shared=prod_inline
        """,
    "inv/group_vars/all.yml": "shared: gv_all\n",
    "inv/group_vars/prod.yml": "shared: gv_prod\n",
    "inv/group_vars/web/10-base.yml": "shared: gv_web_base\nbase: 1\n",
    "inv/group_vars/web/20-more.yaml": "shared: gv_web_more\n",
    "inv/group_vars/web/sub/30-nested": "nested: true\n",
    "inv/group_vars/web/.hidden.yml": "hidden: true\n",
    "inv/group_vars/web/old.yml~": "backup: true\n",
    "inv/group_vars/web/notes.txt": "txt: true\n",
    "inv/group_vars/web.yml": "ignored_because_dir_wins: true\n",
    "inv/group_vars/unused.yml": "not: loaded\n",
    "inv/host_vars/w1.json": '{"shared": "hv_w1"}',
}


def test_layer_order_and_sources_follow_ansible_precedence(write_tree) -> None:
    root = write_tree(TREE)
    inv = Inventory.load(str(root / "inv/hosts.ini"))
    ini = root / "inv/hosts.ini"
    gv = root / "inv/group_vars"
    assert [(layer.kind, layer.source, dict(layer.values)) for layer in inv.host_layers("w1")] == [
        ("inventory group all", f"{ini}:1", {"shared": "ini_all"}),
        ("inventory group", f"{ini}:9", {"shared": "prod_inline"}),
        ("inventory group", f"{ini}:5", {"shared": "web_inline"}),
        ("inventory group all", str(gv / "all.yml"), {"shared": "gv_all"}),
        ("inventory group", str(gv / "prod.yml"), {"shared": "gv_prod"}),
        ("inventory group", str(gv / "web/10-base.yml"), {"shared": "gv_web_base", "base": 1}),
        ("inventory group", str(gv / "web/20-more.yaml"), {"shared": "gv_web_more"}),
        ("inventory group", str(gv / "web/sub/30-nested"), {"nested": True}),
        ("inventory host", f"{ini}:4", {"shared": "w1_inline"}),
        ("inventory host", str(root / "inv/host_vars/w1.json"), {"shared": "hv_w1"}),
    ]
    assert inv.host_vars_merged("w1") == {"shared": "hv_w1", "base": 1, "nested": True}


@pytest.mark.parametrize(
    ("drop", "expected"),
    [
        ((), "hv_w1"),
        (("inv/host_vars/",), "w1_inline"),
        (("inv/host_vars/", "inv/group_vars/web"), "w1_inline"),
        (("inv/host_vars/", "w1 shared"), "gv_web_more"),
        (("inv/host_vars/", "w1 shared", "inv/group_vars/web"), "gv_prod"),
        (("inv/host_vars/", "w1 shared", "inv/group_vars/web", "inv/group_vars/prod"), "gv_all"),
    ],
)
def test_winning_value_as_sources_are_removed(
    write_tree, drop: tuple[str, ...], expected: str
) -> None:
    files = {k: v for k, v in TREE.items() if not k.startswith(drop)}
    if "w1 shared" in drop:
        files["inv/hosts.ini"] = TREE["inv/hosts.ini"].replace(" shared=w1_inline", "")
    root = write_tree(files)
    inv = Inventory.load(str(root / "inv/hosts.ini"))
    assert inv.host_vars_merged("w1")["shared"] == expected


def test_group_vars_all_beats_inline_vars_of_child_group(write_tree) -> None:
    root = write_tree(
        {"i/hosts": "[web]\nw1\n[web:vars]\nport=8080\n", "i/group_vars/all.yml": "port: 80\n"}
    )
    assert Inventory.load(str(root / "i/hosts")).host_vars_merged("w1") == {"port": 80}


@pytest.mark.parametrize(
    ("files", "used"),
    [
        ({"web.yml": "v: yml", "web.yaml": "v: yaml", "web.json": '{"v": "json"}'}, "yml"),
        ({"web.yaml": "v: yaml", "web.json": '{"v": "json"}'}, "yaml"),
        ({"web.json": '{"v": "json"}'}, "json"),
        ({"web": "v: bare", "web.yml": "v: yml"}, "bare"),
    ],
)
def test_first_matching_vars_file_wins(write_tree, files: dict[str, str], used: str) -> None:
    tree = {"i/hosts": "[web]\nw1\n"}
    tree.update({f"i/group_vars/{name}": text for name, text in files.items()})
    root = write_tree(tree)
    assert Inventory.load(str(root / "i/hosts")).host_vars_merged("w1") == {"v": used}


def test_group_order_depth_then_priority_then_name(write_tree) -> None:
    root = write_tree(
        {
            "i/hosts": """
                [a]
                h
                [b]
                h
                [c]
                h
                [c:vars]
                ansible_group_priority=0
                """,
            "i/group_vars/a.yml": "who: a\n",
            "i/group_vars/b.yml": "who: b\n",
            "i/group_vars/c.yml": "who: c\n",
        }
    )
    inv = Inventory.load(str(root / "i/hosts"))
    assert inv.hosts["h"].groups == ["all", "c", "a", "b"]
    assert inv.host_vars_merged("h") == {"who": "b"}


def test_priority_reorders_siblings(write_tree) -> None:
    root = write_tree(
        {"i/hosts": "[a]\nh\n[b]\nh\n[a:vars]\nansible_group_priority=10\nwho=a\n[b:vars]\nwho=b\n"}
    )
    inv = Inventory.load(str(root / "i/hosts"))
    assert inv.hosts["h"].groups == ["all", "b", "a"]
    assert inv.host_vars_merged("h") == {"who": "a"}


def test_group_vars_priority_has_no_effect(write_tree) -> None:
    """Ansible reads ansible_group_priority from the inventory source only."""
    root = write_tree(
        {"i/hosts": "[a]\nh\n[b]\nh\n", "i/group_vars/a.yml": "ansible_group_priority: 10\n"}
    )
    inv = Inventory.load(str(root / "i/hosts"))
    assert inv.hosts["h"].groups == ["all", "a", "b"]
    assert inv.host_vars_merged("h") == {"ansible_group_priority": 10}


def test_host_vars_directory_form(write_tree) -> None:
    root = write_tree(
        {
            "i/hosts.yml": "all:\n  hosts:\n    db1:\n",
            "i/host_vars/db1/main.yml": "a: 1\nb: 1\n",
            "i/host_vars/db1/vault.yml": "b: 2\n",
        }
    )
    inv = Inventory.load(str(root / "i/hosts.yml"))
    assert inv.host_vars_merged("db1") == {"a": 1, "b": 2}
    assert [layer.source for layer in inv.host_layers("db1")] == [
        str(root / "i/host_vars/db1/main.yml"),
        str(root / "i/host_vars/db1/vault.yml"),
    ]


def test_values_stay_raw_templates(write_tree) -> None:
    root = write_tree(
        {"i/hosts": "h1\n", "i/group_vars/all.yml": "url: 'http://{{ inventory_hostname }}'\n"}
    )
    inv = Inventory.load(str(root / "i/hosts"))
    assert inv.host_vars_merged("h1") == {"url": "http://{{ inventory_hostname }}"}


def test_implicit_localhost_layers(write_tree) -> None:
    root = write_tree(
        {
            "i/hosts": "[web]\nw1\n[all:vars]\na=1\n",
            "i/group_vars/all.yml": "b: 2\n",
            "i/host_vars/localhost.yml": "c: 3\n",
        }
    )
    inv = Inventory.load(str(root / "i/hosts"))
    assert "localhost" not in inv.hosts
    assert [(layer.kind, layer.source) for layer in inv.host_layers("localhost")] == [
        ("inventory group all", f"{root / 'i/hosts'}:3"),
        ("inventory group all", str(root / "i/group_vars/all.yml")),
        ("inventory host", "implicit localhost"),
        ("inventory host", str(root / "i/host_vars/localhost.yml")),
    ]
    assert inv.host_vars_merged("localhost") == {
        "a": 1,
        "b": 2,
        "ansible_connection": "local",
        "c": 3,
    }


def test_unknown_host_is_key_error(write_tree) -> None:
    root = write_tree({"i/hosts": "h1\n"})
    with pytest.raises(KeyError):
        Inventory.load(str(root / "i/hosts")).host_layers("nope")


@pytest.mark.parametrize(
    ("name", "text", "line", "message"),
    [
        ("web.yml", "a: 1\nb: [\n", 2, "YAML syntax error"),  # where [ opens, not past the end
        ("web.yml", "- a\n- b\n", 1, "must hold a mapping of variables, got list"),
        ("web.yml", "a: 1\na: 2\n", 2, "duplicate key 'a'"),
        ("web.yml", "$ANSIBLE_VAULT;1.1;AES256\n6162\n", 1, "vault-encrypted"),
    ],
)
def test_bad_group_vars_file(write_tree, name: str, text: str, line: int, message: str) -> None:
    root = write_tree({"i/hosts": "[web]\nw1\n", f"i/group_vars/{name}": text})
    with pytest.raises(InputError) as err:
        Inventory.load(str(root / "i/hosts"))
    assert message in str(err.value)
    assert str(err.value).startswith(f"{root / 'i/group_vars' / name}:{line}: ")


def test_bad_host_vars_file_reported_when_used(write_tree) -> None:
    root = write_tree({"i/hosts": "h1\n", "i/host_vars/h1.yml": "a: [\n"})
    inv = Inventory.load(str(root / "i/hosts"))
    with pytest.raises(InputError) as err:
        inv.host_layers("h1")
    assert str(err.value).startswith(f"{root / 'i/host_vars/h1.yml'}:1: YAML syntax error")
