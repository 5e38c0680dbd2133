"""Directory sources, several sources merged, host lists, missing sources."""

from __future__ import annotations

import sys

import pytest

from fleet.errors import InputError
from fleet.inventory import Inventory
from fleet.inventory.sources import is_ignored


def test_directory_source_reads_files_sorted_and_skips_ignored(write_tree) -> None:
    root = write_tree(
        {
            "inv/01-web.ini": "[web]\nw1\n",
            "inv/02-db.yml": "db:\n  hosts:\n    d1:\n",
            "inv/03-extra": "[web]\nw2\n",
            "inv/sub/04-more.yaml": "all:\n  hosts:\n    s1:\n",
            "inv/README.md": "[bogus]\nnot-a-host\n",
            "inv/old.retry": "retry-host\n",
            "inv/hosts.orig": "orig-host\n",
            "inv/hosts~": "backup-host\n",
            "inv/ansible.cfg": "[defaults]\n",
            "inv/notes.txt": "txt-host\n",
            "inv/.hidden": "hidden-host\n",
            "inv/group_vars/web.yml": "x: 1\n",
            "inv/host_vars/w1.yml": "y: 2\n",
        }
    )
    inv = Inventory.load(str(root / "inv"))
    assert list(inv.hosts) == ["w1", "d1", "w2", "s1"]
    assert inv.group_hosts("web") == ["w1", "w2"]
    assert inv.host_vars_merged("w1") == {"x": 1, "y": 2}
    assert [layer.source for layer in inv.host_layers("w2")] == [
        str(root / "inv/group_vars/web.yml")
    ]


@pytest.mark.parametrize(
    ("name", "ignored"),
    [
        ("hosts", False),
        ("hosts.ini", False),
        ("hosts.yml", False),
        ("ec2.py", False),
        ("group_vars", True),
        ("host_vars", True),
        ("README.md", True),
        ("site.retry", True),
        ("hosts.orig", True),
        ("hosts.ini~", True),
        ("ec2.cfg", True),
        ("x.pyc", True),
        (".git", True),
    ],
)
def test_ignore_rules(name: str, ignored: bool) -> None:
    assert is_ignored(name) is ignored


def test_two_sources_merge_hosts_groups_and_vars(write_tree) -> None:
    root = write_tree(
        {
            "a/hosts.ini": "[web]\nw1 x=1 y=1\n[web:vars]\ng=a\n",
            "a/group_vars/web.yml": "from_a: 1\n",
            "b/hosts.yml": """
                web:
                  hosts:
                    w1:
                      y: 2
                    w2:
                  vars:
                    g: b
                db:
                  hosts:
                    d1:
                """,
            "b/group_vars/web.yml": "from_b: 1\n",
        }
    )
    inv = Inventory.load([str(root / "a/hosts.ini"), str(root / "b/hosts.yml")])
    assert list(inv.hosts) == ["w1", "w2", "d1"]
    assert inv.group_hosts("web") == ["w1", "w2"]
    assert inv.host_vars_merged("w1") == {"g": "b", "from_a": 1, "from_b": 1, "x": 1, "y": 2}
    assert [layer.source for layer in inv.host_layers("w1")] == [
        f"{root / 'a/hosts.ini'}:3",
        f"{root / 'b/hosts.yml'}:7",
        str(root / "a/group_vars/web.yml"),
        str(root / "b/group_vars/web.yml"),
        f"{root / 'a/hosts.ini'}:2",
        f"{root / 'b/hosts.yml'}:4",
    ]


def test_later_source_may_add_vars_to_earlier_group(write_tree) -> None:
    root = write_tree({"one.ini": "[web]\nw1\n", "two.ini": "[web:vars]\nx=1\n"})
    inv = Inventory.load([root / "one.ini", root / "two.ini"])
    assert inv.host_vars_merged("w1") == {"x": 1}


def test_same_directory_group_vars_read_once(write_tree) -> None:
    root = write_tree(
        {"inv/a.ini": "[web]\nw1\n", "inv/b.ini": "[web]\nw2\n", "inv/group_vars/web": "x: 1\n"}
    )
    inv = Inventory.load([str(root / "inv/a.ini"), str(root / "inv/b.ini")])
    assert [layer.source for layer in inv.host_layers("w2")] == [str(root / "inv/group_vars/web")]


@pytest.mark.parametrize(
    ("source", "hosts", "port"),
    [
        ("host1,host2,", ["host1", "host2"], None),
        ("localhost,", ["localhost"], None),
        (" a , b:2222 ", ["a", "b"], 2222),
        ("web[1:3],", ["web1", "web2", "web3"], None),
    ],
)
def test_host_list(source: str, hosts: list[str], port: int | None) -> None:
    inv = Inventory.load([source])
    assert list(inv.hosts) == hosts
    assert inv.group_hosts("ungrouped") == hosts
    assert inv.host_vars_merged(hosts[-1]).get("ansible_port") == port


