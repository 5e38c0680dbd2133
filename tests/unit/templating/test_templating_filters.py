"""Filters, mostly with the examples from Ansible's documentation."""

from __future__ import annotations

import os
from typing import Any

import pytest

from fleet.errors import TemplateError
from fleet.templating import Templar
from fleet.yamlsrc import loads

DEFAULTS = {"a": {"x": "default", "y": "default"}, "b": "default", "c": "default"}
PATCH = {"a": {"y": "patch", "z": "patch"}, "b": "patch"}
USERS = [
    {"name": "alice", "groups": ["wheel"], "authorized": ["/tmp/alice/onekey.pub", "/tmp/alice/twokey.pub"]},
    {"name": "bob", "groups": ["docker"], "authorized": ["/tmp/bob/id_rsa.pub"]},
]
VARS: dict[str, Any] = {
    "defaults": DEFAULTS, "patch": PATCH, "users": USERS, "empty": "", "zero": 0,
    "ld": {"a": ["default"]}, "lp": {"a": ["patch"]},
    "nd": {"a": [1, 1, 2, 3]}, "np": {"a": [3, 4, 5, 5]},
    "hosts": {"web1": {"ip": "10.0.0.1"}, "web2": {"ip": "10.0.0.2"}},
}


@pytest.fixture(scope="module")
def templar() -> Templar:
    return Templar()


