"""Fuzzing the command-line parsers: ``-e`` values, host patterns and ``--limit``, ``k=v`` text.

Property: any input gives a value of the documented shape or one InputError (``split_args`` and
``parse_kv`` document ValueError) -- never another exception, never a hang.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import pytest
import yaml
from hypothesis import example, given
from hypothesis import strategies as st

from fleet.cli.common import parse_extra_vars
from fleet.errors import InputError, Location
from fleet.inventory import Inventory
from fleet.inventory.patterns import split_pattern, split_subscript
from fleet.playbook.kv import (
    COMMAND_MODULES,
    FILE_ACTIONS,
    join_args,
    module_args,
    parse_kv,
    split_args,
)
from tests.unit.fuzz.support import fuzz_settings, guarded, outcome

# -- -e ----------------------------------------------------------------------------------------

KV_CHARS = list("ab_1 =\"'\\{}%#\n\t") + ["{{", "}}", "{%", "%}", "é", "\\n", "\\x4", "\\N{", "\\U0011ffff"]
kv_texts = st.lists(st.sampled_from(KV_CHARS), max_size=25).map("".join)
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=6)),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)),
    max_leaves=10)
extra_values = st.one_of(
    kv_texts,
    json_values.map(json.dumps),
    json_values.map(lambda v: "---\n" + yaml.safe_dump(v)),
    st.text(max_size=20).map(lambda t: "{" + t),
    st.sampled_from(["@", "@/nonexistent/x.yml", "{1: 2}", "{[a]: 1}", "{a: 1, a: 2}", "---", "{{ x }}=1",
                     "a=\\N{NO SUCH NAME}", "a=\\UFFFFFFFF", "{a: !!python/object:os.system x}",
                     "a=" + "[" * 2000, "{" * 3000, "--- &a [*a, *a]"]),
)


@fuzz_settings(300)
@given(values=st.lists(extra_values, min_size=1, max_size=3))
@example(values=["{1: 2}"])  # found: a non-string variable name was accepted
@example(values=["a=\\N{NO SUCH NAME}"])
@example(values=["{" * 3000])
def test_extra_vars(values: list[str]) -> None:
    result = outcome(lambda: parse_extra_vars(tuple(values)), allowed=(InputError,))
    if not isinstance(result, InputError):
        assert isinstance(result, dict)
        assert all(isinstance(key, str) for key in result), result


def test_extra_vars_file_errors_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "vars.yml"
    path.write_text("- 1\n")
    with pytest.raises(InputError) as info:
        parse_extra_vars((f"@{path}",))
    assert str(path) in str(info.value)
    path.write_text("a: [\n")
    with pytest.raises(InputError) as info:
        parse_extra_vars((f"@{path}",))
    assert f"{path}:" in str(info.value)


# -- host patterns ------------------------------------------------------------------------------

INVENTORY = """\
[web]
web1
web2
web10
[db]
db1
web2
[all:vars]
x=1
[prod:children]
web
[other]
192.0.2.1
fe80::1
"""
GROUPS = ("web", "db", "prod", "other", "all", "ungrouped")


@pytest.fixture(scope="module")
def inventory(tmp_path_factory: pytest.TempPathFactory) -> Inventory:
    path = tmp_path_factory.mktemp("patterns") / "hosts.ini"
    path.write_text(INVENTORY)
    return Inventory.load(str(path))


PATTERN_ATOMS = st.one_of(
    st.sampled_from([*GROUPS, "web1", "web2", "db1", "localhost", "::1", "192.0.2.1", "fe80::1", "nope",
                     "web*", "w?b1", "~web[0-9]+", "~(", "~[", "[", "]", "*", "web[0]", "web[-1]", "web[1:]",
                     "web[:1]", "web[0:99999]", "web[99]", "web[" + "9" * 5000 + "]", "web[-" + "9" * 30 + "]",
                     "&", "!", ":", ",", " ", "&web", "!db", "@", "web[1-2]", "[a:b]", "~(a+)+b", "é"]),
    st.text(max_size=6),
)
patterns = st.lists(PATTERN_ATOMS, min_size=1, max_size=5).flatmap(
    lambda atoms: st.sampled_from([":", ",", ":&", ":!", " "]).map(lambda sep: sep.join(atoms)))


@fuzz_settings(400)
@given(pattern=patterns, limit=st.one_of(st.none(), patterns))
@example(pattern="web[" + "9" * 5000 + "]", limit=None)  # found: ValueError (int digit limit)
@example(pattern="web:99999999", limit=None)
@example(pattern="all", limit="@")
def test_host_patterns(inventory: Inventory, pattern: str, limit: str | None) -> None:
    result = outcome(lambda: inventory.select(pattern, limit), allowed=(InputError,))
    if isinstance(result, InputError):
        return
    names = [host.name for host in result]
    assert len(names) == len(set(names))
    for name in names:
        assert name in inventory.hosts or name in ("localhost", "127.0.0.1", "::1")


@fuzz_settings(150)
@given(a=st.sampled_from(GROUPS), b=st.sampled_from(GROUPS))
def test_host_pattern_set_operations(inventory: Inventory, a: str, b: str) -> None:
    def names(pattern: str) -> set[str]:
        return {host.name for host in inventory.select(pattern)}

    assert names(f"{a}:{b}") == names(a) | names(b) == names(f"{a},{b}")
    assert names(f"{a}:&{b}") == names(a) & names(b)
    assert names(f"{a}:!{b}") == names(a) - names(b)
    assert names(f"!{b}") == names("all") - names(b)


@fuzz_settings(200)
@given(text=st.text(max_size=30))
def test_split_pattern_and_subscript(text: str) -> None:
    parts = guarded(lambda: split_pattern(text))
    for part in parts:
        assert part == part.strip() and part
        expr, subscript = guarded(functools.partial(split_subscript, part))
        assert isinstance(expr, str) and (subscript is None or isinstance(subscript[0], int))


# -- k=v ------------------------------------------------------------------------------------------


@fuzz_settings(400)
@given(text=kv_texts)
@example(text="a=\\N{NO SUCH NAME}")  # documented ValueError, not UnicodeDecodeError shown raw
@example(text="a='")
@example(text="{{ a }")
def test_kv(text: str) -> None:
    result = outcome(lambda: parse_kv(text), allowed=(ValueError,))
    if isinstance(result, ValueError):
        assert str(result)
        return
    pairs, rest = result
    assert all(key.isidentifier() for key in pairs)
    assert all(isinstance(value, str) for value in pairs.values())
    assert all(isinstance(token, str) and token for token in rest)


@fuzz_settings(200)
@given(words=st.lists(st.text(st.sampled_from("abc/.-_=1"), min_size=1, max_size=6), max_size=6))
def test_split_args_plain_words(words: list[str]) -> None:
    """Without quotes, Jinja2 or newlines, splitting is str.split and joining undoes it."""
    text = " ".join(words)
    assert split_args(text) == text.split()
    assert join_args(split_args(text)) == " ".join(text.split())


MODULES = sorted({"file", "copy", "debug", "set_fact", "meta", "include_role", *COMMAND_MODULES,
                  *FILE_ACTIONS})


@fuzz_settings(300)
@given(module=st.sampled_from(MODULES), raw=st.one_of(kv_texts, json_values, st.integers(), st.floats()))
@example(module="shell", raw="echo {{ x")
@example(module="file", raw="path=\\N{NOPE}")
def test_module_args(module: str, raw: object) -> None:
    where = Location("site.yml", 7)
    result = outcome(lambda: module_args(module, raw, where), names=("site.yml:",), line=True,
                     allowed=(InputError,))
    if not isinstance(result, InputError):
        assert isinstance(result, dict)
