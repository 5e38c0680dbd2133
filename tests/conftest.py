"""Shared test helpers: running the fleet CLI, requiring tools (fail under CI, skip locally)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI") == "true"

# Tests start and stop their own hosts: agents persisted by one test must not serve another.
# The persistence tests turn it on for themselves (with a private daemon directory).
os.environ["FLEET_PERSIST"] = "0"
# fleet's cache (Ansible module payloads kept between runs) is the test session's own.
os.environ["FLEET_CACHE_DIR"] = tempfile.mkdtemp(prefix="fleet-test-cache-")


def require(condition: bool, reason: str) -> None:
    """Skip locally when a tool is missing; under CI=true a missing tool is a failure."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"CI=true and {reason}")
    pytest.skip(reason)


def fleet(*args: str, cwd: Path | None = None, timeout: float = 120, env: dict[str, str] | None = None,
          input: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``python -m fleet ARGS`` and return the completed process (text output)."""
    full_env = dict(os.environ, COLUMNS="200", NO_COLOR="1", TERM="dumb")
    if env:
        full_env.update(env)
    return subprocess.run([sys.executable, "-m", "fleet", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=full_env, input=input, stdin=None if input else subprocess.DEVNULL)
