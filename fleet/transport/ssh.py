"""``ansible_connection: ssh`` over asyncssh: one connection per host, one channel per agent.

Host keys are verified against known_hosts by default. An unknown key is refused unless
``accept_new`` is set (then it is recorded, like OpenSSH's ``StrictHostKeyChecking=accept-new``);
a key that differs from a recorded one is always refused.
"""

from __future__ import annotations

import asyncio
import contextlib
import os

import asyncssh

from fleet.errors import ConnectionFailed
from fleet.transport.base import STDERR_KEEP
from fleet.transport.options import DEFAULT_KNOWN_HOSTS, SSHOptions

# Preferred ciphers: AES-GCM runs on the CPU's AES instructions (asyncssh measured ~5x cheaper
# per packet than chacha20-poly1305 here); everything else stays allowed after them.
PREFERRED_CIPHERS = ("aes128-gcm@openssh.com", "aes256-gcm@openssh.com", "chacha20-poly1305@openssh.com",
                     "aes128-ctr", "aes192-ctr", "aes256-ctr")

class _HostKeyPolicy(asyncssh.SSHClient):
    """Decides about host keys that known_hosts does not already trust."""

    def __init__(self, options: SSHOptions, known_hosts_path: str) -> None:
        self._options = options
        self._path = known_hosts_path
        self.refusal: str | None = None

    def validate_host_public_key(self, host: str, addr: str, port: int, key: asyncssh.SSHKey) -> bool:
        recorded: tuple = ((), (), ())
        if os.path.exists(self._path):
            recorded = asyncssh.match_known_hosts(self._path, host, addr, port if port != 22 else None)
        fingerprint = key.get_fingerprint()
        if recorded[0]:
            self.refusal = (
                f"host key for {host} has CHANGED (now {fingerprint}); it differs from the one "
                f"recorded in {self._path}. Refusing to connect: if the change is expected, remove "
                f"the old entry (ssh-keygen -R) and connect again"
            )
            return False
        if not self._options.accept_new_host_keys:
            self.refusal = (
                f"host key for {host} is not known ({fingerprint} not in {self._path}); "
                f"add it to known_hosts or pass --accept-new-host-keys"
            )
            return False
        self._record(host, port, key)
        return True

    def _record(self, host: str, port: int, key: asyncssh.SSHKey) -> None:
        name = host if port in (22, None) else f"[{host}]:{port}"
        algorithm, blob = key.export_public_key("openssh").decode().split()[:2]
        directory = os.path.dirname(self._path)
        if directory:
            os.makedirs(directory, mode=0o700, exist_ok=True)
        with open(self._path, "a", encoding="ascii") as handle:
            handle.write(f"{name} {algorithm} {blob}\n")


def _reason(exc: BaseException) -> str:
    """asyncssh's reason for an error (``Connection lost``), else the exception's text."""
    return str(getattr(exc, "reason", "") or exc or type(exc).__name__)


class SSHAgentProcess:
    """An AgentProcess over one asyncssh session channel."""

    def __init__(self, proc: asyncssh.SSHClientProcess) -> None:
        self._proc = proc
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
            raise EOFError(f"while sending: {_reason(exc)}") from None

    async def read_exactly(self, size: int) -> bytes:
        try:
            return await self._proc.stdout.readexactly(size)
        except asyncio.IncompleteReadError as exc:
            raise EOFError(f"stream ended after {len(exc.partial)} of {size} bytes") from None
        except (asyncssh.Error, OSError) as exc:
            raise EOFError(_reason(exc)) from None

    async def read_line(self, limit: int = 4096) -> bytes:
        try:
            return await self._proc.stdout.readline()
        except (asyncssh.Error, OSError) as exc:
            raise EOFError(_reason(exc)) from None

    async def read_chunk(self, limit: int = 65536) -> bytes:
        try:
            return await self._proc.stdout.read(limit)
        except (asyncssh.Error, OSError):
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

    async def connect(self) -> None:
        opts = self.options
        known_hosts_path = os.path.expanduser(opts.known_hosts or DEFAULT_KNOWN_HOSTS)
        policy = _HostKeyPolicy(opts, known_hosts_path)
        kwargs: dict = {
            "port": opts.port or 22,
            "client_factory": lambda: policy,
            "known_hosts": self._known_hosts_arg(known_hosts_path),
            "connect_timeout": opts.connect_timeout,
            "encryption_algs": list(PREFERRED_CIPHERS),
            "keepalive_interval": opts.keepalive_interval,
            "keepalive_count_max": opts.keepalive_count_max,
        }
        if opts.user:  # else asyncssh's default: ~/.ssh/config, then the local user
            kwargs["username"] = opts.user
        if opts.key_files:
            kwargs["client_keys"] = [os.path.expanduser(path) for path in opts.key_files]
        if opts.password is not None:
            kwargs["password"] = opts.password
        if opts.proxy_jump:
            kwargs["tunnel"] = opts.proxy_jump
        where = f"{opts.host}:{opts.port or 22}"
        try:
            self._conn = await asyncssh.connect(opts.host, **kwargs)
        except asyncssh.HostKeyNotVerifiable as exc:
            raise ConnectionFailed(policy.refusal or f"host key not verifiable: {exc.reason}") from None
        except asyncssh.PermissionDenied:
            user = opts.user or "(default user)"
            raise ConnectionFailed(f"ssh authentication failed for {user}@{where}") from None
        except TimeoutError:
            raise ConnectionFailed(f"cannot connect to {where}: no answer within "
                                   f"{opts.connect_timeout:.0f} s") from None
        except (asyncssh.Error, OSError) as exc:
            reason = getattr(exc, "reason", None) or str(exc) or type(exc).__name__
            raise ConnectionFailed(f"cannot connect to {where}: {reason}") from None

    def _known_hosts_arg(self, path: str):  # noqa: ANN202 - asyncssh's KnownHostsArg
        if not self.options.host_key_checking:
            return None
        if os.path.exists(path):
            return path
        return b""  # nothing trusted yet: every key goes through the policy

    async def spawn(self, command: str) -> SSHAgentProcess:
        if self._conn is None:
            raise ConnectionFailed(f"not connected to {self.options.host}")
        try:
            proc = await self._conn.create_process(command, encoding=None)
        except (asyncssh.Error, OSError) as exc:
            raise ConnectionFailed(f"cannot open a session on {self.options.host}: {exc}") from None
        return SSHAgentProcess(proc)

    async def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._conn.wait_closed(), 2.0)
            self._conn = None
