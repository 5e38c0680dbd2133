"""One host's connection: its transport and its agents (one per become user), opened on first use.

A task that logs in as another user (the ``remote_user`` keyword) gets a transport and agents of
its own, keyed by that transport's settings, beside the host's.

The connection knows the run's mode. When the host has no Python and the inventory says
``bootstrap_python: true``, it installs python3 over the raw transport before starting the
agent (:mod:`fleet.connection.pyinstall`) -- never in a check run, which changes nothing on the
host, not even before the agent runs: the host is reported unreachable, saying that applying
would install python3. Without the variable a missing interpreter fails, and the message names
the variable.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Mapping
from typing import Any

from fleet.connection.pyinstall import Bootstrap, ensure_python, interpreter_missing
from fleet.connection.session import AgentSession, Become
from fleet.connection.settings import (
    ConnectionDefaults,
    interpreter_for,
    max_output_for,
    transport_spec,
)
from fleet.errors import ConnectionFailed
from fleet.transport import DEFAULT_MAX_OUTPUT, ChrootTransport, Transport, TransportSpec

BOOTSTRAP_VAR = "bootstrap_python"
HINT = "or set bootstrap_python: true (fleet bake --bootstrap-python) to have fleet install it"
CHECK_HINT = ("not installed in check mode, which changes nothing on the host: bootstrap_python: true "
              "installs it when the playbook is applied")


def _bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "yes", "true", "on", "y", "t")
    return bool(value)


class HostConnection:
    """One host's transport and its agents (one per become user), opened on first use.

    With a :class:`~fleet.connection.mux.MuxClient`, agents are leased from the persistence
    daemon (which keeps them alive between runs) and the transport is never opened here.
    ``check``: the run's mode (a check run installs nothing); ``bootstrap_python``: install
    python3 when the host has none.
    """

    def __init__(self, name: str, spec: TransportSpec, interpreter: str, payload: bytes,
                 become_password: str | None = None, mux: Any = None,
                 max_output: int = DEFAULT_MAX_OUTPUT, *, check: bool = False,
                 bootstrap_python: bool = False) -> None:
        self.name = name
        self.max_output = max_output
        self.spec = spec
        self.interpreter = interpreter
        self.check = check
        self.bootstrap_python = bootstrap_python
        self.bootstrapped: Bootstrap | None = None  # what installing python3 did, once it ran
        self._payload = payload
        self._become_password = become_password
        self._mux = mux
        self._transports: dict[str | None, Transport] = {}  # by login key: None is the host's own
        self._sessions: dict[tuple[str | None, str | None], AgentSession] = {}  # (login key, become user)
        self._opening = asyncio.Lock()  # one agent started per become user, however many tasks ask at once
        self._started: list[AgentSession] = []

    @property
    def become_password(self) -> str | None:
        return self._become_password

    @property
    def requests(self) -> int:
        """Agent round trips made through this connection, over every agent it started."""
        return sum(session.requests for session in self._started)

    @property
    def ansible_payload_bytes(self) -> int:
        """Bytes of Ansible's module payloads (and the bridge's host code) sent to its agents."""
        return sum(session.channel.sent_bytes for session in self._started if session.channel is not None)

    async def session(self, become_user: str | None, spec: TransportSpec | None = None) -> AgentSession:
        """The agent for ``become_user`` (None = the login user), started if needed; python3
        installed first when it is missing and ``bootstrap_python`` allows it. ``spec``: another
        way in to the same host (a task's ``remote_user``), else the host's own."""
        async with self._opening:
            return await self._session_or_bootstrap(become_user, spec)

    async def _session_or_bootstrap(self, become_user: str | None, spec: TransportSpec | None) -> AgentSession:
        try:
            return await self._session(become_user, spec)
        except ConnectionFailed as exc:
            if not interpreter_missing(exc, self.interpreter) or self.bootstrapped is not None:
                raise
            if not self.bootstrap_python:
                raise ConnectionFailed(f"{exc.message}; {HINT}", exc.location) from None
            if self.check:
                raise ConnectionFailed(f"{exc.message}; {CHECK_HINT}", exc.location) from None
        self.bootstrapped = await self.install_python()
        return await self._session(become_user, spec)

    def _login_key(self, spec: TransportSpec | None) -> str | None:
        if spec is None or spec == self.spec:
            return None
        return json.dumps([spec.kind, spec.params], sort_keys=True, default=str)

    async def _session(self, become_user: str | None, spec: TransportSpec | None = None) -> AgentSession:
        login = self._login_key(spec)
        spec = self.spec if spec is None or login is None else spec
        session = self._sessions.get((login, become_user))
        if session is not None and not session.broken:
            return session
        become = None if become_user is None else Become(become_user, self._become_password)
        session = None
        if self._mux is not None:
            session = await self._mux.lease(self.name, spec, self.interpreter, become, self._payload)
        if session is None:  # no persistence, or the daemon is not available: connect directly
            transport = self._transports.get(login)
            if transport is None:
                transport = spec.build()
                await transport.connect()
                self._transports[login] = transport
            session = await AgentSession.start(transport, self.name, self.interpreter, self._payload, become,
                                               max_output=self.max_output)
        session.max_output = self.max_output  # a leased agent too
        self._sessions[(login, become_user)] = session
        self._started.append(session)
        return session

    async def install_python(self) -> Bootstrap:
        """python3 installed on the host through a fresh transport (closed afterwards)."""
        transport = self.spec.build()
        if isinstance(transport, ChrootTransport):
            transport.check_python = False
        try:
            await transport.connect()
            return await ensure_python(transport, self.interpreter, limit=self.max_output, host=self.name)
        finally:
            with contextlib.suppress(Exception):
                await transport.close()

    def live_sessions(self) -> list[AgentSession]:
        """The agents this connection has open now."""
        return list(self._sessions.values())

    async def fresh_session(self, become_user: str | None) -> tuple[Transport, AgentSession]:
        """A new transport and agent, never the daemon's nor this connection's: proof that the
        host still accepts new connections. The caller closes both."""
        transport = self.spec.build()
        await transport.connect()
        become = None if become_user is None else Become(become_user, self._become_password)
        try:
            return transport, await AgentSession.start(transport, self.name, self.interpreter, self._payload, become,
                                                       max_output=self.max_output)
        except BaseException:
            await transport.close()
            raise

    async def close(self) -> None:
        for session in self._sessions.values():
            with contextlib.suppress(Exception):  # closing must never mask the run's result
                await session.close()
        self._sessions.clear()
        transports, self._transports = list(self._transports.values()), {}
        for transport in transports:
            with contextlib.suppress(Exception):
                await transport.close()


def make_connection(name: str, hostvars: Mapping[str, Any], defaults: ConnectionDefaults,
                    payload: bytes, mux: Any = None, *, check: bool = False) -> HostConnection:
    """The connection of host ``name`` from its (rendered) variables and the command line's
    defaults; ``check``: the run's mode."""
    password = hostvars.get("ansible_become_password", hostvars.get("ansible_become_pass"))
    return HostConnection(name, transport_spec(name, hostvars, defaults), interpreter_for(hostvars), payload,
                          defaults.become_password if password is None else str(password), mux,
                          max_output_for(hostvars, defaults), check=check,
                          bootstrap_python=_bool(hostvars.get(BOOTSTRAP_VAR, False)))
