"""What the daemon sends a leasing run: records, so that a keepalive, the lease's answer and
why an agent ended can travel beside the agent's own bytes.

A record is a kind byte, a 4-byte big-endian length and that many bytes: ``D`` agent bytes,
``K`` keepalive (empty), ``R`` the lease's answer (JSON), ``E`` the agent's stream ended
(JSON: ``code`` its exit status or minus a signal, None when the connection went; ``said``
the last line of its stderr; ``reason`` why the stream ended). The run's bytes to the agent
go to the daemon as they are.

The daemon writes a keepalive whenever it has sent nothing for :data:`KEEPALIVE_INTERVAL`
seconds, so a run tells a daemon that is slow to answer (a long task on the host) from one
that is gone or stopped: silence for :data:`SILENCE_LIMIT` seconds is the daemon's fault, not
the host's.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import struct
import time
from typing import Any

DATA, KEEPALIVE, REPLY, END = b"D", b"K", b"R", b"E"
KINDS = frozenset({DATA, KEEPALIVE, REPLY, END})
HEADER = struct.Struct(">cI")
MAX_RECORD = 1 << 20  # the daemon sends agent bytes in chunks of 64 KiB: more is a broken stream
KEEPALIVE_INTERVAL = 5.0  # seconds of silence after which the daemon says it is still there
SILENCE_LIMIT = 30.0  # seconds without a record after which a run gives up on the daemon
ANSWER_LIMIT = 5.0  # seconds a daemon has to answer a ping, status or stop (it answers at once)
GRACE = 1.0  # seconds of a running loop a silent daemon gets past a limit before it is given up


class RecordError(Exception):
    """The daemon's stream is not made of records: it is not a daemon of this fleet."""


def encode(kind: bytes, body: bytes = b"") -> bytes:
    """One record."""
    return HEADER.pack(kind, len(body)) + body


def encode_json(kind: bytes, value: dict[str, Any]) -> bytes:
    return encode(kind, json.dumps(value).encode())


async def read(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    """The next record as (kind, body); IncompleteReadError at the end of the stream,
    RecordError for a stream that is not records."""
    kind, length = HEADER.unpack(await reader.readexactly(HEADER.size))
    if kind not in KINDS or length > MAX_RECORD:
        raise RecordError(f"unknown record {kind!r} of {length} bytes")
    return kind, await reader.readexactly(length) if length else b""


async def read_within(reader: asyncio.StreamReader, seconds: float, grace: float = GRACE) -> tuple[bytes, bytes]:
    """The next record, if the daemon sends one within ``seconds``; TimeoutError if not.

    One more look (``grace`` seconds) after the limit: a run whose own loop was busy past the
    limit finds the daemon's record already there, and must not take it for silence."""
    try:
        async with asyncio.timeout(seconds):
            return await read(reader)
    except TimeoutError:
        pass
    async with asyncio.timeout(grace):
        return await read(reader)


def parse_json(body: bytes) -> dict[str, Any]:
    """A JSON record's body as a dict; RecordError if it is not one."""
    try:
        value = json.loads(body)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise RecordError("a record that should hold a JSON object does not")
    return value


class Sender:
    """The daemon's side of one lease: records to the run, and a keepalive whenever it has
    sent nothing for ``interval`` seconds (while it connects, while the agent works)."""

    def __init__(self, writer: asyncio.StreamWriter, interval: float = KEEPALIVE_INTERVAL) -> None:
        self._writer = writer
        self._last = time.monotonic()
        self._beat = asyncio.ensure_future(self._keepalive(interval))

    def send(self, kind: bytes, body: bytes = b"") -> None:
        if not self._writer.is_closing():
            self._writer.write(encode(kind, body))
            self._last = time.monotonic()

    def send_json(self, kind: bytes, value: dict[str, Any]) -> None:
        self.send(kind, json.dumps(value).encode())

    async def drain(self) -> None:
        await self._writer.drain()

    async def _keepalive(self, interval: float) -> None:
        while not self._writer.is_closing():
            wait = self._last + interval - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            else:
                self.send(KEEPALIVE)

    async def close(self) -> None:
        """Stop the keepalives and close the connection (what was sent is flushed first)."""
        self._beat.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._beat
        self._writer.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._writer.wait_closed(), 2.0)
