"""Fuzzing the agent frame decoder (fleet/agent/wire.py) and the controller side (AgentSession).

Properties: a valid frame decodes to exactly what was sent; any other byte string -- random,
truncated, one byte changed, a corrupted length, another version, an oversized length -- is a
FrameError (agent side) or ends the host's session with one AgentError/ConnectionFailed naming
the host (controller side), never another exception, a hang or a different message.
"""

from __future__ import annotations

import asyncio
import io
import json
import zlib
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from fleet.agent import wire
from fleet.connection.session import READY, AgentSession
from fleet.errors import AgentError, AgentLost, ConnectionFailed, FleetError
from tests.unit.fuzz.support import frame_header as header
from tests.unit.fuzz.support import fuzz_settings, guarded, outcome

messages = st.dictionaries(
    st.text(max_size=8),
    st.recursive(
        st.one_of(st.none(), st.booleans(), st.integers(-(2**63), 2**63), st.floats(allow_nan=False),
                  st.text(max_size=20)),
        lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=6), inner, max_size=4)),
        max_leaves=15),
    max_size=5)
# a message big enough to be compressed
big_messages = messages.map(lambda m: dict(m, blob="x" * (wire.COMPRESS_ABOVE + 10)))


class Reader(io.RawIOBase):
    """A blocking stream that hands out at most ``chunk`` bytes per read and records the sizes
    asked for (an oversized length must never be asked for)."""

    def __init__(self, data: bytes, chunk: int = 7) -> None:
        self.data, self.chunk = data, chunk
        self.asked: list[int] = []

    def read(self, size: int = -1) -> bytes:
        self.asked.append(size)
        out, self.data = self.data[:min(size, self.chunk)], self.data[min(size, self.chunk):]
        return out


def decode(data: bytes) -> Any:
    return outcome(lambda: wire.read_frame(Reader(data)), allowed=(wire.FrameError,))


# -- the decoder ---------------------------------------------------------------------------------


@fuzz_settings(200)
@given(message=st.one_of(messages, big_messages))
def test_round_trip(message: dict[str, Any]) -> None:
    frame = guarded(lambda: wire.encode(message))
    assert frame[:3] == b"FL\x02"
    assert json.loads(json.dumps(message)) == decode(frame)


@fuzz_settings(300)
@given(data=st.binary(max_size=64))
@example(data=b"")
@example(data=b"FL")
@example(data=header(0, 2**32 - 1))  # 4 GiB length: refused, nothing read
@example(data=b"FL\x01\x00\x00\x00\x00\x02{}")  # a version-1 frame
@example(data=header(0, 2, zlib.crc32(b"[]")) + b"[]")  # not an object
@example(data=header(1, 1, zlib.crc32(b"x")) + b"x")  # bad zlib
def test_random_bytes(data: bytes) -> None:
    result = decode(data)
    assert result is None or isinstance(result, dict | wire.FrameError)
    if data == b"":
        assert result is None


@fuzz_settings(300)
@given(message=st.one_of(messages, big_messages), data=st.data())
def test_one_changed_byte_is_always_detected(message: dict[str, Any], data: st.DataObject) -> None:
    frame = bytearray(wire.encode(message))
    position = data.draw(st.integers(0, len(frame) - 1), label="position")
    frame[position] ^= data.draw(st.integers(1, 255), label="xor")
    result = decode(bytes(frame))
    assert isinstance(result, wire.FrameError), f"corrupted frame decoded as {result!r:.200}"


@fuzz_settings(200)
@given(message=st.one_of(messages, big_messages), data=st.data())
def test_a_changed_header_is_refused_before_the_payload_is_read(message: dict[str, Any],
                                                              data: st.DataObject) -> None:
    """A corrupted length must not leave the reader waiting for bytes that never come."""
    frame = bytearray(wire.encode(message))
    frame[data.draw(st.integers(0, wire.HEADER.size - 1), label="position")] ^= data.draw(
        st.integers(1, 255), label="xor")
    stream = Reader(bytes(frame[:wire.HEADER.size]))  # no payload to read
    with pytest.raises(wire.FrameError):
        wire.read_frame(stream)
    assert max(stream.asked) <= wire.HEADER.size


@fuzz_settings(200)
@given(message=st.one_of(messages, big_messages), data=st.data())
def test_truncated_frames(message: dict[str, Any], data: st.DataObject) -> None:
    frame = wire.encode(message)
    cut = data.draw(st.integers(1, len(frame) - 1), label="cut")
    result = decode(frame[:cut])
    assert isinstance(result, wire.FrameError), result
    assert "truncated" in str(result)


