"""The persistence daemon: keeps connections and started agents between runs.

It listens on a private unix socket (0700 directory, same-uid peers only). A client leases an
agent by its settings; the daemon reuses an idle one with the same key or starts a new one over
a shared transport, answers with the agent's hello, and then relays bytes both ways (as
records, with keepalives and the cause of an agent's end: :mod:`fleet.connection.mux.relay`). When the
client hangs up, the agent is drained (a ping must come back before anything else is trusted)
and kept for the lease's ``persist`` seconds, never longer than the daemon's cap (the
``--persist`` it was started with); unused agents and connections are closed, and the daemon
exits when it has had nothing to keep for that long.

The daemon is a credential cache, as ssh-agent is: a kept agent that sudo started with a
password is root (or another user) without asking again. It is lent only to a lease that
sends the same password (see :class:`~fleet.connection.mux.protocol.Keyer`), and the daemon's memory is
closed to tracing and core dumps (:mod:`fleet.connection.mux.memory`). ``fleet mux stop`` forgets it all;
so do SIGTERM, SIGINT and SIGHUP, and the runs it serves are told that the daemon stopped.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import os
import signal
import sys
import time
import traceback
from dataclasses import dataclass, field
from typing import Any

import fleet.connection.mux.memory as memory
import fleet.connection.mux.records as records
from fleet.connection.mux.place import UnsafePlace, peer
from fleet.connection.mux.protocol import (
    DAEMON_REVISION,
    DEFAULT_PERSIST,
    Keyer,
    lease_persist,
    socket_path,
    valid_persist,
)
from fleet.connection.mux.relay import drain, relay
from fleet.connection.session import AgentSession, Become
from fleet.errors import FleetError
from fleet.transport import AgentProcess, Transport, TransportSpec


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
    stopped_by: str = "'fleet mux stop'"  # what ended the daemon, told to the runs it serves
    active: set[records.Sender] = field(default_factory=set)  # leases under way

    def stop(self, by: str) -> None:
        self.stopped_by = by
        self.stopping.set()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not _same_user(writer):
            writer.close()
            return
        try:
            request = json.loads(await asyncio.wait_for(reader.readline(), records.SILENCE_LIMIT) or b"{}")
        except (ValueError, TimeoutError, ConnectionError):
            writer.close()
            return
        op = request.get("op") if isinstance(request, dict) else None
        if op == "lease":
            await self.lease(request, reader, writer)
        elif op == "ping":
            writer.write(json.dumps({"pid": os.getpid(), "revision": DAEMON_REVISION}).encode() + b"\n")
            await writer.drain()
            writer.close()
        elif op in ("status", "stop"):
            writer.write(json.dumps(self.status()).encode() + b"\n")
            await writer.drain()
            writer.close()
            if op == "stop":
                self.stop("'fleet mux stop'")
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
        """Lend an agent, then relay. The run hears from the daemon at least every
        KEEPALIVE_INTERVAL seconds, while the host is connected to and while the agent works."""
        self.leases += 1
        self.last_activity = time.monotonic()
        sender = records.Sender(writer)
        self.active.add(sender)
        replied = False
        try:
            replied = await self._lease(request, reader, sender)
        except Exception as exc:  # a fault of the daemon, not of the host: the run connects directly
            where = traceback.extract_tb(exc.__traceback__)[-1]
            print(f"lease failed: {type(exc).__name__} at {where.filename}:{where.lineno}", file=sys.stderr, flush=True)
            failure = f"{type(exc).__name__} in the daemon (see its mux.log)"
            if replied:
                sender.send_json(records.END, {"lost": failure})
            else:
                sender.send_json(records.REPLY, {"ok": False, "daemon_error": failure})
        finally:
            self.active.discard(sender)
            await sender.close()
            self.leases -= 1
            self.last_activity = time.monotonic()

    async def _lease(self, request: dict[str, Any], reader: asyncio.StreamReader, sender: records.Sender) -> bool:
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
            sender.send_json(records.REPLY, {"ok": False, "error": exc.message})
            return True
        sender.send_json(records.REPLY, {"ok": True, "hello": session.hello, "reused": reused})
        try:
            healthy = await relay(reader, sender, session)
        except BaseException:
            await self._drop(session, transport_key)
            raise
        if healthy and await drain(session):
            self.idle.setdefault(key, []).append(Idle(session, transport_key, time.monotonic(), persist,
                                                      request["host"], become_user, password is not None))
        else:
            await self._drop(session, transport_key)
        return True

    async def _agent(self, key: str, transport_key: str, spec: TransportSpec, request: dict[str, Any],
                     payload: bytes, become: dict[str, Any] | None) -> tuple[AgentSession, bool]:
        entries = self.idle.get(key, [])
        while entries:
            idle = entries.pop()
            if not idle.session.broken and await drain(idle.session):  # still alive and in step?
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
        # Runs under way hear it from the daemon, not as a host's fault: every lease at once, so
        # that a run does not send its next task through one before it hears of the others.
        leases = list(self.active)
        for sender in leases:
            sender.send_json(records.END, {"lost": f"was stopped ({self.stopped_by})"})
        await asyncio.gather(*(sender.close() for sender in leases))
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


def _same_user(writer: asyncio.StreamWriter) -> bool:
    try:
        return peer(writer.get_extra_info("socket")).uid == os.geteuid()
    except (OSError, AttributeError):
        return False


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
    loop = asyncio.get_running_loop()
    for number in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        loop.add_signal_handler(number, daemon.stop, signal.Signals(number).name)
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
    """Start the daemon (``python -P -m fleet.connection.mux.server --persist SECONDS``, by the client)."""
    parser = argparse.ArgumentParser(prog="fleet.connection.mux.server")
    parser.add_argument("--persist", type=_cap, default=DEFAULT_PERSIST,
                        help="the longest any agent is kept idle (seconds, finite, above 0)")
    args = parser.parse_args(argv)
    try:
        memory.protect()  # before the first secret arrives
        path = socket_path()
    except (OSError, UnsafePlace) as exc:
        sys.exit(f"fleet persistence daemon: not started: {exc}")
    print(f"fleet persistence daemon {os.getpid()} on {path}, keeping agents at most "
          f"{args.persist:g} s", file=sys.stderr, flush=True)
    asyncio.run(serve(args.persist))


if __name__ == "__main__":
    main()
