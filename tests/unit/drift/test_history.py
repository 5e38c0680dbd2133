"""The drift state directory: records, pruning, the lock, and clear errors for broken files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fleet.drift.history import History
from fleet.errors import InputError


def record(history: History, run: str, known: dict | None = None) -> Path:
    return history.record({"drift": {"run_id": run}, "hosts": {}}, known or {})


def test_records_prunes_and_reads_back(tmp_path: Path) -> None:
    history = History(tmp_path / "state", keep=2)
    assert history.latest() is None and history.known() == {}
    for run in ("20261101T000000.000000Z", "20261102T000000.000000Z", "20261103T000000.000000Z"):
        record(history, run, {"web1": {"k": {"first_seen": 1.0}}})
    assert [p.stem for p in history.run_files()] == ["20261102T000000.000000Z", "20261103T000000.000000Z"]
    assert history.latest() == {"drift": {"run_id": "20261103T000000.000000Z", "values_omitted": True},
                                "hosts": {}}
    assert history.known() == {"web1": {"k": {"first_seen": 1.0}}}
    assert not [p for p in (tmp_path / "state").rglob(".*") if p.name != ".lock"]  # no temp files left


def test_a_second_run_on_the_same_directory_is_refused(tmp_path: Path) -> None:
    history = History(tmp_path)
    with history.locked(), pytest.raises(InputError, match="another fleet drift run is using it"), \
            History(tmp_path).locked():
        pass
    with History(tmp_path).locked():  # released
        pass


def test_broken_state_files_name_the_file(tmp_path: Path) -> None:
    (tmp_path / "known.json").write_text('{"format": 1,\n "hosts": [}')
    with pytest.raises(InputError) as exc:
        History(tmp_path).known()
    assert str(exc.value.location) == f"{tmp_path / 'known.json'}:2"
    (tmp_path / "known.json").write_text(json.dumps({"hosts": {}}))
    with pytest.raises(InputError, match="not a fleet drift state file"):
        History(tmp_path).known()


def test_an_unwritable_state_dir_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(InputError, match="--state-dir"), History(tmp_path / "file" / "state").locked():
        pass
