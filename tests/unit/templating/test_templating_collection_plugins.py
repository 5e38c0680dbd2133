"""Filters, tests and lookups from collections in fleet's templates (issue 19): found through
the Ansible bridge when first named, rendered as ansible-core's own Templar renders them; fleet's
own filters win; short names only through ansible.builtin; host data stays host data."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from typing import Any

import pytest

from fleet.errors import TemplateError
from fleet.templating import Templar, UnsafeText, is_unsafe
from tests.conftest import require
from tests.unit.templating.conftest import plain

VARIABLES: dict[str, Any] = {
    "people": [{"name": "a", "age": 1}, {"name": "b", "age": 2}],
    "extra": [{"name": "a", "role": "x"}],
    "tree": {"a": {"b": [1, {"c": 2}]}},
    "word": "value",
}
EXPRESSIONS = [
    "{{ word | community.general.dict_kv('key') }}",
    "{{ people | community.general.lists_mergeby(extra, 'name') }}",
    "{{ tree | ansible.utils.to_paths }}",
    "{{ people | community.general.json_query('[].name') }}",  # fleet's own, same answer
    "{{ '10.1.2.3' is ansible.utils.in_any_network(['10.0.0.0/8']) }}",
    "{{ 'a-b' | community.general.lists_union(['b-c']) if false else 'x' }}",
    "{{ lookup('community.general.collection_version', 'community.general') }}",
    "{{ ['a', 'b'] | ansible.builtin.to_json }}",
]


@pytest.fixture(scope="module")
def templar() -> Templar:
    require(importlib.util.find_spec("ansible_collections.community.general") is not None,
            "the 'ansible' package (ansible-core and collections) is not installed (pip install '.[test]')")
    from fleet.bridge import Bridge

    templar = Templar([])
    templar.plugins = Bridge().jinja()
    return templar


@pytest.mark.parametrize("source", EXPRESSIONS)
def test_renders_as_ansible_core_renders(templar: Templar, ansible_render: Callable[..., Any], source: str) -> None:
    assert plain(templar.render(source, VARIABLES)) == plain(ansible_render(source, VARIABLES))


def test_a_lookup_with_options_runs_with_its_own_code(templar: Templar) -> None:
    made = templar.render("{{ query('community.general.random_string', length=12, special=false) }}", {})
    assert len(made) == 1 and len(made[0]) == 12 and made[0].isalnum()


def test_a_lookup_that_needs_ansibles_templar_says_so(templar: Templar) -> None:
    with pytest.raises(TemplateError, match="community.general.dependent.*needs Ansible's own templar"):
        templar.render("{{ query('community.general.dependent', dict(a=[1, 2]), dict(b='[item.a, 3]')) }}", {})


def test_host_data_through_a_collection_filter_is_still_host_data(templar: Templar) -> None:
    result = templar.render("{{ sent | community.general.dict_kv('k') }}", {"sent": UnsafeText("from-host")})
    assert result == {"k": "from-host"} and is_unsafe(result)
    assert not is_unsafe(templar.render("{{ 'ours' | community.general.dict_kv('k') }}", {}))


def test_short_names_only_through_ansible_builtin(templar: Templar) -> None:
    with pytest.raises(TemplateError, match="No filter named 'dict_kv'"):
        templar.render("{{ 'v' | dict_kv('k') }}", {})
    with pytest.raises(TemplateError, match="No filter named 'community.general.no_such_filter'"):
        templar.render("{{ 'v' | community.general.no_such_filter }}", {})
    with pytest.raises(TemplateError, match="unknown lookup plugin 'community.general.no_such_lookup'"):
        templar.render("{{ lookup('community.general.no_such_lookup', 'x') }}", {})


class Spy:
    """A plugin source that records what it is asked and has nothing."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def filter(self, name: str) -> None:
        self.asked.append(name)

    def test(self, name: str) -> None:
        self.asked.append(name)

    def lookup(self, name: str) -> None:
        self.asked.append(name)


def test_fleets_own_filters_win_and_nothing_is_asked_before_a_template_names_it() -> None:
    templar = Templar([])
    spy = Spy()
    templar.plugins = spy
    assert templar.render("{{ people | community.general.json_query('[].name') }}", VARIABLES) == ["a", "b"]
    assert templar.render("{{ '10.0.0.1' | ansible.utils.ipaddr }}", {}) == "10.0.0.1"
    assert spy.asked == []
    with pytest.raises(TemplateError, match="No filter named 'ns.coll.thing'"):
        templar.render("{{ 1 | ns.coll.thing }}", {})
    assert spy.asked == ["ns.coll.thing"]


def test_without_a_source_an_unknown_filter_is_the_usual_error() -> None:
    with pytest.raises(TemplateError, match="No filter named 'community.general.dict_kv'"):
        Templar([]).render("{{ 'v' | community.general.dict_kv('k') }}", {})
