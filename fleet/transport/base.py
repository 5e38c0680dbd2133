"""The transport protocol and the subprocess-based implementation most transports share."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Protocol

STDERR_KEEP = 64 * 1024  # bytes of a command's stderr kept (the newest), for error messages
MIB = 1024 * 1024
# Bytes the controller accepts from a host per task (agent answers) or per command (raw output):
# --max-host-output / fleet_max_host_output, in MiB.
DEFAULT_MAX_OUTPUT = 64 * MIB


def output_exceeded(host: str, per_task: int, tasks: int = 1, what: str = "") -> str:
    """The error for a host that sent more than its budget: ``per_task`` bytes for each of
    ``tasks`` tasks (``what`` names anything else it was doing, e.g. installing python3)."""
    limit = f"{per_task / MIB:g} MiB"
    if what:
        amount = f"{limit} of output {what}"
    elif tasks > 1:
        amount = f"{per_task * tasks / MIB:g} MiB for a request of {tasks} tasks ({limit} per task)"
    else:
        amount = f"{limit} for one task"
    return (f"host {host} sent more than {amount}; the limit is set by --max-host-output or "
            f"fleet_max_host_output (MiB): the agent was stopped")


class RelayLost(EOFError):
    """The stream to the agent ended because something between fleet and the host failed (the
    persistence daemon), not the host or its agent: the text is the whole message."""


class AgentProcess(Protocol):
    """A running command on the target with binary stdin/stdout."""

    async def write(self, data: bytes) -> None:
        """Send bytes to the command's stdin."""

    async def read_exactly(self, size: int) -> bytes:
        """Read exactly ``size`` bytes from stdout; raise EOFError if the stream ends first."""

    async def read_line(self, limit: int = 4096) -> bytes:
        """Read one line from stdout (the agent's start reads chunks instead: a line has no bound)."""

    async def read_chunk(self, limit: int = 65536) -> bytes:
        """Whatever stdout has (at most ``limit`` bytes); b"" at end of stream."""

    def stderr_text(self) -> str:
        """What the command has written to stderr so far (bounded)."""

    async def finish(self, timeout: float = 2.0) -> int | None:
        """Close stdin and wait briefly for the exit status (None if still running)."""

    def kill(self) -> None:
        """Stop the command now (timeouts, cancellation)."""


class Transport(Protocol):
    """How to reach one host. ``connect`` once, ``spawn`` one agent per become user."""

    name: str

    async def connect(self) -> None:
        """Open the connection (no-op for transports without one)."""

    async def spawn(self, command: str) -> AgentProcess:
        """Start ``command`` (a POSIX shell command line) on the target."""

    async def close(self) -> None:
        """Close the connection and everything spawned through it."""


class SubprocessAgent:
    """An AgentProcess over a local child process (local, docker exec, chroot)."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self._proc = proc
        self._stderr = bytearray()
        self._stderr_task = asyncio.ensure_future(self._drain_stderr())

    async def _drain_stderr(self) -> None:
        assert self._proc.stderr is not None
        while chunk := await self._proc.stderr.read(8192):
            self._stderr += chunk
            if len(self._stderr) > STDERR_KEEP:
                del self._stderr[: len(self._stderr) - STDERR_KEEP]

    async def write(self, data: bytes) -> None:
        assert self._proc.stdin is not None
        try:
            self._proc.stdin.write(data)
            await self._proc.stdin.drain()
        except (ConnectionError, OSError) as exc:
            raise EOFError(f"the command exited while fleet was sending to it: {exc}") from None

    async def read_exactly(self, size: int) -> bytes:
        assert self._proc.stdout is not None
        try:
            return await self._proc.stdout.readexactly(size)
        except asyncio.IncompleteReadError as exc:
            raise EOFError(f"stream ended after {len(exc.partial)} of {size} bytes") from None

    async def read_line(self, limit: int = 4096) -> bytes:
        assert self._proc.stdout is not None
        return await self._proc.stdout.readline()

    async def read_chunk(self, limit: int = 65536) -> bytes:
        assert self._proc.stdout is not None
        return await self._proc.stdout.read(limit)

    def stderr_text(self) -> str:
        return self._stderr.decode("utf-8", errors="replace")

    async def finish(self, timeout: float = 2.0) -> int | None:
        if self._proc.stdin is not None and not self._proc.stdin.is_closing():
            self._proc.stdin.close()
        try:
            code = await asyncio.wait_for(self._proc.wait(), timeout)
        except TimeoutError:
            return None
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._stderr_task, 1.0)
        return code

    def kill(self) -> None:
        if self._proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self._proc.kill()


class SubprocessTransport:
    """Base for transports that start the agent as a local child process.

    Subclasses only say how to wrap the shell command line: ``argv_for(command)`` (and, if
    the child needs them, its environment ``env`` — None inherits fleet's — and ``cwd``).
    """

    name = "subprocess"
    env: dict[str, str] | None = None
    cwd: str | None = None

    def __init__(self) -> None:
        self._children: list[SubprocessAgent] = []

    def argv_for(self, command: str) -> list[str]:
        raise NotImplementedError

    async def connect(self) -> None:
        return None

    async def spawn(self, command: str) -> AgentProcess:
        proc = await asyncio.create_subprocess_exec(
            *self.argv_for(command),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,
            env=dict(self.env) if self.env is not None else None,
            cwd=self.cwd,
        )
        agent = SubprocessAgent(proc)
        self._children.append(agent)
        return agent

    async def close(self) -> None:
        for child in self._children:
            if await child.finish(timeout=2.0) is None:
                child.kill()
        self._children.clear()
