"""Jinja2 tests: task results, regex, versions, controller paths, sets, truthiness."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from fleet.errors import TemplateError
from fleet.templating import Templar

OK = {"changed": False, "failed": False, "rc": 0}
CHANGED = {"changed": True, "failed": False, "rc": 0}
FAILED = {"changed": False, "failed": True, "rc": 2, "msg": "boom"}
SKIPPED = {"changed": False, "skipped": True, "skip_reason": "Conditional result was False"}
LOOP = {"results": [{"changed": False}, {"changed": True}], "msg": "All items completed"}
VARS: dict[str, Any] = {"ok": OK, "ch": CHANGED, "bad": FAILED, "skip": SKIPPED, "loop": LOOP,
                        "url": "https://example.com/users/?search=ansible", "ver": "12.04"}


@pytest.fixture(scope="module")
def templar() -> Templar:
    return Templar()


CASES: list[tuple[str, bool]] = [
    # task results
    ("ok is success", True), ("ok is succeeded", True), ("ok is successful", True),
    ("bad is success", False), ("bad is failed", True), ("bad is failure", True), ("ok is failed", False),
    ("ch is changed", True), ("ch is change", True), ("ok is changed", False),
    ("loop is changed", True), ("skip is skipped", True), ("skip is skip", True), ("ok is skipped", False),
    ("ok is reachable", True), ("ok is unreachable", False),
    ("ok is finished", True),
    # regex
    ("url is match('https://example.com/users/.*/resources')", False),
    ("url is match('https://example.com/users/')", True),
    ("url is search('users')", True), ("url is search('USERS')", False),
    ("url is search('USERS', ignorecase=true)", True),
    ("url is regex('example\\\\.com/\\\\w+/foo')", False),
    ("url is regex('example\\\\.com/\\\\w+/')", True),
    ("url is match('users')", False),
    ("'a\\nb' is match('^b', multiline=true)", False),
    ("'a\\nb' is search('^b', multiline=true)", True),
    # versions
    ("ver is version('12.04', '>=')", True),
    ("ver is version('12.04', 'eq')", True),
    ("'1.2.3' is version('1.2', '>')", True),
    ("'1.10' is version('1.9', 'gt')", True),
    ("'1.9' is version('1.10', '<')", True),
    ("'1.2.3' is version('1.2.3', '==')", True),
    ("'1.2.3' is version('1.2.4', 'ne')", True),
    ("'2.0' is version('2.0', 'le')", True),
    ("'2.0' is version('2.0', 'lt')", False),
    ("'1.0rc1' is version('1.0', '>')", True),  # LooseVersion: a suffix sorts after
    ("'1.0a1' is version('1.0', '<', strict=true)", True),  # StrictVersion: pre-release first
    ("'1.0' is version_compare('1.0.0', '==', version_type='strict')", True),
    ("ver is version('11', 'gt')", True),
    # containers
    ("[1, 2, 3] is contains(2)", True), ("[1, 2, 3] is contains(4)", False),
    ("[true, false] is any", True), ("[true, false] is all", False), ("[] is all", True),
    ("[1, 2] is subset([1, 2, 3])", True), ("[1, 4] is subset([1, 2, 3])", False),
    ("[1, 2, 3] is superset([1, 2])", True), ("[1, 2] is superset([1, 2, 3])", False),
    # truthiness
    ("'x' is truthy", True), ("'' is truthy", False), ("0 is falsy", True),
    ("'false' is truthy", True), ("'false' is truthy(convert_bool=true)", False),
    ("'yes' is falsy(convert_bool=true)", False),
    # Jinja built-ins keep working
    ("missing is defined", False), ("missing is undefined", True), ("ok is mapping", True),
    ("none is none", True), ("3 is number", True), ("'a' is string", True),
]


@pytest.mark.parametrize(("expr", "expected"), CASES)
def test_jinja_test(templar: Templar, expr: str, expected: bool) -> None:
    assert templar.truth(expr, VARS) is expected


def test_path_tests(templar: Templar, tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    (tmp_path / "d").mkdir()
    (tmp_path / "l").symlink_to(tmp_path / "f")
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    variables = {"base": str(tmp_path)}
    for expr, expected in [
        ("(base ~ '/f') is file", True), ("(base ~ '/d') is file", False),
        ("(base ~ '/d') is directory", True), ("(base ~ '/f') is directory", False),
        ("(base ~ '/l') is link", True), ("(base ~ '/f') is link", False),
        ("(base ~ '/f') is exists", True), ("(base ~ '/nope') is exists", False),
        ("(base ~ '/dangling') is exists", False), ("(base ~ '/dangling') is link_exists", True),
        ("'/etc/hosts' is abs", True), ("'etc/hosts' is abs", False),
    ]:
        assert templar.truth(expr, variables) is expected, expr


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ("'x' is failed", "the 'failed' test expects a dictionary"),
        ("[1] is changed", "the 'changed' test expects a dictionary"),
        ("'1.0' is version('1.0', 'almost')", "invalid operator 'almost'"),
        ("'1.0' is version('1.0.x', strict=true)", "invalid strict version '1.0.x'"),
        ("'1.0' is version('1.0', version_type='semver')", "unsupported version_type 'semver'"),
        ("'1.a' is version('1.2', 'lt')", "cannot compare '1.a' with '1.2'"),
    ],
)
def test_test_errors(templar: Templar, expr: str, message: str) -> None:
    with pytest.raises(TemplateError) as info:
        templar.truth(expr, VARS)
    assert message in info.value.message
