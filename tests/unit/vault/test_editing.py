"""The edit guard's signal handlers: installed only for the edit, ignored signals stay ignored."""

from __future__ import annotations

import signal

import pytest

from fleet.vault.editing import SIGNALS, EditInterrupted, _Guard


def test_handlers_cover_the_edit_only_and_respect_ignored_signals() -> None:
    before = {sig: signal.getsignal(sig) for sig in SIGNALS}
    previous_hup = signal.signal(signal.SIGHUP, signal.SIG_IGN)  # as under nohup
    try:
        guard = _Guard()
        with guard.installed():
            assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
            assert all(signal.getsignal(sig) == guard.handle for sig in SIGNALS if sig != signal.SIGHUP)
        assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGHUP, previous_hup)
    assert {sig: signal.getsignal(sig) for sig in SIGNALS} == before


def test_a_signal_before_the_editor_starts_is_kept_and_ends_the_edit() -> None:
    guard = _Guard()
    guard.handle(signal.SIGTERM, None)  # not waiting: recorded, not raised
    assert guard.signum == signal.SIGTERM
    with pytest.raises(EditInterrupted, match="interrupted by SIGTERM: nothing saved") as caught:
        guard.run_editor(["/bin/true"])
    assert caught.value.signum == signal.SIGTERM
    assert guard.editor is None  # no editor was started
