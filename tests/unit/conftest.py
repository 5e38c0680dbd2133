"""Unit-test fixtures shared by every package under tests/unit."""

from __future__ import annotations

import pytest

from fleet.executor.options import ENV_HOST_STATE_DIR


@pytest.fixture(autouse=True)
def private_host_state(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Agents started by a test (local connection: this machine) keep their run lock and
    pending handlers in a directory of the test's own, never in this machine's /var/lib/fleet
    or /run/fleet: tests running side by side would wait for each other's lock, and a handler
    one test left pending would run in another."""
    monkeypatch.setenv(ENV_HOST_STATE_DIR, str(tmp_path_factory.mktemp("host-state")))
