"""Free-form ``k=v`` arguments, split like Ansible's split_args/parse_kv."""

from __future__ import annotations

import pytest

from fleet.errors import InputError, Location
from fleet.playbook.kv import join_args, parse_free_form, parse_kv, split_args, unquote

LOC = Location("site.yml", 7)


@pytest.mark.parametrize(("text", "tokens"), [
    ("a=1 b=2", ["a=1", "b=2"]),
    ("  a=1    b=2  ", [" ", "a=1   ", "b=2  "]),  # spaces ride on the token before them
    ('msg="hello   world" x=1', ['msg="hello   world"', "x=1"]),
    ("msg='it''s' y", ["msg='it''s'", "y"]),
    ("msg={{ a | default('x y') }} z", ["msg={{ a | default('x y') }}", "z"]),
    ('echo "{{ a | default(\'x y\') }}" > /tmp/f', ['echo', '"{{ a | default(\'x y\') }}"', ">", "/tmp/f"]),
    # as in Ansible, {% %} only groups what is between its own delimiters
    ("{% if a %}x y{% endif %} b", ["{% if a %}x", "y{% endif %}", "b"]),
    ("{# a comment #} b", ["{# a comment #}", "b"]),
    ('msg="{{ x | join(", ") }}"', ['msg="{{ x | join(", ") }}"']),
    ("echo a\necho b", ["echo", "a\n", "echo", "b"]),
    ('echo "line1\nline2" x', ['echo', '"line1\nline2"', "x"]),
    ('a=\\"b c', ['a=\\"b', "c"]),
])
def test_split_args(text: str, tokens: list[str]) -> None:
    assert split_args(text) == tokens


@pytest.mark.parametrize("text", ['msg="open', "msg={{ a", "{% if x", "a='b"])
def test_split_args_unbalanced(text: str) -> None:
    with pytest.raises(ValueError):
        split_args(text)


def test_join_keeps_newlines() -> None:
    assert join_args(["echo", "a\n", "echo", "b"]) == "echo a\necho b"


@pytest.mark.parametrize(("value", "expected"), [
    ('"a b"', "a b"), ("'a b'", "a b"), ('"a', '"a'), ("a", "a"), ('"', '"'), ('"a\\"', '"a\\"'),
])
def test_unquote(value: str, expected: str) -> None:
    assert unquote(value) == expected


def test_parse_kv_values_are_unquoted_strings() -> None:
    options, rest = parse_kv('path=/x mode="0644" owner=\'root\' n=1')
    assert options == {"path": "/x", "mode": "0644", "owner": "root", "n": "1"}
    assert rest == []


def test_parse_kv_escaped_equals_is_free_form() -> None:
    assert parse_kv("a\\=b") == ({}, ["a=b"])


def test_shell_with_jinja_quotes_and_creates() -> None:
    args = parse_free_form("shell", 'echo "{{ a | default(\'x y\') }}" > /tmp/f creates=/tmp/f', LOC)
    assert args == {"cmd": 'echo "{{ a | default(\'x y\') }}" > /tmp/f', "creates": "/tmp/f"}


def test_command_keeps_unknown_kv_in_the_command_line() -> None:
    args = parse_free_form("command", 'env FOO=bar ls "a  b" chdir=/tmp removes=/x', LOC)
    assert args == {"cmd": 'env FOO=bar ls "a  b"', "chdir": "/tmp", "removes": "/x"}


@pytest.mark.parametrize("option", ["creates", "removes", "chdir", "executable", "stdin",
                                    "stdin_add_newline", "strip_empty_ends", "warn"])
def test_command_free_form_options(option: str) -> None:
    assert parse_free_form("command", f"true {option}=v", LOC) == {"cmd": "true", option: "v"}


def test_multiline_shell_keeps_newlines() -> None:
    args = parse_free_form("shell", "set -e\ncd /tmp\nls  -l\n", LOC)
    assert args == {"cmd": "set -e\ncd /tmp\nls  -l\n"}  # spaces and the trailing newline stay, as in Ansible


