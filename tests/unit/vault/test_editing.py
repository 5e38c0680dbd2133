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
        # CI runs the suite as a background job, where SIGINT is ignored from the start: a signal
        # ignored before the edit stays ignored, every other one is handled.
        ignored = {sig for sig in SIGNALS if signal.getsignal(sig) == signal.SIG_IGN}
        assert signal.SIGHUP in ignored
        with guard.installed():
            for sig in SIGNALS:
                expected = signal.SIG_IGN if sig in ignored else guard.handle
                assert signal.getsignal(sig) == expected, signal.Signals(sig).name
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
