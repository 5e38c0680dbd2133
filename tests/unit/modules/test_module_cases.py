"""Data-driven module tests: every case in ``cases/NAME.yml`` run through the real runner.

A case gives the initial ``files`` (see ``conftest.build_tree``), the task ``params``
(``@TMP@`` is the case's directory), the expected ``status`` and optionally ``msg``
(substring, or ``~re:`` regex), ``data``, ``diff`` and ``warnings`` (subset matches), ``unified``
(substrings of the content diff) and ``after`` (the files afterwards). ``status: invalid``
is a task the controller refuses before anything connects (the module's ``check_param`` or
``check``: one InputError with ``msg``); the host, sent it anyway, fails it with the same
``msg`` in check mode and for real, and leaves the tree untouched.

State modules (observe/desired/apply) are run three times: in check mode first, which must
leave the tree byte-for-byte unchanged and report the status the apply will report
(``check_status`` when they differ, e.g. a failing ``validate``); then for real; then again,
which must report ``ok`` (``again`` overrides that, e.g. ``state: touch`` is always
``changed``). A failed run without ``after`` must leave the tree untouched.
Imperative modules (command, shell) run in check mode (``skipped`` unless creates/removes
decide) and then for real. Cases with ``root: true`` need root (chown).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from fleet.errors import InputError
from tests.conftest import require

from .conftest import (
    build_tree,
    check_tree,
    load_module,
    matches,
    run_unchecked,
    snapshot,
    substitute,
)

CASES = Path(__file__).parent / "cases"


def _cases():
    for path in sorted(CASES.glob("*.yml")):
        for case in yaml.safe_load(path.read_text("utf-8")):
            yield pytest.param(path.stem, case, id=f"{path.stem}-{case['id']}")


def _kind(module: str) -> str:
    loaded = load_module(module)
    if hasattr(loaded, "run"):
        return "imperative"
    return "state" if hasattr(loaded, "desired") else "info"


def _assert_result(result: dict, case: dict, root: str, label: str) -> None:
    assert result["status"] == case["status"], f"{label}: {result}"
    if "msg" in case:
        expected = substitute(case["msg"], root)
        if expected.startswith("~re:"):
            assert matches(result["msg"], case["msg"], root), f"{label}: {result['msg']!r}"
        else:
            assert expected in result["msg"], f"{label}: {result['msg']!r}"
    if "data" in case:
        assert matches(result["data"], case["data"], root), f"{label}: {result['data']}"
    if "diff" in case:
        assert matches(result.get("diff"), case["diff"], root), f"{label}: {result.get('diff')}"
    if "warnings" in case:
        assert matches(result.get("warnings", []), case["warnings"], root), f"{label}: {result.get('warnings')}"
    for text in case.get("unified", []):
        unified = result["diff"]["unified"]["content"]
        assert substitute(text, root) in unified, f"{label}: {text!r} not in\n{unified}"


@pytest.mark.parametrize(("module", "case"), list(_cases()))
def test_case(module: str, case: dict, tmp_path: Path, run) -> None:
    if case.get("root"):
        require(os.geteuid() == 0, "needs root (chown)")
    root = tmp_path / "t"
    root.mkdir()
    build_tree(root, case.get("files"))
    params = substitute(case.get("params", {}), str(root))
    kind = _kind(module)
    status = case["status"]

    before = snapshot(root)
    if status == "invalid":
        with pytest.raises(InputError) as refused:
            run(module, params)
        assert substitute(case["msg"], str(root)) in str(refused.value), refused.value
        for check in (True, False):
            result = run_unchecked(module, params, check)
            _assert_result(result, dict(case, status="failed"), str(root), f"host (check={check})")
        assert snapshot(root) == before, "a refused task changed the tree"
        return
    if kind == "state":
        check = run(module, params, check=True, diff=True)
        assert check["status"] == case.get("check_status", status), f"check mode: {check}"
        assert snapshot(root) == before, "check mode changed the tree"
    elif kind == "imperative":
        check = run(module, params, check=True, diff=True)
        # Ansible: a creates/removes guard predicts a change in check mode; no guard skips
        guarded = bool(params.get("creates") or params.get("removes"))
        expected = case.get("check_status", "ok" if status == "ok" else ("changed" if guarded else "skipped"))
        if status == "failed" and "check_status" not in case:
            expected = check["status"]  # failures may surface before or after the gate
        assert check["status"] == expected, f"check mode: {check}"
        assert snapshot(root) == before, "check mode changed the tree"

    result = run(module, params, check=False, diff=True)
    _assert_result(result, case, str(root), "apply")
    if kind == "state" and status == "changed" and "check_status" not in case:
        assert check["diff"]["fields"] == result["diff"]["fields"]
    if "after" in case:
        check_tree(root, substitute(case["after"], str(root)))
    elif status == "failed":
        assert snapshot(root) == before, "a failed task changed the tree"

    if kind == "state" and status in ("ok", "changed"):
        again = case.get("again", "ok")
        second = run(module, params, check=True, diff=False)
        assert second["status"] == again, f"second check run: {second}"
        third = run(module, params, check=False, diff=False)
        assert third["status"] == again, f"second run (idempotence): {third}"
