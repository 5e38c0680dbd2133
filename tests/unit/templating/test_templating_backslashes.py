"""Backslashes in Jinja string constants inside ``{{ }}`` are doubled before Jinja reads them,
as Ansible does for every templated string that is not a template file."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from fleet.templating import Templar
from fleet.yamlsrc import loads

PLAYBOOK_VALUES = r"""
single: '{{ "v12" | regex_replace("v(\d+)", "\1") }}'
double: "{{ 'v12' | regex_replace('v(\\d+)', '\\1') }}"
plain: x{{ 'v12' | regex_replace('v(\d+)', '<\1>') }}
lengths: '{{ ["a\nb"|length, "\1"|length, "\d"|length, "\\"|length, "\t"|length] }}'
outside: 'a\nb {{ "\1" | length }}'
block: '{% if "\1" | length == 2 %}two{% endif %}{% set z = "\1" %}{{ z|length }}x'
"""


@pytest.mark.parametrize("key", ["single", "double", "plain", "lengths", "outside", "block"])
def test_backslashes_as_ansible(key: str, ansible_render: Callable[..., Any]) -> None:
    source = loads(PLAYBOOK_VALUES)[key]
    assert Templar().render(source, {}) == ansible_render(source)


def test_the_regex_backreference_survives() -> None:
    source = loads(PLAYBOOK_VALUES)["single"]
    assert Templar().render(source, {}) == "12"


def test_conditionals_are_not_escaped() -> None:
    # Ansible evaluates when: without the escaping ({% if %} in 2.18, escape_backslashes=False in 2.19)
    assert Templar().truth(r'"\1" | length == 1', {})


def test_template_files_are_not_escaped() -> None:
    assert Templar().render_file(r'{{ "a\tb" }}', {}) == "a\tb"