CASES: list[tuple[str, Any]] = [
    # default / d
    ("{{ missing | default('x') }}", "x"),
    ("{{ missing | d(5) }}", 5),
    ("{{ empty | default('x') }}", ""),
    ("{{ empty | default('x', true) }}", "x"),
    ("{{ zero | d(7, true) }}", 7),
    # bool
    *[(f"{{{{ {v!r} | bool }}}}", True) for v in ("yes", "Yes", "on", "ON", "1", "true", "True", "y")],
    *[(f"{{{{ {v!r} | bool }}}}", False) for v in ("no", "off", "0", "false", "n", "", "maybe")],
    ("{{ 1 | bool }}", True), ("{{ 0 | bool }}", False), ("{{ none | bool }}", False),
    # int / float / string / join / split (Jinja built-ins and Ansible's split)
    ("{{ '42' | int }}", 42), ("{{ 'x' | int }}", 0), ("{{ '0x1A' | int(base=16) }}", 26),
    ("{{ '1.5' | float }}", 1.5), ("{{ 3 | string }}", "3"),
    ("{{ ['a', 'b'] | join(',') }}", "a,b"),
    ("{{ 'a,b,c' | split(',') }}", ["a", "b", "c"]), ("{{ 'a b  c' | split }}", ["a", "b", "c"]),
    # JSON / YAML
    ("{{ {'b': 1, 'a': [1, 2]} | to_json }}", '{"b": 1, "a": [1, 2]}'),
    ("{{ {'b': 1, 'a': [1]} | to_nice_json }}", '{\n    "a": [\n        1\n    ],\n    "b": 1\n}'),
    ("{{ '{\"a\": [1, true, null]}' | from_json }}", {"a": [1, True, None]}),
    ("{{ {'a': [1, 2], 'b': 'x'} | to_yaml }}", "a: [1, 2]\nb: x\n"),
    ("{{ {'a': {'b': [1, 2]}} | to_nice_yaml }}", "a:\n    b:\n    - 1\n    - 2\n"),
    ("{{ {'a': {'b': [1, 2]}} | to_nice_yaml(indent=2) }}", "a:\n  b:\n  - 1\n  - 2\n"),
    ("{{ 'a: 1\nb: [x, y]' | from_yaml }}", {"a": 1, "b": ["x", "y"]}),
    ("{{ 'a: 1\n---\nb: 2' | from_yaml_all }}", [{"a": 1}, {"b": 2}]),
    # regex_replace
    ("{{ 'ansible' | regex_replace('^a.*i(.*)$', 'a\\1') }}", "able"),
    ("{{ 'foobar' | regex_replace('^f.*o(.*)$', '\\1') }}", "bar"),
    ("{{ 'localhost:80' | regex_replace('^(?P<host>.+):(?P<port>\\d+)$', '\\g<host>, \\g<port>') }}",
     "localhost, 80"),
    ("{{ 'localhost:80' | regex_replace(':80') }}", "localhost"),
    ("{{ 'Foo\nfoo' | regex_replace('^foo', 'bar', multiline=True, ignorecase=True) }}", "bar\nbar"),
    ("{{ 'aaa' | regex_replace('a', 'b', count=2) }}", "bba"),
    # regex_search / regex_findall / regex_escape
    ("{{ 'server1/database42' | regex_search('database[0-9]+') }}", "database42"),
    ("{{ 'foo\nBAR' | regex_search('^bar', multiline=True, ignorecase=True) }}", "BAR"),
    ("{{ 'server1/database42' | regex_search('server([0-9]+)/database([0-9]+)', '\\1', '\\2') }}",
     ["1", "42"]),
    ("{{ '21/42' | regex_search('(?P<dividend>[0-9]+)/(?P<divisor>[0-9]+)', '\\g<dividend>', "
     "'\\g<divisor>') }}", ["21", "42"]),
    ("{{ 'ansible' | regex_search('foobar') }}", None),
    ("{{ 'Some DNS servers are 8.8.8.8 and 8.8.4.4' | "
     "regex_findall('\\b(?:[0-9]{1,3}\\.){3}[0-9]{1,3}\\b') }}", ["8.8.8.8", "8.8.4.4"]),
    ("{{ 'CAR\ntar\nfoo\nbar\n' | regex_findall('^.ar$', multiline=True, ignorecase=True) }}",
     ["CAR", "tar", "bar"]),
    ("{{ '^f.*o(.*)$' | regex_escape() }}", "\\^f\\.\\*o\\(\\.\\*\\)\\$"),
    ("{{ '^f.*o(.*)$' | regex_escape('posix_basic') }}", "\\^f\\.\\*o(\\.\\*)\\$"),
    # base64, hashing, quoting
    ("{{ 'Hello fleet' | b64encode }}", "SGVsbG8gZmxlZXQ="),
    ("{{ 'SGVsbG8gZmxlZXQ=' | b64decode }}", "Hello fleet"),
    ("{{ 'test1' | hash('sha1') }}", "b444ac06613fc8d63795be9ad0beaf55011936ac"),
    ("{{ 'test1' | hash('md5') }}", "5a105e8b9d40e1329780d62ea2265d8a"),
    ("{{ 'test1' | md5 }}", "5a105e8b9d40e1329780d62ea2265d8a"),
    ("{{ 'test1' | sha1 }}", "b444ac06613fc8d63795be9ad0beaf55011936ac"),
    ("{{ 'test1' | checksum }}", "b444ac06613fc8d63795be9ad0beaf55011936ac"),
    ("{{ \"it's here\" | quote }}", "'it'\"'\"'s here'"),
    ("{{ 'simple' | quote }}", "simple"),
    ("{{ none | quote }}", "''"),
    # paths
    ("{{ '/etc/asdf/foo.txt' | basename }}", "foo.txt"),
    ("{{ '/etc/asdf/foo.txt' | dirname }}", "/etc/asdf"),
    ("{{ 'nginx.conf' | splitext }}", ("nginx", ".conf")),
    ("{{ '/etc/x/../y' | normpath }}", "/etc/y"),
    ("{{ ['/etc', 'app', 'x.conf'] | path_join }}", "/etc/app/x.conf"),
    ("{{ '~/x' | expanduser }}", os.path.expanduser("~/x")),
    # combine (recursive= and list_merge=)
    ("{{ {'a': 1, 'b': 2} | combine({'b': 3, 'c': 4}) }}", {"a": 1, "b": 3, "c": 4}),
    ("{{ defaults | combine(patch) }}", {"a": {"y": "patch", "z": "patch"}, "b": "patch", "c": "default"}),
    ("{{ defaults | combine(patch, recursive=True) }}",
     {"a": {"x": "default", "y": "patch", "z": "patch"}, "b": "patch", "c": "default"}),
    ("{{ [{'a': 1}, {'b': 2}, {'a': 3}] | combine }}", {"a": 3, "b": 2}),
    ("{{ {'a': 1} | combine({'b': 2}, {'c': 3}) }}", {"a": 1, "b": 2, "c": 3}),
    ("{{ ld | combine(lp) }}", {"a": ["patch"]}),
    ("{{ ld | combine(lp, list_merge='keep') }}", {"a": ["default"]}),
    ("{{ ld | combine(lp, list_merge='append') }}", {"a": ["default", "patch"]}),
    ("{{ ld | combine(lp, list_merge='prepend') }}", {"a": ["patch", "default"]}),
    ("{{ nd | combine(np, list_merge='append_rp') }}", {"a": [1, 1, 2, 3, 4, 5, 5]}),
    ("{{ nd | combine(np, list_merge='prepend_rp') }}", {"a": [3, 4, 5, 5, 1, 1, 2]}),
    ("{{ {'x': {'a': [1]}} | combine({'x': {'a': [2]}}, recursive=True, list_merge='append') }}",
     {"x": {"a": [1, 2]}}),
    ("{{ {'x': {'a': [1]}} | combine({'x': {'a': [2]}}, list_merge='append') }}", {"x": {"a": [2]}}),
    # dict2items / items2dict
    ("{{ {'a': 1, 'b': 2} | dict2items }}", [{"key": "a", "value": 1}, {"key": "b", "value": 2}]),
    ("{{ {'x': '/a'} | dict2items(key_name='file', value_name='path') }}", [{"file": "x", "path": "/a"}]),
    ("{{ [{'key': 'Application', 'value': 'payment'}] | items2dict }}", {"Application": "payment"}),
    ("{{ [{'fruit': 'apple', 'color': 'red'}] | items2dict(key_name='fruit', value_name='color') }}",
     {"apple": "red"}),
    # set theory
    ("{{ [1, 2, 2, 3, 1] | unique }}", [1, 2, 3]),
    ("{{ [{'a': 1}, {'a': 1}] | unique }}", [{"a": 1}]),
    ("{{ [1, 2, 5, 1, 3, 4, 10] | union([1, 2, 3, 4, 5, 11, 99]) }}", [1, 2, 5, 3, 4, 10, 11, 99]),
    ("{{ [1, 2, 5, 3, 4, 10] | intersect([1, 2, 3, 4, 5, 11, 99]) }}", [1, 2, 5, 3, 4]),
    ("{{ [1, 2, 5, 1, 3, 4, 10] | difference([1, 2, 3, 4, 5, 11, 99]) }}", [10]),
    ("{{ [1, 2, 5, 1, 3, 4, 10] | symmetric_difference([1, 2, 3, 4, 5, 11, 99]) }}", [10, 11, 99]),
    ("{{ ['a', 'A'] | union(['a']) }}", ["a", "A"]),
    # flatten
    ("{{ [3, [4, 2]] | flatten }}", [3, 4, 2]),
    ("{{ [3, [4, [2]]] | flatten(levels=1) }}", [3, 4, [2]]),
    ("{{ [1, none, [2, 'null']] | flatten }}", [1, 2]),
    ("{{ [1, none, [2]] | flatten(skip_nulls=false) }}", [1, None, 2]),
    # zip / product / subelements / extract
    ("{{ [1, 2, 3] | zip(['a', 'b', 'c']) | list }}", [(1, "a"), (2, "b"), (3, "c")]),
    ("{{ [1, 2, 3] | zip(['a', 'b']) }}", [(1, "a"), (2, "b")]),
    ("{{ [1, 2] | zip_longest(['a']) }}", [(1, "a"), (2, None)]),
    ("{{ ['foo', 'bar'] | product(['com']) | map('join', '.') | join(',') }}", "foo.com,bar.com"),
    ("{{ users | subelements('groups') | map(attribute='1') | list }}", ["wheel", "docker"]),
    ("{{ users | subelements('authorized') | map(attribute='0.name') | list }}", ["alice", "alice", "bob"]),
    ("{{ users | subelements('missing', skip_missing=True) }}", []),
    ("{{ [0, 2] | map('extract', ['x', 'y', 'z']) | list }}", ["x", "z"]),
    ("{{ ['x', 'y'] | map('extract', {'x': 42, 'y': 31}) | list }}", [42, 31]),
    ("{{ ['web2', 'web1'] | map('extract', hosts, 'ip') | list }}", ["10.0.0.2", "10.0.0.1"]),
    # ternary, type_debug, mandatory, min/max built-ins, map/select
    ("{{ (1 == 1) | ternary('restart', 'continue') }}", "restart"),
    ("{{ false | ternary('yes', 'no') }}", "no"),
    ("{{ none | ternary('yes', 'no', 'null') }}", "null"),
    ("{{ 'x' | type_debug }}", "str"), ("{{ {} | type_debug }}", "dict"), ("{{ 1 | type_debug }}", "int"),
    ("{{ none | type_debug }}", "NoneType"), ("{{ [1] | type_debug }}", "list"),
    ("{{ 'present' | mandatory }}", "present"),
    ("{{ [3, 1, 2] | min }}", 1), ("{{ [3, 1, 2] | max }}", 3),
    ("{{ [1, 2, 3, 4] | select('even') | list }}", [2, 4]),
    ("{{ [1, 2, 3, 4] | reject('even') | list }}", [1, 3]),
    ("{{ ['a', 'b'] | map('upper') | list }}", ["A", "B"]),
    # fully qualified names work too
    ("{{ {'a': 1} | ansible.builtin.combine({'b': 2}) }}", {"a": 1, "b": 2}),
    ("{{ 'a' is ansible.builtin.match('a') }}", True),
]


