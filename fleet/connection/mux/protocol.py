"""What the mux client and daemon agree on: where the socket is, how agents are keyed, how
long they may be kept."""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fleet.connection.mux.place import ENV_DIR, mux_dir

__all__ = ["DEFAULT_PERSIST", "ENV_DIR", "ENV_PERSIST", "Keyer", "lease_persist", "mux_dir", "persist_from_env",
           "socket_name", "socket_path", "valid_persist"]

DEFAULT_PERSIST = 60.0  # seconds an idle agent is kept, as Ansible's ControlPersist=60s
ENV_PERSIST = "FLEET_PERSIST"
# Bumped when what a daemon guarantees changes, so a client never leases from a daemon that an
# older fleet left running with weaker guarantees: each revision has its own socket.
# 2: become agents keyed by their password, a lifetime cap, no ptrace or core dumps.
# 3: leases are records with keepalives and the cause of an agent's end; a ping op.
DAEMON_REVISION = 3


def socket_name() -> str:
    """The socket's file name: by the agent protocol version, so a daemon left running by an
    older fleet is never asked for agents it cannot speak to, and by the daemon's revision."""
    from fleet.agent.wire import VERSION

    return f"mux-v{VERSION}.{DAEMON_REVISION}.sock"


def socket_path() -> Path:
    """The daemon's socket in :func:`~fleet.connection.mux.place.mux_dir` (UnsafePlace if that directory
    is not this user's alone)."""
    return mux_dir() / socket_name()


def persist_from_env(default: float = DEFAULT_PERSIST) -> float:
    """``FLEET_PERSIST`` seconds (0 disables), else the default."""
    value = os.environ.get(ENV_PERSIST)
    if value is None or value == "":
        return default
    try:
        return max(0.0, float(value))
    except ValueError:
        return default


def valid_persist(value: Any) -> float | None:
    """``value`` as a keep time in seconds, or None unless it is a finite number above 0."""
    if isinstance(value, bool):
        return None
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None
    return seconds if math.isfinite(seconds) and seconds > 0 else None


def lease_persist(requested: Any, cap: float) -> float:
    """How long an agent a lease hands back is kept: what the run asked for, never more than
    the daemon's cap (fixed when the daemon started, as ControlPersist is by the first ssh)."""
    seconds = valid_persist(requested)
    return cap if seconds is None else min(seconds, cap)


@dataclass(frozen=True)
class Keyer:
    """Names connections and agents by their settings, secrets included, with an HMAC under a
    random key that only this daemon holds (in memory, never written anywhere).

    A become agent started with a sudo password is found again only by a lease that sends the
    same password; the names are never a bare hash of a password, which could be guessed
    offline from a weak one.
    """

    secret: bytes = field(default_factory=lambda: secrets.token_bytes(32), repr=False)

    def _name(self, *parts: Any) -> str:
        blob = json.dumps(parts, sort_keys=True, default=str).encode()
        return hmac.new(self.secret, blob, hashlib.sha256).hexdigest()

    def transport(self, kind: str, params: dict[str, Any]) -> str:
        """One name per connection: transport kind and its parameters (SSH password included)."""
        return self._name("transport", kind, params)

    def agent(self, kind: str, params: dict[str, Any], interpreter: str, become_user: str | None,
              become_password: str | None, payload: bytes) -> str:
        """Agents are shared only between identical settings: transport, interpreter, become user
        and the password that became it, agent code."""
        return self._name("agent", kind, params, interpreter, become_user, become_password,
                          hashlib.sha256(payload).hexdigest())
