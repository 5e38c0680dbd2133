"""Who may read what fleet drift writes: report modes, the private state directory, and the
stored runs that keep no before/after values without --diff."""

from __future__ import annotations

import io
import json
import os
import stat
from pathlib import Path

import pytest
from rich.console import Console

from fleet.drift.history import History
from fleet.drift.private import parse_report_modes, private_dir
from fleet.drift.stored import without_values
from fleet.drift.terminal import print_drift
from fleet.errors import InputError
from tests.conftest import require
from tests.unit.drift.sample import sample_drift

SECRET = "hunter2-on-the-host"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_report_modes() -> None:
    assert parse_report_modes(()) == {"json": 0o600, "junit": 0o600, "prom": 0o600, "html": 0o600}
    assert parse_report_modes(["0640", "prom=644"]) == {"json": 0o640, "junit": 0o640, "prom": 0o644,
                                                         "html": 0o640}
    assert parse_report_modes(["html=0o400"])["html"] == 0o400
    for bad, message in (("0666", "more than 0644"), ("0755", "more than 0644"), ("rw-r--r--", "octal"),
                         ("xml=0644", "unknown report 'xml'"), ("", "octal"), ("-1", "octal")):
        with pytest.raises(InputError, match=message):
            parse_report_modes([bad])


def test_state_dir_is_created_private_and_loose_ones_tightened(tmp_path: Path) -> None:
    old = os.umask(0)  # even a permissive umask makes no looser directory
    try:
        assert private_dir(tmp_path / "new" / "state", "--state-dir x") == []
    finally:
        os.umask(old)
    assert mode(tmp_path / "new" / "state") == 0o700
    loose = tmp_path / "loose"
    loose.mkdir()
    loose.chmod(0o755)
    (loose / "known.json").write_text('{"format": 1, "hosts": {}}')
    (loose / "known.json").chmod(0o644)
    history = History(loose)
    with history.locked():
        pass
    assert mode(loose) == 0o700 and mode(loose / "known.json") == 0o600 and mode(loose / ".lock") == 0o600
    assert history.warnings == [f"--state-dir {loose} was 0755 (others could read it): now 0700",
                                f"--state-dir {loose}: 1 state file(s) others could read: now 0600"]


def test_a_state_dir_of_another_user_is_refused(tmp_path: Path) -> None:
    require(os.geteuid() == 0, "changing a directory's owner needs root")
    theirs = tmp_path / "theirs"
    theirs.mkdir(mode=0o700)
    os.chown(theirs, 65534, 65534)
    with pytest.raises(InputError, match=r"belongs to uid 65534, not to the user running fleet drift"), \
            History(theirs).locked():
        pass


def _report(run: str, content: str) -> dict:
    diff = {"fields": ["content"], "before": {"content": content}, "after": {"content": "x\n"},
            "unified": {"content": f"-{content}+x\n"}}
    return {"hosts": {"h": {"results": [{"task": "t", "diff": diff}]}},
            "drift": {"run_id": run, "hosts": {"h": {"tasks": [{"status": "drift", "drift": dict(diff)}]}}}}


def test_stored_runs_keep_values_only_with_diff_and_old_ones_lose_theirs(tmp_path: Path) -> None:
    history = History(tmp_path / "state")
    legacy = history.runs_dir / "20261101T000000.000000Z.json"
    legacy.parent.mkdir(parents=True)
    legacy.write_text(json.dumps(_report(legacy.stem, SECRET)))  # as an earlier fleet stored it
    kept = history.record(_report("20261102T000000.000000Z", SECRET + "-kept"), {}, keep_values=True)
    assert SECRET + "-kept" in kept.read_text() and SECRET in legacy.read_text()
    plain = history.record(_report("20261103T000000.000000Z", SECRET + "-plain"), {})
    assert SECRET not in legacy.read_text() and SECRET not in plain.read_text()
    assert SECRET + "-kept" in kept.read_text()  # what --diff kept stays
    stored = json.loads(plain.read_text())
    assert stored["hosts"]["h"]["results"][0]["diff"] == {"fields": ["content"]}
    assert stored["drift"]["hosts"]["h"]["tasks"][0]["drift"] == {
        "fields": ["content"], "before": {}, "after": {}, "unified": {}}
    assert stored["drift"]["values_omitted"] is True
    assert all(mode(path) == 0o600 for path in history.run_files())


def test_without_values_keeps_loop_parts_names() -> None:
    report = {"hosts": {"h": {"results": [{"diff": {"parts": [{"fields": ["a"], "before": {"a": SECRET}}]}}]}},
              "drift": {"hosts": {}}}
    assert without_values(report)["hosts"]["h"]["results"][0]["diff"] == {"fields": [], "parts": [{"fields": ["a"]}]}
    assert SECRET in json.dumps(report)  # the original is left alone


def test_the_digest_key_is_private_and_stable(tmp_path: Path) -> None:
    history = History(tmp_path)
    item = {"fields": ["content"], "before": {"content": SECRET}, "after": {"content": "x"}}
    first = history.digest()(item)
    assert first == History(tmp_path).digest()(item) and SECRET not in first
    assert mode(tmp_path / "digest.key") == 0o600
    assert first != History(tmp_path / "other").digest()(item)  # keyed per directory
    (tmp_path / "digest.key").write_text("not hex\n")
    with pytest.raises(InputError, match="digest key"):
        History(tmp_path).digest()


def test_a_stored_run_shows_fields_and_says_where_the_values_went() -> None:
    stored = without_values({"hosts": {}, "drift": sample_drift()})["drift"]
    console = Console(file=io.StringIO(), width=200, color_system=None)
    print_drift(console, stored)
    text = console.file.getvalue()
    assert "DRIFT: [web1] base : motd" in text and "Welcome to" not in text
    assert "(before/after values are kept in --state-dir only with --diff)" in text
