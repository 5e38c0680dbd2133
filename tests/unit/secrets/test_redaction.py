"""Secrets.redact: every registered value hidden wherever it appears; results copied, not changed."""

from __future__ import annotations

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


def test_short_values_are_not_registered_and_nothing_means_no_copy() -> None:
    secrets = Secrets()
    secrets.add("ab")
    assert not secrets and secrets.redact("ab cd") == "ab cd"
    result = TaskResult(host="h", play="p", task="t", module="copy", status="ok")
    assert secrets.result(result) is result


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
