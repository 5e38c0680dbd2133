"""Leasing persistent agents from the daemon (started on first use, detached)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import fcntl
import json
import os
import subprocess
import sys
import time
from typing import Any

from fleet.errors import ConnectionFailed
from fleet.mux.protocol import DEFAULT_PERSIST, ENV_DIR, mux_dir, socket_path, valid_persist
from fleet.session import AgentSession, Become


class MuxAgentProcess:
    """An AgentProcess over the daemon's unix socket: the bytes go straight to the agent."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader, self._writer = reader, writer

    async def write(self, data: bytes) -> None:
        try:
            self._writer.write(data)
            await self._writer.drain()
        except (ConnectionError, OSError) as exc:
            raise EOFError(f"persistence daemon connection lost: {exc}") from None

    async def read_exactly(self, size: int) -> bytes:
        try:
            return await self._reader.readexactly(size)
        except asyncio.IncompleteReadError as exc:
            raise EOFError(f"stream ended after {len(exc.partial)} of {size} bytes") from None
        except (ConnectionError, OSError) as exc:
            raise EOFError(str(exc)) from None

    async def read_line(self, limit: int = 4096) -> bytes:
        return await self._reader.readline()

    async def read_chunk(self, limit: int = 65536) -> bytes:
        return await self._reader.read(limit)

    def stderr_text(self) -> str:
        return ""

    async def finish(self, timeout: float = 2.0) -> int | None:
        self.kill()  # the daemon takes the agent back (or stops it, if a request was cut short)
        return None

    def kill(self) -> None:
        if not self._writer.is_closing():
            self._writer.close()


class MuxClient:
    """One per run: starts the daemon if needed, then leases agents from it."""

    def __init__(self, persist: float) -> None:
        self.persist = persist
        self._usable: bool | None = None
        self._lock = asyncio.Lock()

    async def lease(self, host: str, spec: Any, interpreter: str, become: Become | None,
                    payload: bytes) -> AgentSession | None:
        """An agent for this host and become user, or None when the daemon cannot be used."""
        if not await self._ensure():
            return None
        try:
            reader, writer = await asyncio.open_unix_connection(str(socket_path()), limit=2**26)
        except OSError:
            return None
        request = {
            "op": "lease", "host": host, "kind": spec.kind, "params": daemon_params(spec.kind, spec.params, os.getcwd()),
            "interpreter": interpreter,
            "become": None if become is None else {"user": become.user, "password": become.password},
            "payload": base64.b64encode(payload).decode("ascii"), "persist": self.persist,
        }
        try:
            writer.write(json.dumps(request).encode() + b"\n")
            await writer.drain()
            line = await reader.readline()
        except OSError:  # the daemon hung up before answering: nothing was leased, connect directly
            writer.close()
            return None
        try:
            reply = json.loads(line) if line else {"ok": False, "error": "the persistence daemon closed the connection"}
        except ValueError:
            reply = {"ok": False, "error": "the persistence daemon answered garbage"}
        if not reply.get("ok"):
            writer.close()
            raise ConnectionFailed(str(reply.get("error")))
        hello = reply.get("hello")
        session = AgentSession(host, MuxAgentProcess(reader, writer), hello=hello if isinstance(hello, dict) else {})
        session.leased = True
        return session

    async def _ensure(self) -> bool:
        async with self._lock:
            if self._usable is None:
                self._usable = await asyncio.get_running_loop().run_in_executor(None, ensure_daemon, self.persist)
            return self._usable


def daemon_params(kind: str, params: dict[str, Any], cwd: str) -> dict[str, Any]:
    """Transport parameters as the daemon must read them. It runs in a directory of its own, so
    paths relative to this run's directory ``cwd`` (key files, known_hosts, a chroot's tree) are
    made absolute, and a local agent is started in ``cwd``, as it would be without the daemon."""
    fixed = dict(params)
    if kind == "ssh":
        fixed["key_files"] = [_absolute(path, cwd) for path in params.get("key_files") or []]
        if params.get("known_hosts"):
            fixed["known_hosts"] = [_absolute(path, cwd) for path in params["known_hosts"]]
        if params.get("config_file") and str(params["config_file"]).lower() != "none":
            fixed["config_file"] = _absolute(params["config_file"], cwd)
        if params.get("ssh_config"):
            fixed["ssh_config"] = options = dict(params["ssh_config"])
            for name in ("CertificateFile", "GlobalKnownHostsFile"):
                if options.get(name):
                    options[name] = [_absolute(path, cwd) for path in options[name]]
            agent = options.get("IdentityAgent")
            if agent and agent.lower() != "none" and not agent.startswith("$") and agent != "SSH_AUTH_SOCK":
                options["IdentityAgent"] = _absolute(agent, cwd)
            if options.get("ProxyCommand"):  # relative paths in the command mean the run's directory
                fixed["proxy_cwd"] = cwd
    elif kind == "chroot" and params.get("root"):
        fixed["root"] = _absolute(params["root"], cwd)
    elif kind == "local":
        fixed["cwd"] = cwd
    return fixed


def _absolute(path: str, cwd: str) -> str:
    return os.path.join(cwd, os.path.expanduser(path))  # an absolute path stays as it is


def _answers() -> bool:
    import socket

    with socket.socket(socket.AF_UNIX) as sock:
        sock.settimeout(1.0)
        try:
            sock.connect(str(socket_path()))
        except OSError:
            return False
    return True


def daemon_command(persist: float) -> list[str]:
    """How the daemon is started: ``-P``, so that nothing in the directory it is started from
    is importable (a ``json.py`` or ``fleet.py`` there would run inside the credential cache).
    PYTHONPATH and the user's site-packages stay: they are how this fleet itself was found."""
    return [sys.executable, "-P", "-m", "fleet.mux.server", "--persist", repr(persist)]


def ensure_daemon(persist: float = DEFAULT_PERSIST, wait: float = 5.0) -> bool:
    """Start the daemon unless one answers; False if it will not come up.

    A new daemon keeps agents at most ``persist`` seconds (its cap, whatever later runs ask),
    and runs in the private daemon directory, not in the caller's.
    """
    if _answers():
        return True
    if valid_persist(persist) is None:
        return False
    directory = mux_dir()
    with open(directory / "start.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _answers():
            return True
        with contextlib.suppress(FileNotFoundError):
            socket_path().unlink()  # left by a daemon that died
        with open(directory / "mux.log", "ab") as log:
            daemon = subprocess.Popen(daemon_command(persist), stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                      cwd=directory, start_new_session=True, close_fds=True,
                                      env=dict(os.environ, **{ENV_DIR: str(directory)}))
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if _answers():
                return True
            if daemon.poll() is not None:  # it said why in mux.log
                return False
            time.sleep(0.02)
    return False


def control(op: str) -> dict[str, Any] | None:
    """Ask a running daemon for ``status`` or to ``stop``; None when none runs."""
    import socket

    with socket.socket(socket.AF_UNIX) as sock:
        sock.settimeout(5.0)
        try:
            sock.connect(str(socket_path()))
        except OSError:
            return None
        sock.sendall(json.dumps({"op": op}).encode() + b"\n")
        data = b""
        while not data.endswith(b"\n"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    return json.loads(data) if data else None
