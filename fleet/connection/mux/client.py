"""Leasing persistent agents from the daemon (started on first use, detached).

Every exchange with the daemon has a deadline: a ping, status or stop is answered within
:data:`~fleet.connection.mux.records.ANSWER_LIMIT` seconds, and during a lease the daemon sends a record
at least every :data:`~fleet.connection.mux.records.KEEPALIVE_INTERVAL` seconds, so silence for
:data:`~fleet.connection.mux.records.SILENCE_LIMIT` seconds means the daemon is stopped or gone. A daemon
that cannot be used (stopped, another user's, its directory unsafe, it would not start) is
named in one warning and the run connects directly; one lost mid-run fails the tasks that were
under way through it (nobody knows what they did on the host) and the run goes on over direct
connections.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import fcntl
import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import fleet.connection.mux.records as records
from fleet.connection.mux.place import ENV_DIR, LEGACY_DIR, UnsafePlace, check_peer, mux_dir
from fleet.connection.mux.protocol import DEFAULT_PERSIST, socket_name, valid_persist
from fleet.connection.mux.stream import MuxAgentProcess
from fleet.connection.session import AgentSession, Become
from fleet.errors import ConnectionFailed, FleetError

__all__ = ["DaemonRef", "MuxAgentProcess", "MuxClient", "Unavailable", "control", "daemon_command",
           "daemon_params", "ensure_daemon", "exchange", "other_daemons"]


class Unavailable(FleetError):
    """The daemon cannot be used now; the text says why (the run's one warning). ``pid``: the
    daemon's, when one of this user's is there but does not answer."""

    def __init__(self, message: str, pid: int | None = None) -> None:
        super().__init__(message)
        self.pid = pid


@dataclass(frozen=True)
class DaemonRef:
    """A daemon that answered: its socket and process."""

    socket: Path
    pid: int

    @property
    def name(self) -> str:
        return f"the persistence daemon (pid {self.pid})"


class MuxClient:
    """One per run: starts the daemon if needed, then leases agents from it.

    ``warnings`` (the run report's) gets one line when the daemon cannot be used or is lost.
    """

    def __init__(self, persist: float, warnings: list[str] | None = None) -> None:
        self.persist = persist
        self.warnings = warnings if warnings is not None else []
        self._daemon: DaemonRef | None = None
        self._usable: bool | None = None
        self._lock = asyncio.Lock()
        self._leased: list[AgentSession] = []  # (the run keeps them anyway: HostConnection._started)

    def _disable(self, why: str) -> None:
        """No more leases this run; one warning saying why."""
        if self._usable is not False:
            self._usable = False
            self.warnings.append(f"{why}; connecting directly")

    async def lease(self, host: str, spec: Any, interpreter: str, become: Become | None,
                    payload: bytes) -> AgentSession | None:
        """An agent for this host and become user, or None when the daemon cannot be used."""
        daemon = await self._ensure()
        if daemon is None:
            return None
        try:
            reader, writer = await _connect(daemon.socket)
        except Unavailable as exc:
            self._disable(str(exc))
            return None
        request = {
            "op": "lease", "host": host, "kind": spec.kind, "params": daemon_params(spec.kind, spec.params, os.getcwd()),
            "interpreter": interpreter,
            "become": None if become is None else {"user": become.user, "password": become.password},
            "payload": base64.b64encode(payload).decode("ascii"), "persist": self.persist,
        }
        try:
            writer.write(json.dumps(request).encode() + b"\n")
            reply = await _reply(reader)
        except TimeoutError:
            writer.close()  # nothing was leased: this host connects directly, and so does the run
            self._gone(f"{daemon.name} sent nothing for {records.SILENCE_LIMIT:g} s while starting the agent "
                       f"on {host} (stopped, or overloaded?)")
            return None
        except (asyncio.IncompleteReadError, ConnectionError, OSError, records.RecordError):
            writer.close()
            self._gone(f"{daemon.name} closed the connection before it answered (killed, or crashed?)")
            return None
        if reply.get("daemon_error"):  # the daemon failed, not the host
            writer.close()
            self._gone(f"{daemon.name} failed: {str(reply['daemon_error'])[:300]}")
            return None
        if not reply.get("ok"):
            writer.close()
            raise ConnectionFailed(str(reply.get("error")))
        hello = reply.get("hello")
        process = MuxAgentProcess(reader, writer, daemon.name)
        session = AgentSession(host, process, hello=hello if isinstance(hello, dict) else {})
        session.leased = True

        process.on_lost = self._gone
        self._leased.append(session)
        return session

    def _gone(self, why: str) -> None:
        """The daemon is lost, for every lease at once. Hosts between tasks start a new agent,
        directly, for their next task: marked now, before that task is sent through a lease
        whose own news of the daemon has not been read yet."""
        if not self._leased:  # nothing was under way through it
            self._disable(why)
            return
        for session in self._leased:
            session.broken = True  # a request under way goes on: the session is only not reused
        self._leased.clear()
        self._disable(f"{why} during the run: any task under way through it failed")

    async def _ensure(self) -> DaemonRef | None:
        async with self._lock:
            if self._usable is None:
                try:
                    self._daemon = await asyncio.get_running_loop().run_in_executor(None, ensure_daemon, self.persist)
                    self._usable = True
                except Unavailable as exc:
                    self._disable(str(exc))
            return self._daemon if self._usable else None


async def _connect(path: Path) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A connection to the daemon at ``path``, whose peer is checked before anything is sent."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.setblocking(False)
    try:
        async with asyncio.timeout(records.ANSWER_LIMIT):
            await asyncio.get_running_loop().sock_connect(sock, str(path))
        check_peer(sock, path)
    except UnsafePlace as exc:
        sock.close()
        raise Unavailable(f"not using the persistence daemon: {exc}") from None
    except (OSError, TimeoutError) as exc:
        sock.close()
        why = f"no answer within {records.ANSWER_LIMIT:g} s" if isinstance(exc, TimeoutError) else exc.strerror
        raise Unavailable(f"cannot reach the persistence daemon at {path}: {why}") from None
    return await asyncio.open_unix_connection(sock=sock, limit=2**26)


async def _reply(reader: asyncio.StreamReader) -> dict[str, Any]:
    """The lease's answer, after the keepalives the daemon sends while it connects."""
    while True:
        kind, body = await records.read_within(reader, records.SILENCE_LIMIT)
        if kind == records.REPLY:
            return records.parse_json(body)
        if kind != records.KEEPALIVE:
            raise records.RecordError(f"unexpected record {kind!r} before the lease's answer")


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


def exchange(path: Path, op: str) -> tuple[DaemonRef, dict[str, Any]] | None:
    """Send ``op`` (ping, status, stop) to the daemon at ``path`` and return its answer; None
    when no daemon listens there. Unavailable when one is there but cannot be used: another
    user's (nothing is sent), or no answer within ANSWER_LIMIT seconds (stopped)."""
    with socket.socket(socket.AF_UNIX) as sock:
        sock.settimeout(records.ANSWER_LIMIT)
        try:
            sock.connect(str(path))
        except (FileNotFoundError, ConnectionRefusedError):
            return None
        except TimeoutError:
            raise Unavailable(f"the persistence daemon at {path} accepts no connection "
                              f"(no answer within {records.ANSWER_LIMIT:g} s)") from None
        except OSError as exc:
            raise Unavailable(f"cannot reach the persistence daemon at {path}: {exc.strerror}") from None
        try:
            who = check_peer(sock, path)
        except UnsafePlace as exc:
            raise Unavailable(f"not using the persistence daemon: {exc}") from None
        daemon = DaemonRef(path, who.pid)
        data = b""
        try:
            sock.sendall(json.dumps({"op": op}).encode() + b"\n")
            while not data.endswith(b"\n"):
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
        except TimeoutError:
            raise Unavailable(f"{daemon.name} did not answer within {records.ANSWER_LIMIT:g} s (stopped? "
                              f"'kill -CONT {who.pid}' resumes it, 'fleet mux stop' ends it)", who.pid) from None
        except OSError as exc:
            raise Unavailable(f"{daemon.name} failed while answering: {exc.strerror}") from None
    try:
        answer = json.loads(data)
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        raise Unavailable(f"{daemon.name} closed the connection without answering")
    return daemon, answer


def daemon_command(persist: float) -> list[str]:
    """How the daemon is started: ``-P``, so that nothing in the directory it is started from
    is importable (a ``json.py`` or ``fleet.py`` there would run inside the credential cache).
    PYTHONPATH and the user's site-packages stay: they are how this fleet itself was found."""
    return [sys.executable, "-P", "-m", "fleet.connection.mux.server", "--persist", repr(persist)]


def _place() -> Path:
    """The daemon's socket, in a directory checked to be this user's alone."""
    try:
        return mux_dir() / socket_name()
    except UnsafePlace as exc:
        raise Unavailable(f"not using the persistence daemon: {exc}") from None


def _ping(path: Path) -> DaemonRef | None:
    found = exchange(path, "ping")
    return None if found is None else found[0]


@contextlib.contextmanager
def _start_lock(directory: Path, wait: float) -> Any:
    """The right to start the daemon, taken within ``wait`` seconds (another fleet may be
    starting it, or be stopped while it does)."""
    fd = os.open(directory / "start.lock", os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise Unavailable(f"another fleet has been starting the persistence daemon in {directory} "
                                      f"for {wait:g} s") from None
                time.sleep(0.05)
        yield
    finally:
        os.close(fd)


def ensure_daemon(persist: float = DEFAULT_PERSIST, wait: float = 5.0) -> DaemonRef:
    """The daemon, started unless one answers; Unavailable (with the reason) if none can be used.

    A new daemon keeps agents at most ``persist`` seconds (its cap, whatever later runs ask),
    and runs in the private daemon directory, not in the caller's.
    """
    path = _place()
    daemon = _ping(path)
    if daemon is not None:
        return daemon
    if valid_persist(persist) is None:
        raise Unavailable(f"not starting a persistence daemon: --persist {persist!r} is not a finite number of "
                          f"seconds above 0")
    directory = path.parent
    with _start_lock(directory, wait * 2):
        daemon = _ping(path)
        if daemon is not None:
            return daemon
        with contextlib.suppress(FileNotFoundError):
            path.unlink()  # left by a daemon that died
        log = os.open(directory / "mux.log", os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC,
                      0o600)
        try:
            process = subprocess.Popen(daemon_command(persist), stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                       cwd=directory, start_new_session=True, close_fds=True,
                                       env=dict(os.environ, **{ENV_DIR: str(directory)}))
        finally:
            os.close(log)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            daemon = _ping(path)
            if daemon is not None:
                return daemon
            if process.poll() is not None:
                break
            time.sleep(0.02)
    raise Unavailable(f"the persistence daemon did not start (see {directory / 'mux.log'})")


def control(op: str) -> dict[str, Any] | None:
    """Ask the running daemon for ``status`` or to ``stop``; None when none runs, Unavailable
    when one cannot be asked (its directory or socket is not this user's, it does not answer)."""
    found = exchange(_place(), op)
    return None if found is None else found[1]


def other_daemons() -> list[Path]:
    """Sockets of daemons of other fleet versions that ``fleet mux stop`` stops too: in the
    daemon directory, and without ``$FLEET_MUX_DIR`` also in ``~/.fleet/mux``, where fleet kept
    them before it used the runtime directory (each is asked only if it runs as this user)."""
    current = _place()
    folders = {current.parent}
    if not os.environ.get(ENV_DIR):
        folders.add(Path.home().joinpath(*LEGACY_DIR).absolute())
    found: list[Path] = []
    for folder in sorted(folders):
        try:
            if os.stat(folder).st_uid != os.geteuid():
                continue
            found += [path for path in sorted(folder.glob("mux-v*.sock")) if path != current]
        except OSError:
            continue
    return found
