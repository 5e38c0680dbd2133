"""A ProxyCommand process whose stdin/stdout carry the SSH connection, as OpenSSH runs one.

fleet starts it itself and hands asyncssh one end of a socket pair (asyncssh's own proxy
support takes the command's stderr closing — ``2>/dev/null`` — for the connection closing).
The command's stderr is kept (bounded) so a failure can say what the proxy said.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket

from fleet.transport.base import STDERR_KEEP


class ProxyProcess:
    """A running ProxyCommand; ``sock`` is fleet's end of its stdin/stdout."""

    def __init__(self, process: asyncio.subprocess.Process, sock: socket.socket) -> None:
        self.process = process
        self.sock = sock
        self._stderr = bytearray()
        self._reader = asyncio.ensure_future(self._drain())

    @classmethod
    async def start(cls, argv: list[str], cwd: str | None = None) -> ProxyProcess:
        """Start ``argv`` (in ``cwd``) with a socket as its stdin and stdout (OSError if it cannot start)."""
        ours, theirs = socket.socketpair()
        try:
            process = await asyncio.create_subprocess_exec(
                *argv, stdin=theirs.fileno(), stdout=theirs.fileno(), stderr=asyncio.subprocess.PIPE,
                start_new_session=True, cwd=cwd)
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        return cls(process, ours)

    async def _drain(self) -> None:
        assert self.process.stderr is not None
        with contextlib.suppress(OSError):
            while chunk := await self.process.stderr.read(4096):
                self._stderr += chunk
                del self._stderr[:-STDERR_KEEP]

    def said(self) -> str:
        """The last line the command wrote to stderr, if any."""
        lines = self._stderr.decode("utf-8", errors="replace").strip().splitlines()
        return lines[-1] if lines else ""

    async def close(self) -> None:
        """Stop the command (SIGTERM, then SIGKILL after 2 s) and close fleet's end."""
        self.sock.close()
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.terminate()
            try:
                await asyncio.wait_for(self.process.wait(), 2.0)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    self.process.kill()
                await self.process.wait()
        with contextlib.suppress(asyncio.TimeoutError, OSError):
            await asyncio.wait_for(self._reader, 1.0)
