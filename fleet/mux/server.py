"""The persistence daemon: keeps connections and started agents between runs.

It listens on a private unix socket (0700 directory, same-uid peers only). A client leases an
agent by its settings; the daemon reuses an idle one with the same key or starts a new one over
a shared transport, answers with the agent's hello, and then relays bytes both ways. When the
client hangs up, the agent is drained (a ping must come back before anything else is trusted)
and kept for the lease's ``persist`` seconds, never longer than the daemon's cap (the
``--persist`` it was started with); unused agents and connections are closed, and the daemon
exits when it has had nothing to keep for that long.

The daemon is a credential cache, as ssh-agent is: a kept agent that sudo started with a
password is root (or another user) without asking again. It is lent only to a lease that
sends the same password (see :class:`~fleet.mux.protocol.Keyer`), and the daemon's memory is
closed to tracing and core dumps (:mod:`fleet.mux.memory`). ``fleet mux stop`` forgets it all.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import os
import socket
import struct
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from fleet.agent import wire
from fleet.errors import FleetError
from fleet.executor.connection import TransportSpec
from fleet.mux import memory
from fleet.mux.protocol import DEFAULT_PERSIST, Keyer, lease_persist, socket_path, valid_persist
from fleet.session import AgentSession, Become
from fleet.transport.base import AgentProcess, Transport

DRAIN_TIMEOUT = 3.0


@dataclass
class Idle:
    """An agent waiting in the daemon for the next lease with its key."""

    session: AgentSession
    transport_key: str
    since: float
    persist: float
    host: str
    become: str | None
    password: bool  # became with a sudo password: only a lease with the same one gets it


@dataclass
class Daemon:
    """The daemon's state: shared transports, idle agents, leases in progress."""

    transports: dict[str, Transport] = field(default_factory=dict)
    users: dict[str, int] = field(default_factory=dict)  # transport key -> live agents on it
    idle: dict[str, list[Idle]] = field(default_factory=dict)
    leases: int = 0
    last_activity: float = field(default_factory=time.monotonic)
    cap: float = DEFAULT_PERSIST  # no agent is kept idle longer, whatever a lease asks
    keyer: Keyer = field(default_factory=Keyer)
    stopping: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not _same_user(writer):
            writer.close()
            return
        try:
            request = json.loads(await reader.readline() or b"{}")
        except ValueError:
            writer.close()
            return
        op = request.get("op")
        if op == "lease":
            await self.lease(request, reader, writer)
        elif op in ("status", "stop"):
            writer.write(json.dumps(self.status()).encode() + b"\n")
            await writer.drain()
            writer.close()
            if op == "stop":
                self.stopping.set()
        else:
            writer.close()

    def status(self) -> dict[str, Any]:
        now = time.monotonic()
        return {"pid": os.getpid(), "persist": self.cap, **memory.protection(), "leases": self.leases,
                "connections": len(self.transports),
                "idle": [{"host": i.host, "become": i.become, "password": i.password,
                          "idle_s": round(now - i.since, 1), "keep_s": i.persist,
                          "agent_pid": i.session.hello.get("pid")} for entries in self.idle.values() for i in entries]}

    async def lease(self, request: dict[str, Any], reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.leases += 1
        self.last_activity = time.monotonic()
        spec = TransportSpec(request["kind"], request["params"])
        payload = base64.b64decode(request["payload"])
        become = request.get("become")
        become_user = become["user"] if become else None
        password = become.get("password") if become else None
        # keyed by inventory host too: two inventory names for one machine get two connections,
        # as they would without the daemon
        params = {**spec.params, "inventory_hostname": request["host"]}
        key = self.keyer.agent(spec.kind, params, request["interpreter"], become_user, password, payload)
        transport_key = self.keyer.transport(spec.kind, params)
        persist = lease_persist(request.get("persist"), self.cap)
        try:
            session, reused = await self._agent(key, transport_key, spec, request, payload, become)
        except FleetError as exc:
            writer.write(json.dumps({"ok": False, "error": exc.message}).encode() + b"\n")
            await writer.drain()
            writer.close()
            self.leases -= 1
            return
        writer.write(json.dumps({"ok": True, "hello": session.hello, "reused": reused}).encode() + b"\n")
        await writer.drain()
        healthy = await _relay(reader, writer, session)
        if healthy and await _drain(session):
            self.idle.setdefault(key, []).append(Idle(session, transport_key, time.monotonic(), persist,
                                                      request["host"], become_user, password is not None))
        else:
            await self._drop(session, transport_key)
        writer.close()
        self.leases -= 1
        self.last_activity = time.monotonic()

    async def _agent(self, key: str, transport_key: str, spec: TransportSpec, request: dict[str, Any],
                     payload: bytes, become: dict[str, Any] | None) -> tuple[AgentSession, bool]:
        entries = self.idle.get(key, [])
        while entries:
            idle = entries.pop()
            if not idle.session.broken and await _drain(idle.session):  # still alive and in step?
                return idle.session, True
            await self._drop(idle.session, idle.transport_key)
        become_obj = Become(become["user"], become.get("password")) if become else None
        for attempt in (1, 2):
            transport = self.transports.get(transport_key)
            fresh = transport is None
            if transport is None:
                transport = spec.build()
                await transport.connect()
                self.transports[transport_key] = transport
            opened = _Opened(transport)
            try:
                session = await AgentSession.start(opened, request["host"], request["interpreter"], payload,
                                                   become_obj)
            except FleetError:
                # The connection opened a session, so the agent itself did not start (sudo refused
                # the password, no python3): the connection and its other agents are fine.
                if fresh or attempt == 2 or opened.spawned:
                    if not self.users.get(transport_key):
                        await self._close_transport(transport_key)
                    raise
                await self._close_transport(transport_key)  # a kept connection that died: reconnect once
                continue
            self.users[transport_key] = self.users.get(transport_key, 0) + 1
            return session, False
        raise AssertionError("unreachable")

    async def _drop(self, session: AgentSession, transport_key: str) -> None:
        with contextlib.suppress(Exception):
            session.process.kill()
        self.users[transport_key] = max(0, self.users.get(transport_key, 1) - 1)
        if not self.users[transport_key]:
            await self._close_transport(transport_key)

    async def _close_transport(self, transport_key: str) -> None:
        transport = self.transports.pop(transport_key, None)
        self.users.pop(transport_key, None)
        if transport is not None:
            with contextlib.suppress(Exception):
                await transport.close()

    async def reap(self) -> None:
        """Close agents idle longer than their persist time; stop when nothing is left to keep."""
        while not self.stopping.is_set():
            await asyncio.sleep(1.0)
            now = time.monotonic()
            for key, entries in list(self.idle.items()):
                for idle in [i for i in entries if now - i.since > i.persist]:
                    entries.remove(idle)
                    await idle.session.close()
                    await self._drop(idle.session, idle.transport_key)
                if not entries:
                    del self.idle[key]
            if not self.idle and not self.leases and now - self.last_activity > self.cap:
                self.stopping.set()

    async def shutdown(self) -> None:
        for entries in self.idle.values():
            for idle in entries:
                with contextlib.suppress(Exception):
                    await idle.session.close()
        self.idle.clear()
        for key in list(self.transports):
            await self._close_transport(key)


class _Opened:
    """A kept transport that notes whether it could still open a session for an agent."""

    def __init__(self, transport: Transport) -> None:
        self.transport = transport
        self.name = transport.name
        self.spawned = False

    async def connect(self) -> None:
        await self.transport.connect()

    async def spawn(self, command: str) -> AgentProcess:
        process = await self.transport.spawn(command)
        self.spawned = True
        return process

    async def close(self) -> None:
        await self.transport.close()


async def _relay(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, session: AgentSession) -> bool:
    """Copy bytes both ways until the client hangs up; False if the agent's stream ended."""
    agent_alive = True

    async def to_client() -> None:
        nonlocal agent_alive
        while chunk := await session.process.read_chunk(65536):
            writer.write(chunk)
            await writer.drain()
        agent_alive = False

    pump = asyncio.ensure_future(to_client())
    try:
        while chunk := await reader.read(65536):
            await session.process.write(chunk)
    except (EOFError, ConnectionError, OSError):
        agent_alive = False
    pump.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await pump
    return agent_alive and not session.broken


async def _drain(session: AgentSession) -> bool:
    """Make sure no answer of the last client is still on its way: ping, skip to the pong."""
    ping_id = f"mux-{time.monotonic_ns()}"
    try:
        await session.process.write(wire.encode({"op": "ping", "id": ping_id}))
        deadline = time.monotonic() + DRAIN_TIMEOUT
        while True:
            answer = await asyncio.wait_for(session.read_message(), max(0.01, deadline - time.monotonic()))
            if answer.get("id") == ping_id and answer.get("pong"):
                return True
    except (TimeoutError, EOFError, wire.FrameError, OSError):
        session.broken = True
        return False


def _same_user(writer: asyncio.StreamWriter) -> bool:
    sock = writer.get_extra_info("socket")
    try:
        creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    except OSError:
        return False
    _pid, uid, _gid = struct.unpack("3i", creds)
    return uid == os.getuid()


async def serve(cap: float) -> None:
    path = socket_path()
    daemon = Daemon(cap=cap)
    old_umask = os.umask(0o177)
    try:
        # A run leases every host's agent at once: room for thousands of pending connections
        # (asyncio's default backlog, 100, reset the 101st of 200 simultaneous leases).
        server = await asyncio.start_unix_server(daemon.handle, path=str(path), limit=2**26, backlog=4096)
    finally:
        os.umask(old_umask)
    reaper = asyncio.ensure_future(daemon.reap())
    try:
        await daemon.stopping.wait()
    finally:
        server.close()
        reaper.cancel()
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        await daemon.shutdown()


def _cap(text: str) -> float:
    seconds = valid_persist(text)
    if seconds is None:
        raise argparse.ArgumentTypeError(f"not a finite number of seconds above 0: {text!r}")
    return seconds


def main(argv: list[str] | None = None) -> None:
    """Start the daemon (``python -P -m fleet.mux.server --persist SECONDS``, by the client)."""
    parser = argparse.ArgumentParser(prog="fleet.mux.server")
    parser.add_argument("--persist", type=_cap, default=DEFAULT_PERSIST,
                        help="the longest any agent is kept idle (seconds, finite, above 0)")
    args = parser.parse_args(argv)
    try:
        memory.protect()  # before the first secret arrives
    except OSError as exc:
        sys.exit(f"fleet persistence daemon: not started: {exc}")
    print(f"fleet persistence daemon {os.getpid()} on {socket_path()}, keeping agents at most "
          f"{args.persist:g} s", file=sys.stderr, flush=True)
    asyncio.run(serve(args.persist))


if __name__ == "__main__":
    main()
