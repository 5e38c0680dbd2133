"""Executable (dynamic) inventory scripts."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from fleet.errors import InputError
from fleet.inventory import Inventory

LIST_WITH_META = {
    "webservers": {"hosts": ["w1", "w2"], "vars": {"http_port": 80}},
    "atlanta": ["w1", "db1"],
    "southeast": {"children": ["atlanta"], "vars": {"region": "se"}},
    "_meta": {"hostvars": {"w1": {"ansible_host": "10.0.0.1"}, "db1": {"role": "db"}}},
}


def make_script(tmp_path: Path, body: str, name: str = "inventory.py") -> Path:
    """Write an executable Python inventory script; ``body`` runs with ``args`` = sys.argv."""
    path = tmp_path / name
    path.write_text(f"#!{sys.executable}\nimport json, sys\nargs = sys.argv[1:]\n{body}\n")
    os.chmod(path, 0o755)
    return path


def test_list_with_meta_hostvars(tmp_path: Path) -> None:
    script = make_script(
        tmp_path,
        f"assert args == ['--list'], args\nprint(json.dumps({LIST_WITH_META!r}))",
    )
    inv = Inventory.load(str(script))
    assert list(inv.hosts) == ["w1", "w2", "db1"]
    assert inv.group_hosts("southeast") == ["w1", "db1"]
    assert inv.group_names("w1") == ["atlanta", "southeast", "webservers"]
    assert inv.host_vars_merged("w1") == {
        "region": "se",
        "http_port": 80,
        "ansible_host": "10.0.0.1",
    }
    assert inv.host_vars_merged("db1") == {"region": "se", "role": "db"}
    layers = inv.host_layers("db1")
    assert [(layer.kind, layer.source) for layer in layers] == [
        ("inventory group", f"{script} --list"),
        ("inventory host", f"{script} --list"),
    ]


def test_without_meta_asks_each_host(tmp_path: Path) -> None:
    calls = tmp_path / "calls.log"
    script = make_script(
        tmp_path,
        f"""
with open({str(calls)!r}, 'a') as fh:
    fh.write(' '.join(args) + '\\n')
if args == ['--list']:
    print(json.dumps({{'web': ['w1', 'w2'], 'db': {{'hosts': ['d1']}}}}))
elif args[1] == 'w1':
    print(json.dumps({{'ansible_port': 2201}}))
else:
    print('')
""",
    )
    inv = Inventory.load(str(script))
    assert inv.host_vars_merged("w1") == {"ansible_port": 2201}
    assert inv.host_vars_merged("d1") == {}
    assert sorted(calls.read_text().splitlines()) == [
        "--host d1",
        "--host w1",
        "--host w2",
        "--list",
    ]
    assert [layer.source for layer in inv.host_layers("w1")] == [f"{script} --host w1"]


def test_simplified_group_forms(tmp_path: Path) -> None:
    data = {"all": {"vars": {"a": 1}}, "solo": {"x": 1}, "plain": ["p1"]}
    script = make_script(tmp_path, f"print(json.dumps({data!r} if args == ['--list'] else {{}}))")
    inv = Inventory.load(str(script))
    # A group mapping without hosts/vars/children is "host with vars" (the legacy form).
    assert inv.group_hosts("solo") == ["solo"]
    assert inv.groups["solo"].vars == {"x": 1}
    assert inv.group_hosts("plain") == ["p1"]
    assert inv.host_vars_merged("p1") == {"a": 1}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("sys.stderr.write('boom'); sys.exit(3)", "failed with exit code 3: {script} --list: boom"),
        ("print('{not json')", "{script} --list printed invalid JSON (line 1, column 2)"),
        ("print('[1, 2]')", "output must be a JSON object, got list"),
        ("print(json.dumps({'g': {'hosts': 'h1'}}))", "'hosts' of group 'g' must be a list"),
        ("print(json.dumps({'g': ['h'], '_meta': {'hostvars': []}}))", "'_meta.hostvars' must be"),
        (
            "print(json.dumps({'g': ['h'], '_meta': {'hostvars': {'h': 3}}}))",
            "variables of host 'h' must be a mapping",
        ),
    ],
)
def test_script_errors_name_the_script(tmp_path: Path, body: str, message: str) -> None:
    script = make_script(tmp_path, body)
    with pytest.raises(InputError) as err:
        Inventory.load(str(script))
    assert message.format(script=script) in str(err.value)
    assert str(err.value).startswith(f"{script}: ")


def test_bad_host_answer(tmp_path: Path) -> None:
    script = make_script(
        tmp_path, "print(json.dumps({'g': ['h']}) if args == ['--list'] else 'nope')"
    )
    with pytest.raises(InputError) as err:
        Inventory.load(str(script))
    assert f"{script} --host h printed invalid JSON" in str(err.value)


def test_timeout(tmp_path: Path) -> None:
    script = make_script(tmp_path, "import time; time.sleep(5)")
    with pytest.raises(InputError) as err:
        Inventory.load(str(script), script_timeout=0.3)
    assert f"inventory script timed out after 0.3s: {script} --list" in str(err.value)


def test_shebang_without_exec_bit_is_reported(tmp_path: Path) -> None:
    script = make_script(tmp_path, "print('{}')")
    os.chmod(script, 0o644)
    with pytest.raises(InputError) as err:
        Inventory.load(str(script))
    assert "is not executable" in str(err.value)
    assert str(err.value).startswith(f"{script}:1: ")


def test_executable_static_file_is_parsed_not_run(tmp_path: Path) -> None:
    path = tmp_path / "hosts.yml"
    path.write_text(json.dumps({"all": {"hosts": {"h1": None}}}))
    os.chmod(path, 0o755)
    assert list(Inventory.load(str(path)).hosts) == ["h1"]
