"""The host side of the connection guard: confirm, roll back, or revert by itself (real forks)."""

from __future__ import annotations

import os
import time
import types
from pathlib import Path

import pytest

from fleet.agent import guard, runner


def _module(path: Path) -> types.SimpleNamespace:
    """A connection-sensitive module that sets one file's text."""

    class Params:
        def __init__(self, content: str) -> None:
            self.content = content

    def observe(p, host):  # noqa: ANN001, ANN202
        return {"content": host.read_text(str(path))}

    def apply(p, host, current, want):  # noqa: ANN001, ANN202
        host.write_file(str(path), p.content.encode())

    def revert(p, host, saved):  # noqa: ANN001, ANN202
        host.write_file(str(path), saved["content"].encode())

    return types.SimpleNamespace(
        Params=Params, CONNECTION_SENSITIVE=True, observe=observe, apply=apply, revert=revert,
        desired=lambda p, current: {"content": p.content},
        snapshot=lambda p, host: {"content": host.read_text(str(path))},
        __name__="sensitive")


def _wait_for(predicate, seconds: float = 5.0) -> bool:  # noqa: ANN001
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def test_unconfirmed_change_reverts_by_itself(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_text("old")
    guards: dict = {}
    result = runner.execute(_module(path), {"content": "new"}, False, False, None, 0.3, guards)
    assert result["status"] == "changed" and path.read_text() == "new"
    marker = result["guard"]["marker"]
    assert os.path.exists(marker)
    assert _wait_for(lambda: path.read_text() == "old"), "the watchdog did not revert"
    assert not os.path.exists(marker)
    # too late to confirm: the controller learns the host already reverted
    assert guard.handle({"action": "confirm", "markers": [marker]}, guards)["guard"] == {marker: "expired"}


def test_a_failed_watchdog_revert_is_logged_where_an_operator_looks(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The watchdog's fds 0-2 are /dev/null: a revert that fails is written to the log file next
    to its marker (and the system log), naming the module, the marker and the error."""
    path = tmp_path / "f"
    path.write_text("old")
    monkeypatch.setattr(guard, "MARKER_DIRS", (str(tmp_path),))
    module = _module(path)

    def revert(p, host, saved):  # noqa: ANN001, ANN202
        raise OSError(28, "No space left on device")

    module.revert = revert
    result = runner.execute(module, {"content": "new"}, False, False, None, 0.3, {})
    marker = result["guard"]["marker"]
    assert os.path.dirname(marker) == str(tmp_path)
    log = tmp_path / guard.FAILURE_LOG
    assert _wait_for(lambda: log.exists() and "Traceback" in log.read_text(), 60), "no trace of the failed revert"
    text = log.read_text()
    assert f"revert of sensitive's unconfirmed change (marker {marker}) failed" in text
    assert "OSError: [Errno 28] No space left on device" in text
    assert oct(log.stat().st_mode & 0o777) == oct(0o600)
    assert path.read_text() == "new"  # nothing reverted it


def test_confirmed_change_stays(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_text("old")
    result = runner.execute(_module(path), {"content": "new"}, False, False, None, 0.3, {})
    marker = result["guard"]["marker"]
    # a fresh agent (empty guards) confirms: only the marker matters
    assert guard.handle({"action": "confirm", "markers": [marker]}, {})["guard"] == {marker: "confirmed"}
    time.sleep(1.0)
    assert path.read_text() == "new"


def test_rollback_reverts_at_once_in_reverse_order(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_text("v0")
    guards: dict = {}
    module = _module(path)
    first = runner.execute(module, {"content": "v1"}, False, False, None, 30, guards)["guard"]["marker"]
    second = runner.execute(module, {"content": "v2"}, False, False, None, 30, guards)["guard"]["marker"]
    answer = guard.handle({"action": "rollback", "markers": [first, second]}, guards)["guard"]
    assert answer == {first: "rolled back", second: "rolled back"}
    assert path.read_text() == "v0"  # v2 undone to v1, then v1 to v0
    assert guards == {}


def test_check_mode_and_unguarded_calls_arm_nothing(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_text("old")
    guards: dict = {}
    checked = runner.execute(_module(path), {"content": "new"}, True, False, None, 30, guards)
    assert checked["status"] == "changed" and "guard" not in checked and path.read_text() == "old"
    plain = runner.execute(_module(path), {"content": "new"}, False, False, None, None, guards)
    assert plain["status"] == "changed" and "guard" not in plain and guards == {}


class _FreshAgent:
    def __init__(self) -> None:
        self.asked: list[dict] = []

    async def request(self, message: dict, timeout: float) -> dict:
        self.asked.append(message)
        return {"guard": {m: "confirmed" for m in message["markers"]}}

    async def close(self) -> None:
        pass


class _Transport:
    async def close(self) -> None:
        pass


class _FlakyConnection:
    """Refuses ``failures`` fresh connections (a daemon restarting), then accepts."""

    name = "web1"

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.attempts = 0
        self.agent = _FreshAgent()

    async def fresh_session(self, become_user):  # noqa: ANN001, ANN201
        self.attempts += 1
        if self.attempts <= self.failures:
            raise ConnectionRefusedError("Connection refused")
        return _Transport(), self.agent


def _settle(connection: _FlakyConnection) -> list[dict]:
    import asyncio

    from fleet.connection import guard as controller_guard

    results = [{"status": "changed", "changed": True, "msg": "", "data": {},
                "guard": {"marker": "/run/fleet-guard-x", "seconds": 60}}]
    rollback_session = _FreshAgent()
    return asyncio.run(controller_guard.settle(connection, None, rollback_session, results, 5.0))  # type: ignore[arg-type]


def test_a_briefly_refused_fresh_connection_is_retried() -> None:
    connection = _FlakyConnection(failures=2)
    result = _settle(connection)[0]
    assert result["status"] == "changed" and "guard" not in result
    assert connection.attempts == 3
    assert connection.agent.asked[0]["action"] == "confirm"


def test_a_lasting_refusal_rolls_back() -> None:
    connection = _FlakyConnection(failures=1000)
    result = _settle(connection)[0]
    assert result["status"] == "failed" and not result["changed"]
    assert "a fresh connection failed: Connection refused" in result["msg"]