def test_blank_lines_and_continuations_in_scripts() -> None:
    args = parse_free_form("shell", "echo a\n\necho b \\\n  --flag", LOC)
    assert args == {"cmd": "echo a\n\necho b  --flag"}


def test_a_here_document_keeps_its_indentation() -> None:
    """The command_shell target compares cmd and stdout of exactly this."""
    args = parse_free_form("shell", "cat <<EOF\nOne\n  Two\n    Three\nEOF\n", LOC)
    assert args == {"cmd": "cat <<EOF\nOne\n  Two\n    Three\nEOF\n"}


def test_spaces_alone_are_no_free_form_text() -> None:
    assert parse_free_form("file", "  path=/x   state=touch ", LOC) == {"path": "/x", "state": "touch"}


SPLIT_CASES = ["a=1 b=2", "  a=1    b=2  ", "set -e\ncd /tmp\nls  -l\n", "echo a\n\necho b \\\n  --flag",
               "cat <<EOF\nOne\n  Two\n    Three\nEOF\n", 'echo "a  b"  c', "x={{ a  }}  y", "echo 'it''s'  z",
               "a\\=b c", "{% if a %}x y{% endif %} b", 'echo "line1\nline2" x', "\n\nx\n", " ", "a  \\  b",
               'msg="{{ x | join(", ") }}"  done', "{# a  #}\n  b"]


@pytest.mark.parametrize("text", SPLIT_CASES)
def test_split_args_is_ansibles(text: str) -> None:
    from ansible.parsing import splitter  # the test extra installs ansible-core

    assert split_args(text) == splitter.split_args(text)


def test_command_with_only_options() -> None:
    assert parse_free_form("command", "chdir=/tmp", LOC) == {"chdir": "/tmp"}


def test_file_module_kv() -> None:
    assert parse_free_form("file", "path=/x state=touch mode=0644", LOC) == {
        "path": "/x", "state": "touch", "mode": "0644"}


def test_debug_msg_with_spaces() -> None:
    assert parse_free_form("debug", 'msg="Hello {{ name }}!"', LOC) == {"msg": "Hello {{ name }}!"}


def test_set_fact_values_are_strings() -> None:
    assert parse_free_form("set_fact", "a=1 b=true c={{ x + 1 }}", LOC) == {
        "a": "1", "b": "true", "c": "{{ x + 1 }}"}


def test_include_and_meta_free_form() -> None:
    assert parse_free_form("include_tasks", "other.yml", LOC) == {"file": "other.yml"}
    assert parse_free_form("import_tasks", "file=other.yml", LOC) == {"file": "other.yml"}
    assert parse_free_form("include_vars", "vars/main.yml", LOC) == {"file": "vars/main.yml"}
    assert parse_free_form("meta", "flush_handlers", LOC) == {"_raw_params": "flush_handlers"}


def test_free_form_word_for_other_modules_is_an_error() -> None:
    with pytest.raises(InputError) as info:
        parse_free_form("file", "/tmp/x state=touch", LOC)
    assert str(info.value).startswith("site.yml:7: module file does not take free-form text")


def test_unbalanced_is_an_input_error_with_location() -> None:
    with pytest.raises(InputError) as info:
        parse_free_form("shell", 'echo "oops', LOC)
    assert str(info.value).startswith("site.yml:7: cannot split the arguments of shell")


def test_a_block_scalar_command_keeps_its_trailing_newline_and_joins_continuations() -> None:
    """As Ansible's split_args (the command_shell target compares ``cmd``): a backslash at the
    end of a line outside quotes joins it with the next, a quoted newline stays, and the text's
    trailing newline stays in the command."""
    text = 'echo this is a \\\n"multiline echo" \\\n"with a new line\nin quotes" \\\n| wc -c\necho "second"\n'
    assert parse_free_form("shell", text, LOC)["cmd"] == \
        'echo this is a "multiline echo" "with a new line\nin quotes" | wc -c\necho "second"\n'
    assert parse_free_form("command", "echo a creates=/x\n", LOC) == {"creates": "/x", "cmd": "echo a"}
