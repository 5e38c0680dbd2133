"""Fuzzing the inventory parsers: INI, YAML and dynamic inventory scripts.

Property: loading any file gives an Inventory whose views all work, or one InputError naming
the file (and the line, for INI and YAML files) -- never another exception, never a hang.
"""

from __future__ import annotations

import itertools
import json
import os
from pathlib import Path
from typing import Any

import yaml
from hypothesis import example, given
from hypothesis import strategies as st

from fleet.errors import InputError
from fleet.inventory import Inventory
from tests.unit.fuzz.support import fuzz_settings, outcome

# -- building blocks ---------------------------------------------------------------------------

NAME_CHARS = st.sampled_from(list("abcxyz019-_.") + ["é", "名", "\u2028", "\x00", "\ufeff", " ",
                                                      ":", "[", "]", "=", "#", ";", "'", '"',
                                                      "\\", "*", "!", "&", ",", "{", "}"])
names = st.text(NAME_CHARS, min_size=0, max_size=12)
plain_names = st.text(st.sampled_from("abcdwebdb01-_."), min_size=1, max_size=8)
numbers = st.one_of(
    st.integers(-3, 40).map(str),
    # small, or past MAX_RANGE_HOSTS: a range of 10**5 hosts is valid but slow to fuzz with
    st.integers(2 * 10**6, 10**30).map(str),
    st.just("9" * 5000),  # past Python's int-from-string digit limit
    st.sampled_from(["", "x", "a", "Z", "01", "007", "0x1f", "1e3", "-0", "٣", "1_0", " 1"]),
)


@st.composite
def host_ranges(draw: st.DrawFn) -> str:
    """``prefix[begin:end(:step)]suffix``, well formed or not."""
    begin, end = draw(numbers), draw(numbers)
    step = draw(st.one_of(st.just(""), numbers.map(lambda s: ":" + s)))
    body = draw(st.sampled_from([f"{begin}:{end}{step}", f"{begin}:{end}", f"{begin}", f"{begin}:",
                                 f":{end}", f"{begin}:{end}:{end}:{end}"]))
    text = f"{draw(plain_names)}[{body}]{draw(st.sampled_from(['', '.example.com', '-x', '[1:2]']))}"
    return text if draw(st.booleans()) else text + ":" + draw(numbers)


values = st.one_of(
    st.sampled_from(["1", "-7", "True", "None", "[1, 2", "{'a': 1}", "(1,)", "b'x'", "1e999",
                     "'''", '"x', "{1: [2, {3}]}", "1j", "...", "[" * 200 + "]" * 200,
                     "9" * 5000, "-" + "9" * 5000, "0o17", "{'a': b'\\xff'}", "set()"]),
    st.text(max_size=20),
)
host_entries = st.one_of(host_ranges(), names, plain_names)


@st.composite
def ini_lines(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["section", "host", "vars", "child", "comment", "junk"]))
    if kind == "section":
        name = draw(st.one_of(plain_names, names))
        suffix = draw(st.sampled_from(["", ":vars", ":children", ":hosts", ":other", ":", ""]))
        return draw(st.sampled_from([f"[{name}{suffix}]", f"[{name}{suffix}", f"[ {name} ]",
                                     f"[{name}{suffix}] # c", f"[{name}{suffix}]]"]))
    if kind == "host":
        pairs = draw(st.lists(st.tuples(st.one_of(plain_names, names), values), max_size=3))
        return " ".join([draw(host_entries)] + [f"{k}={v}" for k, v in pairs])
    if kind == "vars":
        key = draw(st.one_of(plain_names, st.just("ansible_group_priority"), names))
        return f"{key}={draw(values)}" if draw(st.booleans()) else key
    if kind == "child":
        return draw(st.one_of(plain_names, names))
    if kind == "comment":
        return draw(st.sampled_from(["# x", "; y", "", "   "]))
    return draw(st.text(max_size=30))


ini_texts = st.lists(ini_lines(), max_size=14).map("\n".join)


