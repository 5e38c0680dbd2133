"""Secrets.redact: every registered value hidden wherever it appears; results copied, not changed."""

from __future__ import annotations

import html
import json
import shlex
import urllib.parse
from collections.abc import Callable

import pytest
import yaml

from fleet.result import REDACTED, TaskResult
from fleet.secrets import Secrets


def test_redacts_whole_and_embedded_values_longest_first() -> None:
    secrets = Secrets()
    secrets.add({"db": {"password": "hunter2", "user": ["admin-token-xyz"]}, "port": 5432})
    secrets.add("hunter2-extended")
    assert secrets.redact("pw=hunter2;") == f"pw={REDACTED};"
    assert secrets.redact("hunter2-extended") == REDACTED  # not "********-extended"
    assert secrets.redact("x admin-token-xyz y") == f"x {REDACTED} y"
    assert secrets.redact("5432 stays") == "5432 stays"  # numbers are not secret strings


def test_short_values_are_redacted_only_as_whole_values() -> None:
    secrets = Secrets()
    secrets.add(["ab", "7", ""])
    assert secrets.redact("ab cd") == "ab cd" and secrets.redact("port 7") == "port 7"  # not inside text
    assert secrets.redact("ab") == secrets.redact(" ab\n") == secrets.redact("7") == REDACTED
    assert secrets.redact_obj({"ab": ["ab", "abc"], "pin": "7"}) == {"ab": [REDACTED, "abc"], "pin": REDACTED}
    result = TaskResult(host="h", play="p", task="t", module="command", status="ok", msg="ab",
                        data={"stdout": "ab", "rc": 0})
    shown = secrets.result(result)
    assert shown.msg == REDACTED and shown.data == {"stdout": REDACTED, "rc": 0}


def test_nothing_registered_means_no_copy() -> None:
    secrets = Secrets()
    secrets.add("")
    assert not secrets and secrets.redact("ab cd") == "ab cd"
    result = TaskResult(host="h", play="p", task="t", module="copy", status="ok")
    assert secrets.result(result) is result


PASSWORD = "pa\\ss\"q'\u00e9\u2603 x"  # a backslash, both quotes, non-ASCII, a space


@pytest.mark.parametrize("shown", [
    pytest.param(lambda v: f"invalid literal for int(): {(v + chr(10)).encode()!r}", id="bytes-repr"),
    pytest.param(lambda v: f"got {v!r}", id="repr"),
    pytest.param(lambda v: f"got {v + chr(34)!r}", id="repr-single-quoted"),
    pytest.param(lambda v: f"got {[v]!r}", id="repr-in-list"),
    pytest.param(lambda v: ascii(v), id="ascii"),
    pytest.param(lambda v: json.dumps({"k": "x" + v}), id="json"),
    pytest.param(lambda v: json.dumps({"k": v}, ensure_ascii=False), id="json-unicode"),
    pytest.param(lambda v: yaml.safe_dump({"k": v}), id="yaml"),
    pytest.param(lambda v: yaml.safe_dump({"k": v}, allow_unicode=True), id="yaml-unicode"),
    pytest.param(lambda v: yaml.safe_dump({"k": f"a{v}b'"}, default_style="'"), id="yaml-single-quoted"),
    pytest.param(lambda v: v.encode("unicode_escape").decode(), id="unicode-escape"),
    pytest.param(lambda v: v.replace("\\", "\\\\"), id="backslash-doubled"),
    pytest.param(lambda v: html.escape(f"<td>{v}</td>"), id="html"),
    pytest.param(lambda v: "sudo -S " + shlex.quote(v), id="shell"),
    pytest.param(lambda v: "https://x/?p=" + urllib.parse.quote(v, safe=""), id="url"),
    pytest.param(lambda v: "p=" + urllib.parse.quote_plus(v), id="url-plus"),
])
def test_escaped_forms_of_a_secret_are_redacted(shown: Callable[[str], str]) -> None:
    secrets = Secrets()
    secrets.add(PASSWORD)
    text = shown(PASSWORD)
    redacted = secrets.redact(text)
    assert REDACTED in redacted, (text, redacted)
    for fragment in ("pa\\", "\u00e9", "\\xc3", "é", "\\xe9", "%C3", "\\xE9", "&quot;q"):
        assert fragment not in redacted, (fragment, redacted)


def test_result_copy_redacts_every_field_and_leaves_the_original() -> None:
    secrets = Secrets()
    secrets.add("s3cr3t-value")
    item = TaskResult(host="h", play="p", task="t", module="copy", status="changed",
                      item_label="s3cr3t-value", msg="item s3cr3t-value")
    data = {"stdout": "token s3cr3t-value", "nested": [{"k": "s3cr3t-value"}]}
    result = TaskResult(
        host="h", play="p", task="set s3cr3t-value", module="copy", status="failed",
        msg="failed with s3cr3t-value", data=data,
        diff={"fields": ["content"], "before": {"content": ""}, "after": {"content": "pw = s3cr3t-value\n"},
              "unified": {"content": "+pw = s3cr3t-value\n"}},
        warnings=["w s3cr3t-value"], exception="Traceback ... s3cr3t-value", items=[item])
    shown = secrets.result(result)
    assert "s3cr3t-value" not in repr(shown)
    assert shown.diff == {"fields": ["content"], "before": {"content": ""},
                          "after": {"content": f"pw = {REDACTED}\n"}, "unified": {"content": f"+pw = {REDACTED}\n"}}
    assert result.data is data and data["stdout"] == "token s3cr3t-value"  # registered values keep working
    assert result.msg == "failed with s3cr3t-value"