@pytest.mark.parametrize(("source", "expected"), CASES)
def test_filter(templar: Templar, source: str, expected: Any) -> None:
    assert templar.render(source, VARS) == expected


def test_type_debug_reports_builtin_names_for_yaml_containers(templar: Templar) -> None:
    doc = loads("m: {a: 1}\nl: [1]\n", "v.yml")
    assert templar.render("{{ m | type_debug }}/{{ l | type_debug }}", doc) == "dict/list"


def test_yaml_and_json_dump_loaded_yaml_and_mappings(templar: Templar) -> None:
    doc = loads("m: {b: 1, a: [x]}\n", "v.yml")
    assert templar.render("{{ m | to_yaml }}", doc) == "a: [x]\nb: 1\n"
    assert templar.render("{{ m | to_json }}", doc) == '{"b": 1, "a": ["x"]}'


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("{{ missing_var | mandatory }}", "mandatory variable 'missing_var' not defined"),
        ("{{ missing_var | mandatory('set missing_var please') }}", "set missing_var please"),
        ("{{ {'a': 1} | combine([1]) }}", "combine: expected dictionaries"),
        ("{{ {'a': [1]} | combine({'a': [2]}, list_merge='bogus') }}", "list_merge must be one of"),
        ("{{ 'x' | hash('nope') }}", "unsupported hash type 'nope'"),
        ("{{ 'x' | regex_search('x', 'bad') }}", "unknown argument 'bad'"),
        ("{{ 'aaa' | regex_replace('a', 'b', mandatory_count=2) }}", "should match 2 times"),
        ("{{ [1] | dict2items }}", "dict2items requires a dictionary"),
        ("{{ [{'k': 1}] | items2dict }}", "items2dict requires each dictionary"),
        ("{{ users | subelements('missing') }}", "could not find 'missing' key"),
        ("{{ 'not json' | from_json }}", "JSONDecodeError"),
    ],
)
def test_filter_errors(templar: Templar, source: str, message: str) -> None:
    with pytest.raises(TemplateError) as info:
        templar.render(source, VARS)
    assert message in info.value.message


def test_filters_leave_their_input_alone(templar: Templar) -> None:
    before = {"a": {"x": "default", "y": "default"}, "b": "default", "c": "default"}
    templar.render("{{ defaults | combine(patch, recursive=True) }}", VARS)
    assert before == DEFAULTS