def check_inventory(inv: Inventory) -> None:
    """Every view of a loaded inventory works."""
    assert "all" in inv.groups and "ungrouped" in inv.groups
    for name in list(inv.hosts)[:50]:
        inv.host_layers(name)
        inv.magic_vars(name)
        inv.group_names(name)
    inv.select("all")
    inv.groups_map()
    json.dumps(inv.to_ansible_json(export=True), default=str)
    try:
        inv.graph()
    except InputError as exc:  # bounded output, not about any file
        assert "more than 1000000 lines" in str(exc)


def load(path: Path, line: bool, names: tuple[str, ...] = ()) -> Any:
    result = outcome(lambda: Inventory.load(str(path), script_timeout=10),
                     names=names or (str(path),), line=line, allowed=(InputError,))
    if isinstance(result, Inventory):
        # host_vars files are read on first use: a bad one is an InputError then
        outcome(lambda: check_inventory(result), names=names or (str(path),), line=line,
                allowed=(InputError,))
    return result


# -- INI ----------------------------------------------------------------------------------------


@fuzz_settings(250)
@given(text=ini_texts)
@example(text="web[0:99999999999999]")  # found: expanded 10**14 names (memory, hang)
@example(text="h port=" + "9" * 5000)  # found: ValueError (int digit limit)
@example(text="h:" + "9" * 5000)  # found: ValueError (int digit limit in the port)
@example(text="[g:vars]\nansible_group_priority=" + "9" * 5000 + "\n[g]")
@example(text="web[a:Z]")
def test_ini_inventory(tmp_path: Path, text: str) -> None:
    path = tmp_path / "hosts.ini"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    load(path, line=True)


@fuzz_settings(100)
@given(data=st.binary(max_size=200))
@example(data=b"[web]\nh1 x=\xff\xfe\n")
@example(data=b"\xef\xbb\xbf[web]\nh1\n")
def test_inventory_bytes(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "hosts"
    path.write_bytes(data)
    load(path, line=False)


# -- YAML ---------------------------------------------------------------------------------------

scalars = st.one_of(st.none(), st.booleans(), st.integers(-(10**20), 10**20),
                    st.floats(allow_nan=True), st.text(max_size=10), host_ranges())
yaml_data = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4),
    st.dictionaries(st.one_of(st.text(max_size=8), st.integers(), st.none(), st.booleans()),
                    inner, max_size=4)), max_leaves=20)
group_keys = st.one_of(st.sampled_from(["hosts", "vars", "children"]), st.text(max_size=8))


@st.composite
def yaml_groups(draw: st.DrawFn, depth: int = 0) -> Any:
    """A group that is mostly right: hosts/vars/children with odd values here and there."""
    group: dict[Any, Any] = {}
    for key in draw(st.lists(group_keys, max_size=3, unique=True)):
        if key == "hosts":
            group[key] = draw(st.one_of(
                st.dictionaries(host_entries, st.one_of(st.none(), yaml_data), max_size=4),
                yaml_data))
        elif key == "children" and depth < 3:
            group[key] = draw(st.one_of(
                st.dictionaries(plain_names, yaml_groups(depth + 1), max_size=3), yaml_data))
        else:
            group[key] = draw(yaml_data)
    return draw(st.one_of(st.just(group), scalars)) if depth else group


yaml_inventories = st.one_of(
    st.dictionaries(st.one_of(plain_names, st.just("all"), st.integers()), yaml_groups(),
                    max_size=3),
    yaml_data,
)


def dump(data: Any) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


@fuzz_settings(250)
@given(data=yaml_inventories)
@example(data={"all": {"hosts": {"web[1:99999999999999]": None}}})
@example(data={"all": {"children": {"all": None}}})
@example(data={"a": {"children": {"b": {"children": {"a": None}}}}})
@example(data={"all": {"vars": {"ansible_group_priority": [1]}}})
@example(data={"all": {"hosts": {None: None}}})
@example(data={"all": {"hosts": {"h:" + "9" * 5000: None}}})
@example(data={"0": {"hosts": "0[0:0]:99999999"}})  # found: error without a line (hosts as a string)
@example(data={"0": {"hosts": ""}})  # found: error without a line
def test_yaml_inventory(tmp_path: Path, data: Any) -> None:
    path = tmp_path / "hosts.yml"
    path.write_text(dump(data), encoding="utf-8")
    load(path, line=True)