def test_single_string_source(write_tree) -> None:
    root = write_tree({"hosts": "h1\n"})
    assert list(Inventory.load(str(root / "hosts")).hosts) == ["h1"]


def test_missing_source(tmp_path) -> None:
    with pytest.raises(InputError) as err:
        Inventory.load(str(tmp_path / "nope"))
    assert f"inventory source not found: {tmp_path / 'nope'}" in str(err.value)


def test_inventory_file_is_first_source(write_tree) -> None:
    root = write_tree({"a.ini": "[g]\nh1\n", "b.ini": "[g2]\nh1\n"})
    inv = Inventory.load([root / "a.ini", root / "b.ini"])
    magic = inv.magic_vars("h1")
    assert magic["inventory_file"] == str(root / "a.ini")
    assert magic["inventory_dir"] == str(root)
    assert magic["group_names"] == ["g", "g2"]


def test_no_extension_file_sniffed_as_yaml_or_ini(write_tree) -> None:
    root = write_tree(
        {
            "yamlish": "# comment\nall:\n  hosts:\n    y1:\n",
            "iniish": "# comment\n[g]\nh1 a=1\n",
            "ini_port_first": "h2:22\n",
        }
    )
    inv = Inventory.load([root / "yamlish", root / "iniish", root / "ini_port_first"])
    assert list(inv.hosts) == ["y1", "h1", "h2"]
    assert inv.host_vars_merged("h2") == {"ansible_port": 22}


def test_script_in_directory_source(write_tree) -> None:
    root = write_tree(
        {
            "inv/static.ini": "[web]\nw1\n",
            "inv/dynamic.py": f'#!{sys.executable}\nprint(\'{{"web": ["w2"]}}\')\n',
        }
    )
    inv = Inventory.load(str(root / "inv"))
    assert inv.group_hosts("web") == ["w2", "w1"]


def test_byte_order_mark_and_crlf(tmp_path) -> None:
    path = tmp_path / "hosts"
    path.write_bytes(b"\xef\xbb\xbf[web]\r\nw1 a=1\r\n")
    inv = Inventory.load(str(path))
    assert inv.group_hosts("web") == ["w1"]
    assert inv.host_vars_merged("w1") == {"a": 1}


def test_relative_sources_give_relative_layer_sources(write_tree, monkeypatch) -> None:
    root = write_tree(
        {"inv/prod/hosts.ini": "[web]\nw1 a=1\n", "inv/prod/group_vars/web.yml": "b: 2\n"}
    )
    monkeypatch.chdir(root)
    inv = Inventory.load("inv/prod/hosts.ini")
    assert [layer.source for layer in inv.host_layers("w1")] == [
        "inv/prod/group_vars/web.yml",
        "inv/prod/hosts.ini:2",
    ]
    assert inv.hosts["w1"].inventory_file == str(root / "inv/prod/hosts.ini")


@pytest.mark.parametrize(("data", "line", "words"), [
    (b"[web]\nw1\n\x00\x00junk\n", 3, "binary, not text: a NUL byte at byte offset 9"),
    (b"all:\n  hosts:\n    caf\xe9: {}\n", 3,
     "not UTF-8 text (a binary file?): byte 0xe9 at byte offset 21 (invalid continuation byte)"),
    (b"\x1f\x8b\x08\x00", 1, "not UTF-8 text (a binary file?): byte 0x8b at byte offset 1 (invalid start byte)"),
])
def test_a_binary_file_names_the_file_line_and_byte_offset(tmp_path, data: bytes, line: int, words: str) -> None:
    path = tmp_path / "hosts"
    path.write_bytes(data)
    with pytest.raises(InputError) as info:
        Inventory.load(str(path))
    assert str(info.value) == f"{path}:{line}: inventory file is {words}"


def test_binary_vars_files_and_non_executable_programs_are_named(tmp_path) -> None:
    (tmp_path / "inv.ini").write_text("[web]\nw1\n")
    (tmp_path / "group_vars").mkdir()
    (tmp_path / "group_vars" / "web.yml").write_bytes(b"a: 1\nb: \x00\n")
    with pytest.raises(InputError) as info:
        Inventory.load(str(tmp_path / "inv.ini")).host_vars_merged("w1")
    assert str(info.value) == f"{tmp_path / 'group_vars' / 'web.yml'}:2: vars file is binary, not text: " \
                              "a NUL byte at byte offset 8"
    program = tmp_path / "program"
    program.write_bytes(b"\x7fELF\x02\x01\x01\x00")
    with pytest.raises(InputError, match=r"program:1: this file is a program \(ELF\) but is not executable"):
        Inventory.load(str(program))
