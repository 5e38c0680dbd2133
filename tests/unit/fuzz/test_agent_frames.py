"""Agent frame hardening against a real agent: the bootstrap through the local transport.

A corrupted, truncated, oversized or other-version frame makes the agent answer one error frame
and exit; the controller ends that host's session with an error naming the host and uses
nothing of the answer. Through a whole run, the other hosts are not affected.
"""

from __future__ import annotations

import asyncio
import sys
import zlib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from fleet import api
from fleet.agent import wire
from fleet.connection import settings
from fleet.connection.session import AgentSession, agent_payload
from fleet.errors import AgentError
from fleet.executor.options import RunOptions
from fleet.transport import BUILDERS
from fleet.transport.base import AgentProcess
from fleet.transport.local import LocalTransport
from tests.unit.fuzz.support import frame_header as header
from tests.unit.fuzz.support import fuzz_settings, time_limit

PAYLOAD = agent_payload()


async def started(host: str = "local1") -> tuple[LocalTransport, AgentSession]:
    transport = LocalTransport()
    return transport, await AgentSession.start(transport, host, sys.executable, PAYLOAD, timeout=20)


def frames(data: bytes) -> list[dict[str, Any]]:
    """Decode a whole stdout capture (after the hello) into messages."""
    out = []
    while data:
        flags, length, crc = wire.parse_header(data[:wire.HEADER.size])
        end = wire.HEADER.size + length
        out.append(wire.decode_payload(flags, data[wire.HEADER.size:end], crc))
        data = data[end:]
    return out


async def feed(data: bytes, close: bool = True) -> tuple[list[dict[str, Any]], int | None, str]:
    """Send raw bytes to a fresh agent; what it answered, its exit status and stderr."""
    transport, session = await started()
    process = session.process
    try:
        assert (await session.request({"op": "ping"}, timeout=10))["pong"] is True
        await process.write(data)
        if close:
            code = await process.finish(timeout=10)
        else:  # the agent must answer without waiting for more input
            first = await asyncio.wait_for(session.read_message(), 10)
            code = await process.finish(timeout=10)
            return [first, *frames(await _rest(process))], code, process.stderr_text()
        return frames(await _rest(process)), code, process.stderr_text()
    finally:
        await transport.close()


async def _rest(process: AgentProcess) -> bytes:
    data = b""
    while chunk := await process.read_chunk():
        data += chunk
    return data


def run(coro: Any) -> Any:
    with time_limit(60):
        return asyncio.run(coro)


def flip(frame: bytes, position: int) -> bytes:
    data = bytearray(frame)
    data[position] ^= 0x01
    return bytes(data)


PING = wire.encode({"op": "ping", "id": 9})


@pytest.mark.parametrize(("data", "close", "error"), [
    (flip(PING, len(PING) - 2), True, "corrupt frame: checksum mismatch"),
    (flip(PING, 9), False, "corrupt frame header: checksum mismatch"),  # the payload CRC field
    (flip(PING, 5), False, "corrupt frame header: checksum mismatch"),  # the length: no waiting
    (PING[:-3], True, "truncated frame"),
    (PING[:5], True, "truncated frame header"),
    (header(0, wire.MAX_FRAME + 1), False, "exceeds the 268435456 byte limit"),
    (wire.PREFIX.pack(wire.MAGIC, 1, 0, 2) + b"{}" + b"\0" * 8, False, "protocol version 1, expected 2"),
    (b"Last login: today\n" + PING, False, "bad frame magic"),
    (header(0x80, 2, zlib.crc32(b"{}")) + b"{}", False, "unknown frame flags"),
], ids=["payload", "crc", "length", "truncated", "truncated-header", "oversized", "version-1", "stray-output",
        "flags"])
def test_agent_rejects_bad_frames(data: bytes, close: bool, error: str) -> None:
    answers, code, stderr = run(feed(data, close))
    assert len(answers) == 1, answers
    assert answers[0]["id"] is None and error in answers[0]["error"], answers
    assert code == 0 and "Traceback" not in stderr


