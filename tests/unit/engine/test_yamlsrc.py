"""Line-aware YAML loading gives the same values as PyYAML's safe loader, plus locations."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from fleet import yamlsrc
from fleet.errors import InputError, Location
from fleet.yamlsrc import SourceDict, SourceList, loads

SCALARS = """\
plain: web01.example.test
yes_word: yes
no_word: No
on_word: on
true_word: True
int: 42
negative: -7
octal: 0o17
hex: 0x1f
float: 1.5
exp: 6.02e+23
inf: .inf
nan_text: .nan
dotted: .hidden
version: 1.2.3
null_word: null
tilde: ~
empty:
date: 2020-01-02
quoted_int: "42"
quoted_bool: 'yes'
ip: 10.0.0.1
dash_text: -abc
plus_text: +abc
time_like: 12:30
merge:
  <<: {inherited: 1}
  own: 2
"""


def test_scalars_resolve_as_pyyaml_safe_load() -> None:
    expected = yaml.safe_load(SCALARS)
    loaded = loads(SCALARS, "vars.yml")
    assert loaded == expected
    plain = {SourceDict: dict, SourceList: list}
    loaded_types = {k: plain.get(type(v), type(v)) for k, v in loaded.items()}
    assert loaded_types == {k: type(v) for k, v in expected.items()}


def test_resolution_is_per_value_not_per_position() -> None:
    """The resolver remembers tags by text: the same text quoted and plain still differ."""
    loaded = loads("a: '1'\nb: 1\nc: '1'\nd: 1\n")
    assert loaded == {"a": "1", "b": 1, "c": "1", "d": 1}


def test_mappings_and_lists_carry_their_line() -> None:
    loaded = loads("top:\n  - x\n  - {k: v}\n", "play.yml")
    assert isinstance(loaded, SourceDict) and str(loaded.location) == "play.yml:1"
    assert isinstance(loaded["top"], SourceList) and str(loaded["top"].location) == "play.yml:2"
    assert str(loaded["top"][1].location) == "play.yml:3"


def test_anchors_and_aliases_still_work() -> None:
    loaded = loads("base: &b {x: 1}\nother: *b\nname: &n web\nalias: *n\n")
    assert loaded["other"] == {"x": 1} and loaded["alias"] == "web"


def test_duplicate_key_names_its_line() -> None:
    with pytest.raises(InputError) as info:
        loads("a: 1\nb: 2\na: 3\n", "inv.yml")
    assert "duplicate key 'a'" in info.value.message and str(info.value.location) == "inv.yml:3"


@pytest.mark.parametrize(("text", "line", "words"), [
    # a quote left open on line 5 of 7: PyYAML gives up at the end (line 8), the error is on line 5
    ("- hosts: all\n  gather_facts: false\n  tasks:\n    - name: one\n      debug: {msg: \"open}\n"
     "    - name: two\n      debug: {msg: ok}\n", 5,
     "found unexpected end of stream while scanning a quoted scalar that starts at column 20"),
    ("a: 1\nb: [1, 2\nc: 3\n", 3, "(while parsing a flow sequence that starts at line 2, column 4)"),
    ("a: 'x", 1, "while scanning a quoted scalar that starts at column 4"),
    ("a: 1\nb: c: d\n", 2, "mapping values are not allowed"),
])
def test_a_syntax_error_names_the_line_where_the_problem_starts(text: str, line: int, words: str) -> None:
    with pytest.raises(InputError) as info:
        yamlsrc.loads(text, "f.yml")
    assert info.value.location == Location("f.yml", line), str(info.value)
    assert words in info.value.message


def test_read_text_names_binary_and_non_utf8_bytes(tmp_path: Path) -> None:
    path = tmp_path / "f.yml"
    path.write_bytes(b"\xef\xbb\xbfa: 1\n")
    assert yamlsrc.read_text(path) == "a: 1\n"
    path.write_bytes(b"a: 1\nb: \xff\n")
    with pytest.raises(InputError, match=r"f.yml:2: file is not UTF-8 text \(a binary file\?\): byte 0xff at byte "
                                         r"offset 8"):
        yamlsrc.read_text(path)
    path.write_bytes(b"a: 1\n\0")
    with pytest.raises(InputError, match=r"f.yml:2: vars file is binary, not text: a NUL byte at byte offset 5"):
        yamlsrc.read_text(path, "vars file")