@fuzz_settings(100)
@given(text=st.text(st.sampled_from(list("ab:- \n[]{}&*!|>'\"#%@`,?0") + ["é", "\t"]), max_size=60))
@example(text="a: &x [*x]")
@example(text="[" * 5000)
@example(text="all:\n  hosts:\n    ? [a]\n    : 1\n")
def test_yaml_inventory_text(tmp_path: Path, text: str) -> None:
    path = tmp_path / "hosts.yml"
    path.write_text(text, encoding="utf-8")
    load(path, line=True)


# -- dynamic inventory scripts -----------------------------------------------------------------

json_data = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=8)),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=20)


@st.composite
def list_outputs(draw: st.DrawFn) -> Any:
    """``--list`` output shapes: groups as mappings or lists, ``_meta.hostvars`` or not."""
    hosts = draw(st.lists(st.one_of(plain_names, names), max_size=4))
    out: dict[str, Any] = {}
    for group in draw(st.lists(st.one_of(plain_names, st.just("all"), st.just("ungrouped")), max_size=3)):
        out[group] = draw(st.one_of(
            st.just(hosts),
            st.fixed_dictionaries({}, optional={
                "hosts": st.one_of(st.just(hosts), json_data),
                "vars": json_data,
                "children": st.one_of(st.lists(st.one_of(plain_names, st.just(group)), max_size=3), json_data)}),
            json_data))
    if draw(st.booleans()):
        out["_meta"] = draw(st.one_of(
            st.fixed_dictionaries({"hostvars": st.one_of(
                st.dictionaries(st.sampled_from(hosts or ["h"]), json_data, max_size=3), json_data)}),
            json_data))
    return out


def write_script(tmp_path: Path, listing: str, host: str) -> Path:
    (tmp_path / "list.out").write_text(listing, encoding="utf-8", errors="surrogatepass")
    (tmp_path / "host.out").write_text(host, encoding="utf-8", errors="surrogatepass")
    script = tmp_path / "inventory.sh"
    script.write_text(f"#!/bin/sh\nif [ \"$1\" = --list ]; then cat {tmp_path}/list.out; "
                      f"else cat {tmp_path}/host.out; fi\n")
    os.chmod(script, 0o755)
    return script


@fuzz_settings(120)
@given(listing=st.one_of(list_outputs(), json_data), host=json_data)
@example(listing={"0": ["\x00"]}, host=None)  # found: ValueError (NUL in the --host argument)
@example(listing={"g": {"hosts": ["h"], "children": ["g"]}}, host={})
@example(listing={"g": {"children": {"k": 1}}}, host={})
@example(listing={"g": ["h"]}, host=[1])
@example(listing={"g": {"vars": {"ansible_group_priority": "x"}}}, host={})
def test_script_inventory(tmp_path: Path, listing: Any, host: Any) -> None:
    script = write_script(tmp_path, json.dumps(listing), json.dumps(host))
    load(script, line=False)


@fuzz_settings(60)
@given(listing=st.text(max_size=40), host=st.text(max_size=20))
@example(listing="[" * 100000, host="")  # found: RecursionError from json.loads
@example(listing='{"g": ["h"]}', host="{" * 100000)
@example(listing='{"g": ["h"]}', host="\ud800")
@example(listing='{"g": ["h"]}', host='{"x": NaN}')
def test_script_inventory_text(tmp_path: Path, listing: str, host: str) -> None:
    script = write_script(tmp_path, listing, host)
    load(script, line=False)


# -- group_vars / host_vars ----------------------------------------------------------------------

COUNTER = itertools.count()
vars_texts = st.one_of(yaml_data.map(dump), st.text(st.sampled_from(list("ab: -[]{}&*!'\"#\n") + ["é"]), max_size=30))


@fuzz_settings(120)
@given(group=vars_texts, host=vars_texts, host_dir=st.booleans(), name=st.sampled_from(["web", "all", "h1"]))
@example(group="- 1\n", host="", host_dir=False, name="web")
@example(group="a: [\n", host="", host_dir=True, name="all")
def test_vars_files(tmp_path: Path, group: str, host: str, host_dir: bool, name: str) -> None:
    root = tmp_path / f"v{next(COUNTER)}"
    (root / "group_vars").mkdir(parents=True)
    (root / "group_vars" / f"{name}.yml").write_text(group, encoding="utf-8")
    if host_dir:
        (root / "host_vars" / "h1").mkdir(parents=True)
        (root / "host_vars" / "h1" / "10-main.yml").write_text(host, encoding="utf-8")
    else:
        (root / "host_vars").mkdir()
        (root / "host_vars" / "h1.yml").write_text(host, encoding="utf-8")
    (root / "hosts.ini").write_text("[web]\nh1\n", encoding="utf-8")
    files = tuple(str(p) for p in root.rglob("*") if p.is_file())
    load(root / "hosts.ini", line=True, names=files)