@fuzz_settings(15)
@given(data=st.binary(min_size=1, max_size=40))
@example(data=header(0, 2, zlib.crc32(b"{}")) + b"{}")
def test_agent_on_random_bytes(data: bytes) -> None:
    """Any bytes: one error frame and a clean exit, or (a valid frame) an answer."""
    answers, code, stderr = run(feed(data))
    assert code == 0 and "Traceback" not in stderr, stderr
    assert len(answers) <= 1
    for answer in answers:
        assert answer.get("error") or answer.get("id") is not None


class Corrupting:
    """Wraps an agent process: flips one bit in the next frame written, or in the payload of
    the ``corrupt_read``-th frame read (0 = the first answer after the hello)."""

    def __init__(self, inner: AgentProcess, corrupt_write: bool = False, corrupt_read: int | None = None) -> None:
        self.inner = inner
        self.corrupt_write = corrupt_write
        self.corrupt_read = corrupt_read
        self.reads = 0

    async def write(self, data: bytes) -> None:
        if self.corrupt_write and data.startswith(wire.MAGIC):
            self.corrupt_write = False
            data = flip(data, len(data) - 1)
        await self.inner.write(data)

    async def read_exactly(self, size: int) -> bytes:
        data = await self.inner.read_exactly(size)
        self.reads += 1
        # reads: header/payload pairs (the ready line and the hello are read in chunks)
        if self.corrupt_read is not None and self.reads == 2 + 2 * self.corrupt_read and data:
            data = flip(data, len(data) // 2)
        return data

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_corrupted_request_ends_the_session_with_the_host_named() -> None:
    async def scenario() -> None:
        transport, session = await started("web7")
        try:
            session.process = Corrupting(session.process, corrupt_write=True)
            with pytest.raises(AgentError) as info:
                await session.request({"op": "ping"}, timeout=10)
            assert str(info.value).startswith("agent on web7: corrupt frame: checksum mismatch"), info.value
            assert session.broken
            assert await session.process.finish(timeout=10) == 0  # the agent ended by itself
            with pytest.raises(AgentError, match="closed"):
                await session.request({"op": "ping"}, timeout=10)
        finally:
            await transport.close()

    run(scenario())


def test_corrupted_answer_ends_the_session_with_the_host_named() -> None:
    async def scenario() -> None:
        transport, session = await started("web8")
        try:
            corrupting = Corrupting(session.process, corrupt_read=0)
            session.process = corrupting
            with pytest.raises(AgentError) as info:
                await session.request({"op": "ping"}, timeout=10)
            assert str(info.value).startswith("agent protocol error on web8: corrupt frame: checksum mismatch")
            assert session.broken
        finally:
            await transport.close()

    run(scenario())


class CorruptingTransport(LocalTransport):
    """The local transport, but the first answer after the hello arrives with a bit flipped."""

    async def spawn(self, command: str) -> AgentProcess:
        return Corrupting(await super().spawn(command), corrupt_read=0)


def test_a_run_with_one_corrupted_host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The corrupted host's task fails naming the host; the other host's result is untouched."""
    monkeypatch.setitem(settings.SPECS, "corrupting", ("corrupting", lambda name, hv, d: {}))
    monkeypatch.setitem(BUILDERS, "corrupting", lambda params: CorruptingTransport())
    inventory = tmp_path / "hosts"
    inventory.write_text(f"good ansible_connection=local ansible_python_interpreter={sys.executable}\n"
                         f"bad ansible_connection=corrupting ansible_python_interpreter={sys.executable}\n")
    playbook = tmp_path / "site.yml"
    playbook.write_text(f"- hosts: all\n  gather_facts: false\n  tasks:\n"
                        f"    - copy: {{dest: '{tmp_path}/{{{{ inventory_hostname }}}}.txt', content: hi}}\n")
    with time_limit(120):
        report = api.apply(playbook, [str(inventory)], RunOptions(persist=0))
    good, bad = report.host("good").results, report.host("bad").results
    assert [r.status for r in good] == ["changed"]
    assert (tmp_path / "good.txt").read_text() == "hi"
    assert len(bad) == 1 and bad[0].status in ("failed", "unreachable")
    assert "bad" in bad[0].msg and "corrupt frame" in bad[0].msg, bad[0].msg
    assert report.exit_code() != 0
