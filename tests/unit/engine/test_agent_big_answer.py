"""An answer too big to frame becomes that request's error; the agent stays up."""

from __future__ import annotations

import io
import os

import pytest

from fleet.agent import main, wire


def test_an_answer_too_big_to_send_is_the_requests_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(wire, "MAX_FRAME", 1024)
    monkeypatch.setattr(wire, "MAX_MESSAGE", 1024)
    frame = main._frame({"id": 7, "results": [os.urandom(4096).hex()]}, {"id": 7})
    answer = wire.read_frame(io.BytesIO(frame))
    assert answer["id"] == 7 and answer["error"].startswith("agent: the answer cannot be sent: ")
    small = main._frame({"id": 8, "results": []}, {"id": 8})
    assert wire.read_frame(io.BytesIO(small)) == {"id": 8, "results": []}
