"""What the mux client and daemon agree on: where the socket is, how agents are keyed."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

DEFAULT_PERSIST = 60.0  # seconds an idle agent is kept, as Ansible's ControlPersist=60s
ENV_PERSIST = "FLEET_PERSIST"
ENV_DIR = "FLEET_MUX_DIR"


def mux_dir() -> Path:
    """A private directory (0700) for the daemon's socket and log."""
    base = os.environ.get(ENV_DIR)
    path = Path(base) if base else Path.home() / ".fleet" / "mux"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.chmod(0o700)
    return path


def socket_path() -> Path:
    """The daemon's socket; named by the agent protocol version, so a daemon left running by
    an older fleet is never asked for agents it cannot speak to (each version has its own)."""
    from fleet.agent.wire import VERSION

    return mux_dir() / f"mux-v{VERSION}.sock"


def persist_from_env(default: float = DEFAULT_PERSIST) -> float:
    """``FLEET_PERSIST`` seconds (0 disables), else the default."""
    value = os.environ.get(ENV_PERSIST)
    if value is None or value == "":
        return default
    try:
        return max(0.0, float(value))
    except ValueError:
        return default


def agent_key(kind: str, params: dict[str, Any], interpreter: str, become_user: str | None,
              payload: bytes) -> str:
    """Agents are shared only between identical settings (transport, user, become, agent code)."""
    blob = json.dumps([kind, params, interpreter, become_user, hashlib.sha1(payload).hexdigest()],
                      sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()
