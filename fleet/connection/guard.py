"""Controller side of the connection guard (the host side is :mod:`fleet.agent.guard`).

A change by a connection-sensitive module (sshd, firewall, network) over SSH is armed on the
host to revert itself after ``fleet_connection_guard_timeout`` seconds (default 60). Right after
the request, the controller opens a **fresh** connection (new SSH connection, new agent, never
the persistence daemon's) and confirms the change through it. If that fails, it asks the
original agent to roll back at once; if that agent is gone too, the host's watchdog reverts by
itself. Either way the task fails with a message that says what happened.

Inventory variables: ``fleet_connection_guard: false`` turns the check off for a host (e.g. a
console-only change), ``fleet_connection_guard_timeout`` sets the watchdog's delay.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Mapping
from typing import Any

from fleet.connection.calls import ModuleCall
from fleet.connection.host import HostConnection
from fleet.connection.session import AgentSession
from fleet.errors import FleetError

GUARD_VAR = "fleet_connection_guard"
TIMEOUT_VAR = "fleet_connection_guard_timeout"
DEFAULT_SECONDS = 60.0
RETRY_SECONDS = 3.0  # how long a fresh connection is retried before the change counts as cutting access
RETRY_PAUSE = 0.3
GUARDED_KINDS = frozenset({"ssh"})  # docker/local/chroot have no network connection to lose


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "yes", "true", "on", "y")
    return bool(value)


def guard_seconds(connection: HostConnection, variables: Mapping[str, Any]) -> float | None:
    """The watchdog delay for this host's sensitive changes, or None when not guarded."""
    if connection.spec.kind not in GUARDED_KINDS or not _truthy(variables.get(GUARD_VAR, True)):
        return None
    return float(variables.get(TIMEOUT_VAR, DEFAULT_SECONDS))


def armed(calls: list[ModuleCall], seconds: float) -> list[ModuleCall]:
    """The calls with the guard set on those of connection-sensitive modules."""
    return [dataclasses.replace(c, guard=seconds) if c.sensitive else c for c in calls]


async def settle(connection: HostConnection, become_user: str | None, session: AgentSession,
                 results: list[dict[str, Any]], timeout: float) -> list[dict[str, Any]]:
    """Confirm the armed changes in ``results`` over a fresh connection, or roll them back
    and fail their results. Results without a guard pass through unchanged."""
    markers = [r["guard"]["marker"] for r in results if isinstance(r.get("guard"), dict)]
    if not markers:
        return results
    problem = await _confirm(connection, become_user, markers, timeout)
    if problem is None:
        for result in results:
            if result.pop("guard", None) is not None:
                result.setdefault("data", {})["connection_check"] = "a fresh connection succeeded"
        return results
    outcomes = await _rollback(session, markers, timeout)
    for result in results:
        guard = result.pop("guard", None)
        if guard is None:
            continue
        outcome = outcomes.get(guard["marker"]) if outcomes is not None else None
        result.update(status="failed", changed=False, msg=_message(connection.name, problem, outcome, guard))
    return results


async def _confirm(connection: HostConnection, become_user: str | None, markers: list[str],
                   timeout: float) -> str | None:
    """None when a fresh connection confirmed every marker, else what went wrong."""
    loop = asyncio.get_running_loop()
    retry_until = loop.time() + RETRY_SECONDS
    while True:
        try:
            transport, fresh = await asyncio.wait_for(connection.fresh_session(become_user), timeout)
            break
        except (TimeoutError, FleetError, OSError) as exc:
            # A daemon restarting on reload (sshd re-executes on SIGHUP) refuses connections
            # for a moment: only a failure that lasts counts.
            if loop.time() + RETRY_PAUSE > retry_until:
                return f"a fresh connection failed: {_text(exc) or 'timed out'}"
            await asyncio.sleep(RETRY_PAUSE)
    try:
        answer = await fresh.request({"op": "guard", "action": "confirm", "markers": markers}, timeout)
    except (TimeoutError, FleetError, OSError) as exc:
        return f"the fresh connection broke: {_text(exc) or 'timed out'}"
    finally:
        with contextlib.suppress(Exception):
            await fresh.close()
        with contextlib.suppress(Exception):
            await transport.close()
    outcomes = answer.get("guard") or {}
    late = [m for m in markers if outcomes.get(m) != "confirmed"]
    if late:
        return "the host had already reverted the change (the fresh connection came too late)"
    return None


async def _rollback(session: AgentSession, markers: list[str], timeout: float) -> dict[str, str] | None:
    """Ask the agent that applied the changes to revert them now; None if it is gone."""
    try:
        answer = await session.request({"op": "guard", "action": "rollback", "markers": markers}, timeout)
    except (TimeoutError, FleetError, OSError):
        return None
    return dict(answer.get("guard") or {})


def _message(host: str, problem: str, outcome: str | None, guard: dict[str, Any]) -> str:
    applied = f"applied on {host}, but {problem}"
    if outcome in ("rolled back", "expired"):
        return f"{applied}: rolled back to the previous configuration"
    if outcome is not None and outcome.startswith("failed"):
        return f"{applied}; rolling back {outcome}: check the host from its console"
    return (f"{applied}, and the connection that applied it is gone: the host reverts to the previous "
            f"configuration by itself within {guard.get('seconds', DEFAULT_SECONDS):.0f} s")


def _text(exc: BaseException) -> str:
    return str(getattr(exc, "message", "") or exc)
