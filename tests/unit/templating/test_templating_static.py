"""Static checks run before any host is contacted: check_syntax and referenced_names."""

from __future__ import annotations

from typing import Any

import pytest

from fleet.errors import Location, TemplateError
from fleet.templating import Templar


@pytest.fixture(scope="module")
def templar() -> Templar:
    return Templar()


NAMES: list[tuple[Any, set[str]]] = [
    ("plain text", set()),
    ("{{ a }}", {"a"}),
    ("{{ a.b.c }} {{ d['e'] }}", {"a", "d"}),
    ("{{ a | default('x') }}", set()),
    ("{{ a | d('x') }}", set()),
    ("{{ a.b | default(c) }}", {"c"}),  # the default's argument is not guarded
    ("{{ (a + b) | default(0) }}", set()),
    ("{{ a | upper | default('x') }}", set()),
    ("{{ a if a is defined else 'x' }}", set()),
    ("{% if a is defined %}{{ a }}{% endif %}", set()),  # guarded anywhere in the template
    ("{% if a is undefined %}x{% else %}{{ a }}{% endif %}", set()),
    ("{% if a is none %}{{ a }}{% endif %}", {"a"}),  # only defined/undefined guard
    ("{{ a is defined and b }}", {"b"}),
    ("{% for x in items %}{{ x.name }} {{ loop.index }}{% endfor %}", {"items"}),
    ("{% for k, v in d.items() %}{{ k }}={{ v }}{% endfor %}", {"d"}),
    ("{% set y = z %}{{ y }}", {"z"}),
    ("{% macro m(p) %}{{ p }}{{ other }}{% endmacro %}{{ m(1) }}", {"other"}),
    ("{% macro m() %}{{ caller() }}{% endmacro %}{% call m() %}{{ inner }}{% endcall %}", {"inner"}),
    ("{{ lookup('env', 'HOME') }} {{ query('file', f) }} {{ x | default(omit) }}", {"f"}),
    ("{{ range(3) | list }} {{ dict(a=1) }}", set()),
    ("{{ hostvars[inventory_hostname]['ansible_host'] }}", {"hostvars", "inventory_hostname"}),
    ({"k": "{{ a }}", "l": ["{{ b }}", {"m": "{{ c | default(1) }}"}], "{{ key }}": 1}, {"a", "b", "key"}),
]


@pytest.mark.parametrize(("value", "expected"), NAMES)
def test_referenced_names(templar: Templar, value: Any, expected: set[str]) -> None:
    assert templar.referenced_names(value) == expected


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("a == 1", {"a"}),
        ("result is changed and other is defined", {"result"}),
        (["x | bool", "y is defined", True], {"x"}),
        ("{{ z }}", {"z"}),
    ],
)
def test_referenced_names_of_bare_expressions(templar: Templar, expr: Any, expected: set[str]) -> None:
    assert templar.referenced_names(expr, bare=True) == expected


def test_referenced_names_are_cached(templar: Templar) -> None:
    templar.referenced_names("{{ cached_name }}")
    assert templar._names[("{{ cached_name }}", False)] == frozenset({"cached_name"})


def test_referenced_names_syntax_error(templar: Templar) -> None:
    with pytest.raises(TemplateError, match="template syntax error"):
        templar.referenced_names("{{ a + }}")


def test_check_syntax_walks_containers(templar: Templar) -> None:
    templar.check_syntax({"a": ["{{ ok }}", {"b": "{% if x %}y{% endif %}"}], "c": 3})
    with pytest.raises(TemplateError) as info:
        templar.check_syntax({"a": ["{{ ok }}", {"b": "{% if x %}y"}]}, Location("play.yml", 7))
    assert info.value.location == Location("play.yml", 7)
    assert "Unexpected end of template" in info.value.message
    with pytest.raises(TemplateError, match="No filter named 'nofilter'"):
        templar.check_syntax(["{{ x | nofilter }}"])
