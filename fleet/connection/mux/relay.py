"""The daemon's side of a lease once the agent is lent: bytes both ways, and the end told.

When the run hangs up, the agent is drained (a ping must come back before anything else is
trusted) and kept. When the agent's stream ends first (the agent was killed, the host or its
connection went), the run is sent an end record saying why — exit status or signal, the
agent's last line of stderr, the connection's reason — and its connection is closed: a run
never waits on an agent that is gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

import fleet.connection.mux.records as records
from fleet.agent import wire
from fleet.connection.agentstart import last_line
from fleet.connection.session import AgentSession

DRAIN_TIMEOUT = 3.0  # seconds a returned agent has to answer the ping that proves it is in step
END_WAIT = 5.0  # seconds an agent that stopped reading has to end its stream (and say why)
CHUNK = 65536


async def relay(reader: asyncio.StreamReader, sender: records.Sender, session: AgentSession) -> bool:
    """Copy bytes both ways until one side ends; True if the run hung up with the agent still
    there (to be drained and kept), False if the agent's stream ended (the run was told)."""

    async def to_run() -> None:
        while chunk := await session.process.read_chunk(CHUNK):
            sender.send(records.DATA, chunk)
            await sender.drain()

    async def to_agent() -> None:
        while chunk := await reader.read(CHUNK):
            await session.process.write(chunk)

    agent_side, run_side = asyncio.ensure_future(to_run()), asyncio.ensure_future(to_agent())
    try:
        await asyncio.wait({agent_side, run_side}, return_when=asyncio.FIRST_COMPLETED)
        if run_side.done() and isinstance(run_side.exception(), EOFError):
            # the agent no longer takes input: its stream ends next, with the reason
            await asyncio.wait({agent_side}, timeout=END_WAIT)
        elif not agent_side.done():
            return not session.broken  # the run hung up (or its connection failed)
        if agent_side.done() and agent_side.exception() is not None:
            return False  # the run's connection failed while the agent was answering
        await tell_end(sender, session)
        return False
    finally:
        for side in (agent_side, run_side):
            side.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await side


async def tell_end(sender: records.Sender, session: AgentSession) -> None:
    """Tell the run why the agent's stream ended, as it would see it without the daemon."""
    session.broken = True
    process = session.process
    code = await process.finish(timeout=2.0)
    reason = str(getattr(process, "reason", "") or "")
    sender.send_json(records.END, {"code": code, "said": last_line(process.stderr_text(), session.prompt),
                                   "reason": reason})
    with contextlib.suppress(Exception):
        await asyncio.wait_for(sender.drain(), 2.0)


async def drain(session: AgentSession) -> bool:
    """Make sure no answer of the last run is still on its way: ping, skip to the pong.

    The ping follows a ``detach``: the run that leased the agent is gone, so the agent
    finishes the task in flight, starts no other and lets go of the run's lock on its host
    (fleet.agent.inbox); only then does it answer the ping."""
    ping_id = f"mux-{time.monotonic_ns()}"
    try:
        await session.process.write(wire.encode({"op": "detach"}) + wire.encode({"op": "ping", "id": ping_id}))
        deadline = time.monotonic() + DRAIN_TIMEOUT
        while True:
            answer = await asyncio.wait_for(session.read_message(), max(0.01, deadline - time.monotonic()))
            if answer.get("id") == ping_id and answer.get("pong"):
                return True
    except (TimeoutError, EOFError, wire.FrameError, OSError):
        session.broken = True
        return False
