"""Turning a host's connection variables into a transport, and keeping its agents.

Connection settings follow Ansible's variable names. As in Ansible, variables win over
command-line options (``ansible_user`` overrides ``-u``), and ``ansible_become`` overrides
the ``become`` keyword.
"""

from __future__ import annotations

import contextlib
import shlex
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from fleet.errors import ConnectionFailed
from fleet.session import AgentSession, Become
from fleet.transport.base import Transport
from fleet.transport.chroot import ChrootTransport
from fleet.transport.docker import DockerTransport
from fleet.transport.local import LocalTransport
from fleet.transport.options import SSHOptions


@dataclass
class ConnectionDefaults:
    """Command-line connection options (lowest precedence, as in Ansible)."""

    user: str | None = None
    private_key: str | None = None
    connection: str = "ssh"
    known_hosts: str | None = None
    accept_new_host_keys: bool = False
    connect_timeout: float = 10.0
    become_password: str | None = None


def _bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "yes", "true", "on", "y", "t")
    return bool(value)


def _ssh_args(value: Any) -> dict[str, str]:
    """``-o Key=Value`` settings from ansible_ssh_common_args / ansible_ssh_extra_args."""
    found: dict[str, str] = {}
    tokens = shlex.split(str(value or ""))
    for index, token in enumerate(tokens):
        option = None
        if token == "-o" and index + 1 < len(tokens):
            option = tokens[index + 1]
        elif token.startswith("-o") and len(token) > 2:
            option = token[2:]
        elif token == "-J" and index + 1 < len(tokens):
            found["proxyjump"] = tokens[index + 1]
        if option:
            key, _, val = option.replace(" ", "=", 1).partition("=")
            found[key.strip().lower()] = val.strip()
    return found


def ssh_options(name: str, hostvars: Mapping[str, Any], defaults: ConnectionDefaults) -> SSHOptions:
    """SSH settings for one host from its (rendered) variables."""

    def var(*names: str, default: Any = None) -> Any:
        for key in names:
            if key in hostvars:
                return hostvars[key]
        return default

    extra = _ssh_args(var("ansible_ssh_common_args", default="")) | _ssh_args(var("ansible_ssh_extra_args", default=""))
    port = var("ansible_port", "ansible_ssh_port", default=extra.get("port"))
    key = var("ansible_ssh_private_key_file", "ansible_private_key_file", default=defaults.private_key)
    checking = var("ansible_host_key_checking", "ansible_ssh_host_key_checking", default=None)
    if checking is None and "stricthostkeychecking" in extra:
        checking = extra["stricthostkeychecking"].lower() not in ("no", "off")
    accept_new = defaults.accept_new_host_keys or extra.get("stricthostkeychecking", "").lower() == "accept-new"
    return SSHOptions(
        host=str(var("ansible_host", "ansible_ssh_host", default=name)),
        port=int(port) if port not in (None, "") else None,
        user=var("ansible_user", "ansible_ssh_user", default=extra.get("user", defaults.user)),
        key_files=[str(key)] if key else [],
        password=var("ansible_password", "ansible_ssh_pass", "ansible_ssh_password"),
        known_hosts=extra.get("userknownhostsfile") or defaults.known_hosts,
        host_key_checking=True if checking is None else _bool(checking),
        accept_new_host_keys=accept_new,
        proxy_jump=extra.get("proxyjump"),
        connect_timeout=float(var("ansible_ssh_timeout", "ansible_timeout", default=defaults.connect_timeout)),
    )


@dataclass(frozen=True)
class TransportSpec:
    """How to reach a host, as plain data: ``kind`` plus JSON-able ``params``.

    Being data, a spec can also be handed to the persistence daemon (:mod:`fleet.mux`), which
    builds the same transport on its side.
    """

    kind: str
    params: dict[str, Any]

    def build(self) -> Transport:
        builder = BUILDERS.get(self.kind)
        if builder is None:
            raise ConnectionFailed(f"unknown ansible_connection {self.kind!r} (known: {', '.join(sorted(SPECS))})")
        return builder(self.params)


def _ssh_transport(params: dict[str, Any]) -> Transport:
    from fleet.transport.ssh import SSHTransport  # asyncssh is imported only when needed

    return SSHTransport(SSHOptions(**params))


def _local_transport(params: dict[str, Any]) -> Transport:
    transport = LocalTransport()
    transport.cwd = params.get("cwd")  # set by the persistence daemon: the run's directory
    return transport


SpecFactory = Callable[[str, Mapping[str, Any], ConnectionDefaults], dict[str, Any]]

