"""A leased agent as the run sees it: an AgentProcess over the daemon's records.

A pump reads the daemon's records as they come: the agent's bytes are buffered for the
session, keepalives only prove the daemon is there, and an end record says why the agent's
stream ended (its exit status, its last words, a lost connection), so the session reports a
leased agent's death exactly as it reports one it started itself. A daemon that closes the
connection, or sends nothing for :data:`~fleet.connection.mux.records.SILENCE_LIMIT` seconds, is lost:
reads and writes raise :class:`~fleet.transport.base.RelayLost` naming the daemon, never
the host.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import fleet.connection.mux.records as records
from fleet.transport import RelayLost

HIGH_WATER = 8 * 1024 * 1024  # agent bytes buffered ahead of the session before the pump waits


class MuxAgentProcess:
    """An AgentProcess over a lease: bytes to the agent go straight to the daemon."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, daemon: str,
                 on_lost: Callable[[str], None] | None = None, silence: float = records.SILENCE_LIMIT) -> None:
        self._reader, self._writer = reader, writer
        self.daemon = daemon  # "the persistence daemon (pid N)", for messages
        self.on_lost = on_lost
        self._silence = silence
        self._data = bytearray()
        self._wanted = 0
        self._changed = asyncio.Event()
        self._room = asyncio.Event()
        self._room.set()
        self.end: dict[str, Any] | None = None  # the daemon's end record: the agent's stream ended
        self.lost: str | None = None  # why the daemon itself was lost
        self._loop = asyncio.get_running_loop()
        self._heard = self._loop.time()  # when the daemon last sent a record (or we last waited on it)
        self._suspect = False  # past the silence limit once: looked at again after GRACE
        self._paused = False  # not reading: the session has HIGH_WATER bytes it has not taken
        self._pump = asyncio.ensure_future(self._run())
        self._watchdog = self._loop.call_later(silence, self._watch)

    async def _run(self) -> None:
        try:
            while True:
                if len(self._data) >= max(HIGH_WATER, self._wanted):
                    self._paused = True
                    self._room.clear()
                    await self._room.wait()
                    self._paused, self._heard = False, self._loop.time()
                    continue
                kind, body = await records.read(self._reader)
                self._heard, self._suspect = self._loop.time(), False
                if kind == records.DATA:
                    self._data += body
                elif kind == records.END:
                    end = records.parse_json(body)
                    if end.get("lost"):  # the daemon ended the lease itself (fleet mux stop)
                        self._lose(f"{self.daemon}: {str(end['lost'])[:200]}")
                    else:
                        self.end = end
                    return
                elif kind != records.KEEPALIVE:
                    raise records.RecordError(f"unexpected record {kind!r} during a lease")
                self._changed.set()
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            self._lose(f"{self.daemon} closed the connection (killed, or crashed?)")
        except records.RecordError as exc:
            self._lose(f"{self.daemon} broke its protocol: {exc}")
        finally:
            self._watchdog.cancel()
            self._changed.set()

    def _watch(self) -> None:
        """The silence limit, kept by a timer rather than a timeout on every record (which
        would cost a timer per record). Past the limit the daemon gets GRACE more seconds of a
        running loop: a run whose own loop was busy that long finds its record waiting."""
        quiet = self._loop.time() - self._heard
        if self._paused or quiet < self._silence:
            self._suspect = False
            self._watchdog = self._loop.call_later(max(0.05, self._silence - quiet), self._watch)
        elif not self._suspect:
            self._suspect = True
            self._watchdog = self._loop.call_later(records.GRACE, self._watch)
        else:
            self._lose(f"{self.daemon} sent nothing for {self._silence:g} s (stopped, or overloaded?)")
            self._pump.cancel()

    def _lose(self, why: str) -> None:
        self.lost = why
        if self.on_lost is not None:
            self.on_lost(why)

    def _lost_error(self) -> RelayLost:
        return RelayLost(f"{self.lost}: whether the request reached the host, and what it did there, is unknown")

    def _reason(self, have: int, size: int) -> str:
        reason = str(self.end.get("reason") or "") if self.end else ""
        return reason or (f"stream ended after {have} of {size} bytes" if size else "the agent's stream ended")

    async def _wait(self, enough: Callable[[], bool]) -> None:
        """Until ``enough()`` or the stream's end; RelayLost if the daemon is lost first."""
        while not enough():
            if self.lost is not None:
                raise self._lost_error()
            if self.end is not None or self._pump.done():
                return
            self._changed.clear()
            await self._changed.wait()

    def _take(self, size: int) -> bytes:
        chunk = bytes(self._data[:size])
        del self._data[:size]
        self._wanted = 0
        self._room.set()
        return chunk

    def _closed(self) -> EOFError:
        """Why nothing more goes to or comes from the agent."""
        if self.lost is not None:
            return self._lost_error()
        if self.end is not None:
            return EOFError(self._reason(0, 0))
        return EOFError("the lease was closed")

    async def write(self, data: bytes) -> None:
        if self.lost is not None or self.end is not None or self._writer.is_closing():
            raise self._closed()
        self._writer.write(data)
        if not self._writer.transport.get_write_buffer_size():
            return  # all of it went to the socket: nothing to wait for
        drain = asyncio.ensure_future(self._writer.drain())
        try:
            # a stopped daemon reads nothing more: the pump's silence limit ends the wait
            await asyncio.wait({drain, self._pump}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            if not drain.done():
                drain.cancel()
        if not drain.cancelled():
            try:
                drain.result()
                return
            except (ConnectionError, OSError):
                if self.lost is None and self.end is None:
                    self._lose(f"{self.daemon} closed the connection (killed, or crashed?)")
        raise self._closed()

    async def read_exactly(self, size: int) -> bytes:
        self._wanted = size
        self._room.set()
        await self._wait(lambda: len(self._data) >= size)
        if len(self._data) < size:
            raise EOFError(self._reason(len(self._data), size)) if self.end is not None else self._closed()
        return self._take(size)

    async def read_line(self, limit: int = 4096) -> bytes:
        await self._wait(lambda: b"\n" in self._data or len(self._data) >= limit)
        end = self._data.find(b"\n")
        return self._take(end + 1 if end >= 0 else min(limit, len(self._data)))

    async def read_chunk(self, limit: int = 65536) -> bytes:
        await self._wait(lambda: bool(self._data))
        return self._take(min(limit, len(self._data)))

    def stderr_text(self) -> str:
        return str(self.end.get("said") or "") if self.end else ""

    async def finish(self, timeout: float = 2.0) -> int | None:
        """The agent's exit status when the daemon told it (minus a signal, as ssh), else None;
        the lease is closed either way."""
        code = self.end.get("code") if self.end else None
        self.kill()  # the daemon takes the agent back (or stops it, if a request was cut short)
        return code if isinstance(code, int) and not isinstance(code, bool) else None

    def kill(self) -> None:
        self._watchdog.cancel()
        if not self._pump.done():
            self.on_lost = None  # closing the lease ourselves loses nothing
            self._pump.cancel()
        if not self._writer.is_closing():
            self._writer.close()