@fuzz_settings(100)
@given(length=st.integers(wire.MAX_FRAME + 1, 2**32 - 1), flags=st.sampled_from([0, 1]))
def test_oversized_length_is_refused_before_reading(length: int, flags: int) -> None:
    stream = Reader(header(flags, length) + b"x" * 100)
    with pytest.raises(wire.FrameError, match="exceeds the 268435456 byte limit"):
        wire.read_frame(stream)
    assert max(stream.asked) <= wire.HEADER.size


def test_limits_are_documented_values() -> None:
    assert wire.MAX_FRAME == 256 * 1024 * 1024
    assert wire.MAX_MESSAGE == 1024 * 1024 * 1024


def test_compressed_bomb_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(wire, "MAX_MESSAGE", 1000)
    payload = zlib.compress(b'{"a":"' + b"x" * 5000 + b'"}')
    frame = header(wire.FLAG_ZLIB, len(payload), zlib.crc32(payload)) + payload
    with pytest.raises(wire.FrameError, match="inflates past the 1000 byte limit"):
        wire.read_frame(Reader(frame))


def test_encode_refuses_what_the_other_side_would(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(wire, "MAX_MESSAGE", 100)
    with pytest.raises(wire.FrameError, match="exceeds the 100 byte limit"):
        wire.encode({"a": "x" * 200})
    with pytest.raises(wire.FrameError, match="cannot be sent"):
        wire.encode({"a": "\ud800"})  # a lone surrogate: not UTF-8


def test_deeply_nested_json_is_a_frame_error() -> None:
    payload = b"[" * 100_000 + b"]" * 100_000
    frame = header(0, len(payload), zlib.crc32(payload)) + payload
    assert isinstance(decode(frame), wire.FrameError)


def test_hello_keeps_the_version_1_layout() -> None:
    frame = wire.encode({"op": "hello", "version": wire.VERSION})
    assert frame[:3] == b"FL\x01"
    flags, length = wire.parse_hello_header(frame[:wire.PREFIX.size])
    assert wire.decode_payload(flags, frame[wire.PREFIX.size:]) == {"op": "hello", "version": 2}


# -- the controller side -------------------------------------------------------------------------


class FakeAgent:
    """An AgentProcess whose stdout is ``data``; records what was written and asked for."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.written: list[bytes] = []
        self.asked: list[int] = []
        self.killed = False

    async def write(self, data: bytes) -> None:
        self.written.append(data)

    async def read_exactly(self, size: int) -> bytes:
        self.asked.append(size)
        if len(self.data) < size:
            got, self.data = len(self.data), b""
            raise EOFError(f"stream ended after {got} of {size} bytes")
        out, self.data = self.data[:size], self.data[size:]
        return out

    async def read_line(self, limit: int = 4096) -> bytes:
        line, sep, self.data = self.data.partition(b"\n")
        return line + sep

    async def read_chunk(self, limit: int = 65536) -> bytes:
        out, self.data = self.data[:limit], self.data[limit:]
        return out

    def stderr_text(self) -> str:
        return ""

    async def finish(self, timeout: float = 2.0) -> int | None:
        return None

    def kill(self) -> None:
        self.killed = True


class FakeTransport:
    name = "fake"

    def __init__(self, data: bytes) -> None:
        self.agent = FakeAgent(data)

    async def connect(self) -> None:
        return None

    async def spawn(self, command: str) -> FakeAgent:
        return self.agent

    async def close(self) -> None:
        return None


HELLO = {"op": "hello", "version": wire.VERSION, "cache_tag": "none", "pid": 1}


def answer(**fields: Any) -> bytes:
    return wire.encode({**fields, "id": 1})


def session_for(data: bytes) -> tuple[AgentSession, FakeAgent]:
    agent = FakeAgent(data)
    return AgentSession("web1", agent, hello=dict(HELLO)), agent


def ask(session: AgentSession) -> Any:
    return asyncio.run(asyncio.wait_for(session.request({"op": "ping"}, timeout=5), 10))


@fuzz_settings(300)
@given(data=st.one_of(
    st.binary(max_size=80),
    messages.map(lambda m: answer(**m)),
    st.tuples(messages, st.integers(0, 200), st.integers(1, 255)).map(
        lambda t: bytes(b ^ t[2] if i == t[1] else b for i, b in enumerate(answer(**{**t[0], "results": []}))))))
@example(data=answer(progress=5))  # found: TypeError (progress.extend of a non-list)
@example(data=answer(progress=[1, 2]) + answer(results=[]))
@example(data=header(0, 2**32 - 1))
@example(data=wire.encode({"id": 2, "pong": True}))
@example(data=answer(error="agent: corrupt frame: checksum mismatch on 10 bytes"))
def test_session_answers(data: bytes) -> None:
    session, agent = session_for(data)
    result = outcome(lambda: ask(session), allowed=(FleetError,))
    if isinstance(result, FleetError):
        assert isinstance(result, AgentError)
        assert session.broken
        assert all(size <= wire.MAX_FRAME for size in agent.asked)
        if not isinstance(result, AgentLost):  # the stream ended: "connection to the host lost"
            assert "web1" in str(result), result
    else:
        assert result["id"] == 1 and not session.broken


@fuzz_settings(200)
@given(statuses=st.lists(st.one_of(st.sampled_from(["ok", "changed", "failed", "skipped"]), st.text(max_size=5),
                                   st.none(), st.integers()), min_size=1, max_size=3),
       as_dicts=st.booleans())
def test_malformed_results_end_the_session(statuses: list[Any], as_dicts: bool) -> None:
    from fleet.connection import ModuleCall
    from fleet.connection.session import STATUSES

    results = [{"status": s, "changed": False, "msg": "", "data": {}} if as_dicts else s for s in statuses]
    session, agent = session_for(answer(results=results))
    calls = [ModuleCall("ping", "x = 1\n", "sha", {}) for _ in statuses]
    result = outcome(lambda: asyncio.run(session.run(calls, timeout=5)),
                     names=("web1",), allowed=(AgentError,))
    valid = as_dicts and all(s in STATUSES for s in statuses)
    if valid:
        assert result == results
    else:
        assert isinstance(result, AgentError) and "malformed result list" in str(result)
        assert session.broken and agent.killed


def test_corrupt_answer_ends_the_session_naming_the_host() -> None:
    frame = bytearray(answer(results=[{"status": "ok"}]))
    frame[-3] ^= 0x20
    session, agent = session_for(bytes(frame))
    with pytest.raises(AgentError) as info:
        ask(session)
    assert str(info.value).startswith("agent protocol error on web1: corrupt frame: checksum mismatch")
    assert session.broken and agent.killed
    with pytest.raises(AgentError, match="closed"):
        ask(session)


def test_truncated_answer_is_a_lost_agent() -> None:
    session, _ = session_for(answer(results=[])[:-2])
    with pytest.raises(AgentLost, match="connection to the host lost"):
        ask(session)
    assert session.broken


def test_oversized_answer_length_is_refused_before_reading() -> None:
    session, agent = session_for(header(0, wire.MAX_FRAME + 1) + b"{}")
    with pytest.raises(AgentError, match="web1: frame of 268435457 bytes exceeds"):
        ask(session)
    assert agent.asked == [wire.HEADER.size] and agent.killed


def test_request_too_big_to_send_keeps_the_session(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(wire, "MAX_MESSAGE", 50)
    session, agent = session_for(b"")
    with pytest.raises(AgentError, match="cannot send the request to the agent on web1"):
        asyncio.run(session.request({"op": "run", "pad": "x" * 100}))
    assert not session.broken and not agent.written and session.requests == 0


def start(data: bytes) -> Any:
    transport = FakeTransport(data)
    return outcome(lambda: asyncio.run(AgentSession.start(transport, "web1", "python3", b"payload", timeout=5)),
                   allowed=(ConnectionFailed,))


def test_hello_of_another_protocol_version_names_both_and_the_host() -> None:
    hello = b'{"op":"hello","version":1}'
    old = wire.PREFIX.pack(b"FL", 1, 0, len(hello)) + hello
    result = start(READY + b"\n" + old)
    assert isinstance(result, ConnectionFailed)
    assert "web1" in str(result) and "version 1" in str(result) and "speaks 2" in str(result)


def test_leased_session_with_another_version_fails_at_first_request() -> None:
    agent = FakeAgent(answer(pong=True))
    session = AgentSession("web1", agent, hello={"op": "hello", "version": 3})
    with pytest.raises(ConnectionFailed, match="web1: the agent speaks frame protocol version 3"):
        ask(session)
    assert session.broken and agent.killed and not agent.written


@fuzz_settings(200)
@given(data=st.one_of(
    st.binary(max_size=60),
    st.binary(max_size=40).map(lambda b: READY + b"\n" + b),
    st.tuples(messages, st.integers(0, 60), st.integers(1, 255)).map(
        lambda t: READY + b"\n" + bytes(b ^ t[2] if i == t[1] else b
                                        for i, b in enumerate(wire.encode(dict(t[0], op="hello", version=2)))))))
@example(data=READY + b"\n" + wire.encode({"op": "hello", "version": 2}))
@example(data=READY + b"\n" + wire.encode({"op": "run"}))  # a non-hello first frame
def test_handshake_bytes(data: bytes) -> None:
    result = start(data)
    if isinstance(result, ConnectionFailed):
        assert str(result).strip()
    else:
        assert result.hello["op"] == "hello" and result.hello["version"] == wire.VERSION
