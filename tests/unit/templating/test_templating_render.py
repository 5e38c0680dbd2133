"""Templar: native vs string rendering, containers, caching, file templates, errors, lookups."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from fleet.errors import Location, TemplateError
from fleet.templating import Templar, file_options, is_template
from fleet.yamlsrc import loads

VARS = {"a": 1, "b": [1, 2], "name": "web", "d": {"k": "v"}, "none": None, "flag": True, "s": "x"}


@pytest.fixture
def templar() -> Templar:
    return Templar()


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("{{ a }}", 1),
        ("{{ b }}", [1, 2]),
        ("  {{ b }}  ", [1, 2]),  # whitespace around a single expression: still native
        ("{{ d }}", {"k": "v"}),
        ("{{ flag }}", True),
        ("{{ none }}", None),
        ("{{ a + 1 }}", 2),
        ("{{ b | map('string') }}", ["1", "2"]),  # generators come back as lists
        ("{{ d.keys() }}", ["k"]),
        ("{{ [a, s] }}", [1, "x"]),
        ("{{ s }}\n", "x\n"),  # a str result keeps the whitespace around it
        ("{{ a }}{{ a }}", "11"),  # more than one expression: a string
        ("x{{ a }}", "x1"),
        ("{{ a }} {{ s }}", "1 x"),
        ("a{{ none }}b", "ab"),  # None prints empty, as Ansible's finalize does
        ("{{ b }} items", "[1, 2] items"),
        ("{% if flag %}yes{% endif %}", "yes"),
        ("{# only a comment #}", ""),
        ("{{ d.missing | default('z') }}", "z"),
        ("{{ nothere.deeper.still | default(3) }}", 3),  # undefined chains into default
        ("{{ '{{' }}", "{{"),
    ],
)
def test_render_native_and_string(templar: Templar, source: str, expected: object) -> None:
    assert templar.render(source, VARS) == expected


def test_plain_strings_and_scalars_are_returned_unchanged(templar: Templar) -> None:
    text = "no templates here {not one}"
    assert templar.render(text, VARS) is text
    assert templar.render(42, VARS) == 42
    assert templar.render(None, VARS) is None
    assert templar.compile_count == 0


def test_render_recurses_into_containers(templar: Templar) -> None:
    value = {"name": "{{ name }}", "list": ["{{ a }}", "plain", ("{{ s }}", 2)], "{{ s }}_key": "{{ b }}"}
    assert templar.render(value, VARS) == {
        "name": "web", "list": [1, "plain", ("x", 2)], "x_key": [1, 2]}


def test_untemplated_containers_come_back_as_the_same_object(templar: Templar) -> None:
    value = {"a": [1, "two", {"three": 3}], "b": "plain"}
    assert templar.render(value, VARS) is value


def test_compiled_templates_are_cached(templar: Templar) -> None:
    source = "{{ name }}-{{ a }}"
    assert templar.render(source, VARS) == "web-1"
    assert templar.compile_count == 1
    compiled = templar._templates.data[source]
    assert templar.render(source, {"name": "db", "a": 2}) == "db-2"
    assert templar.compile_count == 1
    assert templar._templates.data[source] is compiled


def test_expression_cache_is_separate_and_reused(templar: Templar) -> None:
    assert templar.evaluate("a == 1", VARS) is True
    assert templar.evaluate("a == 1", {"a": 2}) is False
    assert templar.compile_count == 1
    assert list(templar._expressions.data) == ["a == 1"]


def test_cache_is_bounded() -> None:
    templar = Templar(cache_size=3)
    for i in range(10):
        assert templar.render(f"{{{{ a }}}}-{i}", VARS) == f"1-{i}"
    assert list(templar._templates.data) == ["{{ a }}-7", "{{ a }}-8", "{{ a }}-9"]


def test_variables_mapping_is_not_copied(templar: Templar) -> None:
    class Recording(dict):
        def __init__(self) -> None:
            super().__init__(x=1, y=2, unused=3)
            self.seen: list[str] = []

        def __getitem__(self, key: str) -> object:
            self.seen.append(key)
            return super().__getitem__(key)

        def keys(self) -> Any:
            raise AssertionError("the templar must not copy the variables")

        def __iter__(self) -> Any:
            raise AssertionError("the templar must not iterate the variables")

    variables = Recording()
    assert templar.render("{{ x + y }}", variables) == 3
    assert variables.seen == ["x", "y"]


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("{{ foo }}", "undefined variable 'foo'"),
        ("x {{ foo }} y", "undefined variable 'foo'"),
        ("{{ foo.bar }}", "undefined variable 'foo'"),
        ("{{ d.bar }}", "'dict object' has no attribute 'bar'"),
        ("{{ [foo] }}", "undefined variable 'foo'"),
        ("{% for x in missing_list %}{% endfor %}", "undefined variable 'missing_list'"),
    ],
)
def test_undefined_variable_errors_name_it_and_carry_location(
        templar: Templar, source: str, message: str) -> None:
    with pytest.raises(TemplateError) as info:
        templar.render(source, VARS, Location("site.yml", 12))
    assert info.value.message == message
    assert info.value.location == Location("site.yml", 12)
    assert str(info.value) == f"site.yml:12: {message}"


@pytest.mark.parametrize(
    ("source", "fragment"),
    [
        ("{{ a + }}", "template syntax error: unexpected 'end of print statement'"),
        ("{% if a %}x", "template syntax error: Unexpected end of template"),
        ("{{ a | no_such_filter }}", "No filter named 'no_such_filter'"),
    ],
)
def test_syntax_errors(templar: Templar, source: str, fragment: str) -> None:
    with pytest.raises(TemplateError) as info:
        templar.render(source, VARS, Location("play.yml", 4))
    assert fragment in info.value.message
    assert info.value.location == Location("play.yml", 4)


def test_runtime_errors_become_template_errors(templar: Templar) -> None:
    with pytest.raises(TemplateError, match="ZeroDivisionError: division by zero"):
        templar.render("{{ a / 0 }}", VARS)


@pytest.mark.parametrize(
    "source",
    ["{{ ''.__class__.__mro__ }}", "{{ ''.__class__ }}", "x{{ s.__class__.__base__ }}",
     "{{ lookup.__globals__ }}", "{{ d['__class__'] }}"],
)
def test_sandbox_blocks_unsafe_attributes(templar: Templar, source: str) -> None:
    with pytest.raises(TemplateError, match="unsafe"):
        templar.render(source, VARS)


def test_omit_token(templar: Templar) -> None:
    assert Templar.omit_token.startswith("__omit_place_holder__")
    assert templar.render("{{ omit }}", VARS) == Templar.omit_token
    assert templar.render("{{ missing | default(omit) }}", VARS) == Templar.omit_token
    assert Templar().omit_token == Templar.omit_token


def test_is_template() -> None:
    assert is_template("{{ x }}") and is_template("{% if %}") and is_template("a {# c #}")
    assert not is_template("{ x }") and not is_template("plain")


# ---------------------------------------------------------------------- template files


def test_render_file_uses_template_module_defaults(templar: Templar) -> None:
    text = "[main]\n{% for x in b %}\n  item={{ x }}\n{% endfor %}\nend\n"
    # trim_blocks: the newline after a block tag goes; lstrip_blocks off: indentation stays
    assert templar.render_file(text, VARS) == "[main]\n  item=1\n  item=2\nend\n"


def test_render_file_keeps_leading_spaces_before_blocks(templar: Templar) -> None:
    assert templar.render_file("  {% if flag %}\nx\n  {% endif %}\n", VARS) == "  x\n  "


def test_render_file_keeps_the_trailing_newline_and_normalises_newlines(templar: Templar) -> None:
    assert templar.render_file("value={{ a }}\n", VARS) == "value=1\n"
    assert templar.render_file("value={{ a }}\n\n", VARS) == "value=1\n\n"
    assert templar.render_file("a\r\nb\r\n", VARS) == "a\nb\n"


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({}, "  x\n  "),
        ({"trim_blocks": False}, "  \nx\n  \n"),
        ({"lstrip_blocks": True}, "x\n"),
        ({"trim_blocks": "no", "lstrip_blocks": "yes"}, "\nx\n\n"),
    ],
)
def test_render_file_template_module_options(templar: Templar, options: dict[str, object],
                                             expected: str) -> None:
    text = "  {% if flag %}\nx\n  {% endif %}\n"
    assert templar.render_file(text, VARS, options=file_options(options)) == expected


def test_render_file_is_always_a_string(templar: Templar) -> None:
    assert templar.render_file("{{ b }}", VARS) == "[1, 2]"
    assert templar.render_file("{{ a }}", VARS) == "1"


def test_render_file_errors_carry_the_line_in_the_file(templar: Templar) -> None:
    with pytest.raises(TemplateError) as info:
        templar.render_file("one\ntwo\n{{ nope }}\n", VARS, Location("templates/app.conf.j2"))
    assert info.value.location == Location("templates/app.conf.j2", 3)
    assert info.value.message == "undefined variable 'nope'"
    with pytest.raises(TemplateError) as info:
        templar.render_file("one\n{% if %}\n", VARS, Location("templates/app.conf.j2"))
    assert info.value.location == Location("templates/app.conf.j2", 2)
    with pytest.raises(TemplateError) as info:
        templar.check_file_syntax("one\ntwo\n{% endfor %}\n", Location("t.j2"))
    assert info.value.location == Location("t.j2", 3)


def test_include_from_search_path(tmp_path: Path) -> None:
    (tmp_path / "part.j2").write_text("part {{ a }}\n")
    templar = Templar([tmp_path])
    assert templar.render_file("{% include 'part.j2' %}end\n", VARS) == "part 1\nend\n"


# ---------------------------------------------------------------------- evaluate / truth


@pytest.mark.parametrize(
    ("cond", "expected"),
    [
        (True, True),
        (False, False),
        (None, False),
        ("a == 1", True),
        ("a == 2", False),
        ("b | length > 1", True),
        ("missing is defined", False),
        ("missing is undefined and flag", True),
        (["a == 1", "flag"], True),
        (["a == 1", "not flag"], False),
        ([], True),
        ("{{ a == 1 }}", True),  # Ansible warns about delimiters in when:, but it works
        ("{{ flag }}", True),
        ("{{ 'false' }}", False),  # a rendered string is evaluated again, as Ansible did
        ("", False),
        ("s", True),
        ("none", False),
    ],
)
def test_truth(templar: Templar, cond: object, expected: bool) -> None:
    assert templar.truth(cond, VARS) is expected


def test_evaluate_returns_native_values(templar: Templar) -> None:
    assert templar.evaluate("b + [3]", VARS) == [1, 2, 3]
    assert templar.evaluate("{{ d }}", VARS) == {"k": "v"}
    assert templar.evaluate(7, VARS) == 7


def test_evaluate_errors(templar: Templar) -> None:
    with pytest.raises(TemplateError) as info:
        templar.truth("undefined_thing == 1", VARS, Location("tasks.yml", 9))
    assert str(info.value) == "tasks.yml:9: undefined variable 'undefined_thing'"
    with pytest.raises(TemplateError, match="expression syntax error"):
        templar.evaluate("a ==", VARS)
    with pytest.raises(TemplateError, match="expression syntax error"):
        templar.evaluate("a == 1 b", VARS)


# ---------------------------------------------------------------------- lookups


def test_env_lookup(templar: Templar, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLEET_T1", "one")
    monkeypatch.setenv("FLEET_T2", "two")
    monkeypatch.delenv("FLEET_UNSET", raising=False)
    assert templar.render("{{ lookup('env', 'FLEET_T1') }}", VARS) == "one"
    assert templar.render("{{ lookup('ansible.builtin.env', 'FLEET_T1', 'FLEET_T2') }}", VARS) == "one,two"
    assert templar.render("{{ query('env', 'FLEET_T1', 'FLEET_T2') }}", VARS) == ["one", "two"]
    assert templar.render("{{ q('env', 'FLEET_T1') }}", VARS) == ["one"]
    assert templar.render("{{ lookup('env', 'FLEET_T1', wantlist=True) }}", VARS) == ["one"]
    assert templar.render("{{ lookup('env', 'FLEET_UNSET') }}", VARS) == ""
    assert templar.render("{{ lookup('env', 'FLEET_UNSET', default='d') }}", VARS) == "d"


def test_file_lookup(tmp_path: Path) -> None:
    files = tmp_path / "files"
    files.mkdir()
    (files / "motd").write_text("hello\n\n")
    (tmp_path / "secret").write_text("outside")
    templar = Templar([files])
    assert templar.render("{{ lookup('file', 'motd') }}", VARS) == "hello"
    assert templar.render("{{ lookup('file', 'motd', rstrip=False) }}", VARS) == "hello\n\n"
    assert templar.render("{{ lookup('file', path) }}", {"path": str(tmp_path / "secret")}) == "outside"
    # a name the playbook's author wrote may climb with '..', as in Ansible (host-sent names may not)
    assert templar.render("{{ lookup('file', '../secret') }}", VARS) == "outside"
    with pytest.raises(TemplateError, match="could not locate file 'nope'"):
        templar.render("{{ lookup('file', 'nope') }}", VARS)
    assert templar.render("{{ lookup('file', 'nope', errors='ignore') }}", VARS) is None


def test_unknown_lookup(templar: Templar) -> None:
    with pytest.raises(TemplateError, match="unknown lookup plugin 'nope'"):
        templar.render("{{ lookup('nope', 'date') }}", VARS)


# ---------------------------------------------------------------------- locations from YAML


def test_check_syntax_reports_the_yaml_line(templar: Templar) -> None:
    doc = loads("- name: ok\n  debug:\n    msg: '{{ fine }}'\n- name: bad\n  shell:\n    cmd: '{{ oops( }}'\n",
                "tasks.yml")
    templar.check_syntax(doc[0], Location("tasks.yml"))
    with pytest.raises(TemplateError) as info:
        templar.check_syntax(doc, Location("tasks.yml"))
    assert info.value.location == Location("tasks.yml", 6)
    assert "template syntax error" in info.value.message


def test_render_errors_use_the_innermost_yaml_location(templar: Templar) -> None:
    doc = loads("name: x\nargs:\n  path: '{{ missing }}'\n", "t.yml")
    with pytest.raises(TemplateError) as info:
        templar.render(doc, VARS, Location("t.yml", 1))
    assert info.value.location == Location("t.yml", 3)


def test_check_expression(templar: Templar) -> None:
    templar.check_expression(["a == 1", "{{ b }}", True])
    with pytest.raises(TemplateError, match="expression syntax error"):
        templar.check_expression(["a == 1", "a = 1"], Location("x.yml", 2))


def test_home_expansion_is_not_applied_to_templates(templar: Templar) -> None:
    assert templar.render("~/{{ s }}", VARS) == "~/x"
    assert templar.render("{{ '~/x' | expanduser }}", VARS) == os.path.expanduser("~/x")