# -- deep and wide group graphs -------------------------------------------------------------------


def test_a_chain_of_3000_child_groups(tmp_path: Path) -> None:
    """Found probing: --list and --graph recursed once per level (RecursionError)."""
    lines = [f"[g{i}:children]\ng{i + 1}" for i in range(3000)] + ["[g3000]\nh1"]
    path = tmp_path / "hosts.ini"
    path.write_text("\n".join(lines) + "\n")
    inv = load(path, line=True)
    assert isinstance(inv, Inventory)
    assert list(inv.to_ansible_json())[:3] == ["all", "g0", "g1"]
    assert inv.graph().splitlines()[-1].endswith("--h1")


def test_graph_of_groups_reached_through_many_parents_is_bounded(tmp_path: Path) -> None:
    """40 diamonds: g0 -> a0, b0 -> g1 -> ...: the graph would have 2**40 lines."""
    lines = []
    for i in range(40):
        lines += [f"[g{i}:children]\na{i}\nb{i}", f"[a{i}:children]\ng{i + 1}", f"[b{i}:children]\ng{i + 1}"]
    path = tmp_path / "hosts.ini"
    path.write_text("\n".join(lines + ["[g40]\nh1"]) + "\n")
    inv = load(path, line=True)
    result = outcome(inv.graph, allowed=(InputError,))
    assert isinstance(result, InputError) and "more than 1000000 lines" in str(result)
    assert len(inv.to_ansible_json()) == 1 + 3 * 40 + 1 + 1  # all, the groups, g40, _meta


def reference_list(inv: Inventory) -> dict[str, Any]:
    """The recursive --list of before the fix (without vars), as the reference order."""
    result: dict[str, Any] = {}
    seen = {"all"}

    def add(name: str) -> None:
        group = inv.groups[name]
        entry: dict[str, Any] = {"hosts": list(group.hosts)} if name != "all" else {}
        entry["children"] = list(group.children)
        result[name] = entry
        for child in group.children:
            if child not in seen:
                seen.add(child)
                add(child)
        for key in ("hosts", "children"):
            if key in entry and not entry[key]:
                del entry[key]
        if not entry:
            del result[name]

    add("all")
    return result


def reference_graph(inv: Inventory, name: str, depth: int = 0) -> list[str]:
    prefix = "  |" * depth + "--" if depth else ""
    lines = [f"{prefix}@{name}:"]
    for child in inv.groups[name].children:
        lines += reference_graph(inv, child, depth + 1)
    if name != "all":
        lines += ["  |" * (depth + 1) + "--" + host for host in inv.groups[name].hosts]
    return lines


@fuzz_settings(150)
@given(edges=st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6)), max_size=12),
       members=st.lists(st.tuples(st.integers(0, 6), st.sampled_from(["h1", "h2", "h3"])), max_size=8))
def test_list_and_graph_keep_their_order(tmp_path: Path, edges: list[tuple[int, int]],
                                         members: list[tuple[int, str]]) -> None:
    """Iterative --list and --graph give what the recursive ones gave, on random group DAGs."""
    lines = [f"[g{group}]\n{host}" for group, host in members]
    lines += [f"[g{a}:children]\ng{b}" for a, b in edges if a < b]  # acyclic
    lines += [f"[g{i}]" for i in range(7)]
    path = tmp_path / "hosts.ini"
    path.write_text("\n".join(lines) + "\n")
    inv = Inventory.load(str(path))
    listing = inv.to_ansible_json()
    del listing["_meta"]
    assert listing == reference_list(inv)
    assert list(listing) == list(reference_list(inv))
    assert inv.graph() == "\n".join(reference_graph(inv, "all"))
