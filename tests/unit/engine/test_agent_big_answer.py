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


def test_a_result_past_the_controllers_limit_becomes_the_tasks_failure() -> None:
    """Counted as the controller counts it: UTF-8 bytes of compact JSON."""
    big = {"status": "changed", "changed": True, "msg": "", "data": {"stdout": "é" * 600}}  # 1200 bytes
    shown, room = main._within(big, 1000, 8 * 1024 * 1024)
    assert shown["status"] == "failed" and shown["changed"] is True and shown["data"] == {}
    assert shown["msg"].endswith("is more than the controller accepts for one task (8 MiB: --max-host-output "
                                 "or fleet_max_host_output)")
    small = {"status": "ok", "changed": False, "msg": "", "data": {"stdout": "é"}}
    assert main._within(small, 1000, 2048) == (small, 1000 - len('{"status":"ok","changed":false,"msg":"",'
                                                                 '"data":{"stdout":"é"}}'.encode()))