# Plain registries: connection name -> its settings from the host's variables, and
# transport kind -> how to build it. A new transport adds an entry to each.
SPECS: dict[str, tuple[str, SpecFactory]] = {
    "ssh": ("ssh", lambda name, hv, d: asdict(ssh_options(name, hv, d))),
    "paramiko": ("ssh", lambda name, hv, d: asdict(ssh_options(name, hv, d))),
    "smart": ("ssh", lambda name, hv, d: asdict(ssh_options(name, hv, d))),
    "local": ("local", lambda name, hv, d: {}),
    "docker": ("docker", lambda name, hv, d: {
        "container": str(hv.get("ansible_host") or name),
        "user": hv.get("ansible_user") or hv.get("ansible_docker_user")}),
    "chroot": ("chroot", lambda name, hv, d: {
        "root": str(hv.get("ansible_host") or name), "interpreter": interpreter_for(hv)}),
}
BUILDERS: dict[str, Callable[[dict[str, Any]], Transport]] = {
    "ssh": _ssh_transport,
    "local": _local_transport,
    "docker": lambda params: DockerTransport(params["container"], params.get("user")),
    "chroot": lambda params: ChrootTransport(params["root"], params.get("interpreter", "python3")),
}


def transport_spec(name: str, hostvars: Mapping[str, Any], defaults: ConnectionDefaults) -> TransportSpec:
    connection = str(hostvars.get("ansible_connection") or defaults.connection)
    entry = SPECS.get(connection)
    if entry is None:
        raise ConnectionFailed(f"unknown ansible_connection {connection!r} (known: {', '.join(sorted(SPECS))})")
    kind, factory = entry
    return TransportSpec(kind, factory(name, hostvars, defaults))


def interpreter_for(hostvars: Mapping[str, Any]) -> str:
    value = str(hostvars.get("ansible_python_interpreter") or "python3")
    return "python3" if value.startswith("auto") else value


class HostConnection:
    """One host's transport and its agents (one per become user), opened on first use.

    With a :class:`~fleet.mux.client.MuxClient`, agents are leased from the persistence daemon
    (which keeps them alive between runs) and the transport is never opened here.
    """

    def __init__(self, name: str, spec: TransportSpec, interpreter: str, payload: bytes,
                 become_password: str | None = None, mux: Any = None) -> None:
        self.name = name
        self.spec = spec
        self.interpreter = interpreter
        self._payload = payload
        self._become_password = become_password
        self._mux = mux
        self._transport: Transport | None = None
        self._sessions: dict[str | None, AgentSession] = {}
        self._started: list[AgentSession] = []

    @property
    def become_password(self) -> str | None:
        return self._become_password

    @property
    def requests(self) -> int:
        """Agent round trips made through this connection, over every agent it started."""
        return sum(session.requests for session in self._started)

    async def session(self, become_user: str | None) -> AgentSession:
        """The agent for ``become_user`` (None = the login user), started if needed."""
        session = self._sessions.get(become_user)
        if session is not None and not session.broken:
            return session
        become = None if become_user is None else Become(become_user, self._become_password)
        session = None
        if self._mux is not None:
            session = await self._mux.lease(self.name, self.spec, self.interpreter, become, self._payload)
        if session is None:  # no persistence, or the daemon is not available: connect directly
            if self._transport is None:
                transport = self.spec.build()
                await transport.connect()
                self._transport = transport
            session = await AgentSession.start(self._transport, self.name, self.interpreter, self._payload, become)
        self._sessions[become_user] = session
        self._started.append(session)
        return session

    async def fresh_session(self, become_user: str | None) -> tuple[Transport, AgentSession]:
        """A new transport and agent, never the daemon's nor this connection's: proof that the
        host still accepts new connections. The caller closes both."""
        transport = self.spec.build()
        await transport.connect()
        become = None if become_user is None else Become(become_user, self._become_password)
        try:
            return transport, await AgentSession.start(transport, self.name, self.interpreter, self._payload, become)
        except BaseException:
            await transport.close()
            raise

    async def close(self) -> None:
        for session in self._sessions.values():
            with contextlib.suppress(Exception):  # closing must never mask the run's result
                await session.close()
        self._sessions.clear()
        if self._transport is not None:
            await self._transport.close()
            self._transport = None


def make_connection(name: str, hostvars: Mapping[str, Any], defaults: ConnectionDefaults,
                    payload: bytes, mux: Any = None) -> HostConnection:
    from fleet.executor.pybootstrap import BootstrappingConnection  # it subclasses HostConnection

    password = hostvars.get("ansible_become_password", hostvars.get("ansible_become_pass"))
    connection = BootstrappingConnection(name, transport_spec(name, hostvars, defaults), interpreter_for(hostvars),
                                         payload, defaults.become_password if password is None else str(password), mux)
    connection.bootstrap_python = _bool(hostvars.get("bootstrap_python", False))
    return connection
