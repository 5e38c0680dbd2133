"""A leased agent as the run sees it: the daemon's records, keepalives, ends and silences.

A fake daemon speaks records over a socket pair to a real AgentSession; what matters is what
the run reports: the agent's death as the host's (with its cause), the daemon's as the daemon's.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable

import pytest

from fleet.agent import wire
from fleet.connection.mux import records
from fleet.connection.mux.stream import MuxAgentProcess
from fleet.connection.session import AgentSession
from fleet.errors import AgentError, AgentLost
from fleet.transport.base import RelayLost

DAEMON = "the persistence daemon (pid 4242)"
Daemon = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def _exchange(daemon: Daemon, silence: float = 5.0, request: dict | None = None) -> tuple[dict, list[str]]:
    """Send one request through a lease served by ``daemon``; (the answer, what on_lost got)."""
    ours, theirs = socket.socketpair(socket.AF_UNIX)
    reader, writer = await asyncio.open_unix_connection(sock=ours)
    their_reader, their_writer = await asyncio.open_unix_connection(sock=theirs)
    served = asyncio.ensure_future(daemon(their_reader, their_writer))
    lost: list[str] = []
    process = MuxAgentProcess(reader, writer, DAEMON, on_lost=lost.append, silence=silence)
    session = AgentSession("web1", process, hello={"version": wire.VERSION})
    session.leased = True
    try:
        return await session.request(request or {"op": "ping"}), lost
    finally:
        process.kill()
        served.cancel()
        their_writer.close()


async def _frame(reader: asyncio.StreamReader) -> dict:
    """The run's request, as the agent would read it."""
    flags, length, _ = wire.parse_header(await reader.readexactly(wire.HEADER.size))
    return wire.parse_json(wire.inflate(flags, await reader.readexactly(length), wire.MAX_MESSAGE))


def _run(daemon: Daemon, **kwargs: object) -> tuple[dict, list[str]]:
    return asyncio.run(_exchange(daemon, **kwargs))  # type: ignore[arg-type]


def test_the_agents_answer_comes_through_in_pieces_between_keepalives() -> None:
    async def daemon(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = await _frame(reader)
        answer = wire.encode({"id": request["id"], "pong": True})
        for _ in range(30):  # a slow task: longer than the silence limit and its grace, never silent
            writer.write(records.encode(records.KEEPALIVE))
            await asyncio.sleep(0.05)
        for position in range(0, len(answer), 7):
            writer.write(records.encode(records.DATA, answer[position:position + 7]))
        await asyncio.sleep(3600)

    answer, lost = _run(daemon, silence=0.2)
    assert answer["pong"] is True and lost == []


@pytest.mark.parametrize(("code", "said", "reason", "message"), [
    (-9, "", "", "the agent on the host was killed (SIGKILL)"),
    (137, "", "", "the agent on the host was killed (SIGKILL)"),
    (3, "Traceback: boom", "", "the agent on the host exited unexpectedly (exit status 3): Traceback: boom"),
    (None, "", "no answer within 40 s to SSH keepalives",
     "connection to the host lost (no answer within 40 s to SSH keepalives)"),
])
def test_an_agent_that_ended_is_reported_as_the_host_would_be(code: int | None, said: str, reason: str,
                                                               message: str) -> None:
    async def daemon(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _frame(reader)
        writer.write(records.encode(records.DATA, b"\x00\x01"))  # a frame cut short
        writer.write(records.encode_json(records.END, {"code": code, "said": said, "reason": reason}))
        await asyncio.sleep(3600)

    with pytest.raises(AgentLost) as lost:
        _run(daemon)
    assert lost.value.message == message


@pytest.mark.parametrize(("daemon_does", "why"), [
    ("close", f"{DAEMON} closed the connection (killed, or crashed?)"),
    ("silence", f"{DAEMON} sent nothing for 0.3 s (stopped, or overloaded?)"),
    ("stop", f"{DAEMON}: was stopped ('fleet mux stop')"),
    ("garbage", f"{DAEMON} broke its protocol: unknown record b'X' of 0 bytes"),
])
def test_a_lost_daemon_is_named_and_the_host_is_not_blamed(daemon_does: str, why: str) -> None:
    async def daemon(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _frame(reader)
        if daemon_does == "close":
            writer.close()
        elif daemon_does == "stop":
            writer.write(records.encode_json(records.END, {"lost": "was stopped ('fleet mux stop')"}))
        elif daemon_does == "garbage":
            writer.write(b"X\x00\x00\x00\x00")
        await asyncio.sleep(3600)

    with pytest.raises(AgentError) as failed:
        _run(daemon, silence=0.3)
    assert not isinstance(failed.value, AgentLost)  # a failed task, not an unreachable host
    assert failed.value.message == f"{why}: whether the request reached the host, and what it did there, is unknown"


def test_a_daemon_that_stops_reading_ends_a_big_request_too() -> None:
    """A stopped daemon reads nothing: the run's write must not wait forever either."""
    async def daemon(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(3600)  # never reads, never writes

    with pytest.raises(AgentError, match="sent nothing for 0.3 s"):
        _run(daemon, silence=0.3, request={"op": "ping", "blob": "x" * (16 * 1024 * 1024)})


def test_the_daemon_lost_between_requests_is_noticed_at_once() -> None:
    async def scenario() -> tuple[list[str], bool]:
        ours, theirs = socket.socketpair(socket.AF_UNIX)
        reader, writer = await asyncio.open_unix_connection(sock=ours)
        lost: list[str] = []
        process = MuxAgentProcess(reader, writer, DAEMON, on_lost=lost.append, silence=30)
        theirs.close()  # the daemon is killed while the host has nothing to do
        for _ in range(100):
            if lost:
                break
            await asyncio.sleep(0.01)
        try:
            await process.write(b"next request")
        except RelayLost:
            return lost, True
        return lost, False

    lost, refused = asyncio.run(scenario())
    assert lost == [f"{DAEMON} closed the connection (killed, or crashed?)"] and refused


def test_records_refuse_what_is_not_a_record() -> None:
    async def read(data: bytes) -> tuple[bytes, bytes]:
        reader = asyncio.StreamReader()
        reader.feed_data(data)
        reader.feed_eof()
        return await records.read(reader)

    assert asyncio.run(read(records.encode(records.DATA, b"abc"))) == (records.DATA, b"abc")
    with pytest.raises(records.RecordError):
        asyncio.run(read(b"D" + (records.MAX_RECORD + 1).to_bytes(4, "big")))
    with pytest.raises(records.RecordError):
        records.parse_json(b"[1]")
