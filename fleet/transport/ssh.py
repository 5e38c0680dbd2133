"""``ansible_connection: ssh`` over asyncssh: one connection per host, one channel per agent.

Host keys are verified as :mod:`fleet.transport.hostkeys` says; the inventory's OpenSSH
options are mapped by :mod:`fleet.transport.sshconnect` (ProxyCommand, ProxyJump, ...).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from fleet.errors import ConnectionFailed
from fleet.transport.base import STDERR_KEEP
from fleet.transport.hostkeys import HostKeyPolicy
from fleet.transport.options import SSHOptions
from fleet.transport.sshconnect import ConnectPlan, Hop, plan
from fleet.transport.sshlib import asyncssh
from fleet.transport.sshproxy import ProxyProcess


def _reason(exc: BaseException, silence: float | None = None) -> str:
    """asyncssh's reason for an error (``Connection lost``), else the exception's text; a host
    that stopped answering keepalives as the time it was given (``silence`` seconds)."""
    text = str(getattr(exc, "reason", "") or exc or type(exc).__name__)
    if silence and "not responding to keepalive" in text:
        return f"no answer within {silence:g} s to SSH keepalives"
    return text


def keepalive_silence(interval: Any, count_max: Any) -> float | None:
    """How long a silent host keeps its connection: asyncssh closes it when the keepalive that
    follows ``count_max`` unanswered ones is due, ``interval * (count_max + 1)`` seconds after
    the host last sent anything. None without keepalives."""
    try:
        seconds = float(asyncssh.misc.parse_time_interval(interval) if isinstance(interval, str) else interval)
        return seconds * (int(count_max) + 1) if seconds > 0 else None
    except (TypeError, ValueError):
        return None


class SSHAgentProcess:
    """An AgentProcess over one asyncssh session channel.

    ``reason``: why its stream ended, when the connection failed (for whoever relays it).
    """

    def __init__(self, proc: asyncssh.SSHClientProcess, silence: float | None = None) -> None:
        self._proc = proc
        self._silence = silence
        self.reason = ""
        self._stderr = bytearray()
        self._stderr_task = asyncio.ensure_future(self._drain_stderr())

    async def _drain_stderr(self) -> None:
        with contextlib.suppress(asyncssh.Error, OSError):
            while chunk := await self._proc.stderr.read(8192):
                self._stderr += chunk
                if len(self._stderr) > STDERR_KEEP:
                    del self._stderr[: len(self._stderr) - STDERR_KEEP]

    async def write(self, data: bytes) -> None:
        try:
            self._proc.stdin.write(data)
            await self._proc.stdin.drain()
        except (asyncssh.Error, OSError, BrokenPipeError) as exc:
            raise EOFError(f"while sending: {_reason(exc, self._silence)}") from None

    def _lost(self, exc: BaseException) -> str:
        self.reason = _reason(exc, self._silence)
        return self.reason

    async def read_exactly(self, size: int) -> bytes:
        try:
            return await self._proc.stdout.readexactly(size)
        except asyncio.IncompleteReadError as exc:
            raise EOFError(f"stream ended after {len(exc.partial)} of {size} bytes") from None
        except (asyncssh.Error, OSError) as exc:
            raise EOFError(self._lost(exc)) from None

    async def read_line(self, limit: int = 4096) -> bytes:
        try:
            return await self._proc.stdout.readline()
        except (asyncssh.Error, OSError) as exc:
            raise EOFError(self._lost(exc)) from None

    async def read_chunk(self, limit: int = 65536) -> bytes:
        try:
            return await self._proc.stdout.read(limit)
        except (asyncssh.Error, OSError) as exc:
            self._lost(exc)
            return b""

    def stderr_text(self) -> str:
        return self._stderr.decode("utf-8", errors="replace")

    async def finish(self, timeout: float = 2.0) -> int | None:
        with contextlib.suppress(asyncssh.Error, OSError):
            self._proc.stdin.write_eof()
        try:
            await asyncio.wait_for(self._proc.wait_closed(), timeout)
        except (TimeoutError, asyncssh.Error, OSError):
            return None
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._stderr_task, 1.0)
        return self._proc.returncode  # exit status, or minus the signal that ended it

    def kill(self) -> None:
        self._proc.close()


class SSHTransport:
    """One asyncssh connection to a host; each agent is a session channel on it."""

    name = "ssh"

    def __init__(self, options: SSHOptions) -> None:
        self.options = options
        self._conn: asyncssh.SSHClientConnection | None = None
        self._hops: list[asyncssh.SSHClientConnection] = []  # ProxyJump connections, first hop first
        self._proxy: ProxyProcess | None = None  # the ProxyCommand process
        self._silence: float | None = None  # how long a silent host keeps the connection (keepalives)

    async def connect(self) -> None:
        try:
            route = plan(self.options)
        except (ValueError, OSError) as exc:  # an unreadable or bad ssh config file, a bad ProxyJump
            raise ConnectionFailed(f"ssh settings for {self.options.host}: {exc}") from None
        try:
            tunnel = None
            for hop in route.hops:
                tunnel = await self._open_hop(route, hop, tunnel)
            kwargs = dict(route.kwargs, tunnel=tunnel) if tunnel is not None else route.kwargs
            user = self.options.user or "(default user)"
            self._conn = await self._attempts(route, route.host, kwargs, route.policy, route.where, user,
                                              route.proxy_argv)
            self._silence = keepalive_silence(kwargs.get("keepalive_interval"), kwargs.get("keepalive_count_max"))
        except BaseException:
            await self.close()
            raise

    async def _open_hop(self, route: ConnectPlan, hop: Hop, tunnel: Any) -> asyncssh.SSHClientConnection:
        """Connect one ProxyJump hop (through the previous one), under the target's host-key
        policy; its user, port and keys come from the hop itself or the config file."""
        policy = None
        kwargs = dict(route.hop_kwargs, tunnel=tunnel or ())
        if route.known is not None and route.policy is not None:
            policy = HostKeyPolicy(route.known, self.options.host_key_policy)
            kwargs["client_factory"] = lambda: policy
        if hop.port:
            kwargs["port"] = hop.port
        if hop.user:
            kwargs["username"] = hop.user
        conn = await self._attempts(route, hop.host, kwargs, policy, f"jump host {hop}", hop.user or "(default user)")
        self._hops.append(conn)
        return conn

    async def _attempts(self, route: ConnectPlan, host: str, kwargs: dict[str, Any], policy: HostKeyPolicy | None,
                        where: str, user: str, proxy_argv: list[str] | None = None) -> asyncssh.SSHClientConnection:
        """``asyncssh.connect`` (through a new ProxyCommand process each time, if any),
        retried ``ConnectionAttempts`` times a second apart when the TCP connection fails
        (as OpenSSH); every failure as one ConnectionFailed."""
        if policy is not None:
            kwargs = dict(kwargs, client_factory=lambda: policy)
        for attempt in range(1, max(1, route.attempts) + 1):
            proxy = None
            try:
                if proxy_argv is not None:
                    proxy = await ProxyProcess.start(proxy_argv, self.options.proxy_cwd)
                    kwargs = dict(kwargs, sock=proxy.sock)
                conn = await asyncssh.connect(host, **kwargs)
                self._proxy = proxy
                return conn
            except (OSError, TimeoutError) as exc:
                failure = await self._failure(exc, where, policy, user, proxy)
                if attempt >= route.attempts:
                    raise failure from None
            except (asyncssh.Error, ValueError) as exc:
                raise await self._failure(exc, where, policy, user, proxy) from None
            except BaseException:
                if proxy is not None:
                    await proxy.close()
                raise
            await asyncio.sleep(1.0)
        raise AssertionError("unreachable")

    async def _failure(self, exc: BaseException, where: str, policy: HostKeyPolicy | None, user: str,
                       proxy: ProxyProcess | None) -> ConnectionFailed:
        said = ""
        if proxy is not None:
            await proxy.close()
            said = f" (the ProxyCommand said: {proxy.said()})" if proxy.said() else ""
        if isinstance(exc, asyncssh.HostKeyNotVerifiable):
            return ConnectionFailed(policy.refusal if policy and policy.refusal
                                    else f"host key not verifiable for {where}: {exc.reason}")
        if isinstance(exc, asyncssh.PermissionDenied):
            return ConnectionFailed(f"ssh authentication failed for {user}@{where}")
        if isinstance(exc, TimeoutError):
            return ConnectionFailed(f"cannot connect to {where}: no answer within "
                                    f"{self.options.connect_timeout:.0f} s")
        return ConnectionFailed(f"cannot connect to {where}: {_reason(exc)}{said}")

    async def spawn(self, command: str) -> SSHAgentProcess:
        if self._conn is None:
            raise ConnectionFailed(f"not connected to {self.options.host}")
        try:
            proc = await self._conn.create_process(command, encoding=None)
        except (asyncssh.Error, OSError) as exc:
            raise ConnectionFailed(f"cannot open a session on {self.options.host}: {exc}") from None
        return SSHAgentProcess(proc, self._silence)

    async def close(self) -> None:
        for conn in [self._conn, *reversed(self._hops)]:
            if conn is None:
                continue
            conn.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.wait_closed(), 2.0)
        self._conn = None
        self._hops = []
        if self._proxy is not None:
            await self._proxy.close()
            self._proxy = None
