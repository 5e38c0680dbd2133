"""Turning a host's connection variables into a transport, and keeping its agents.

Connection settings follow Ansible's variable names. As in Ansible, variables win over
command-line options (``ansible_user`` overrides ``-u``), and ``ansible_become`` overrides
the ``become`` keyword.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from fleet.errors import ConnectionFailed, InputError, Location
from fleet.session import AgentSession, Become
from fleet.transport.base import DEFAULT_MAX_OUTPUT, MIB, Transport
from fleet.transport.chroot import ChrootTransport
from fleet.transport.docker import DockerTransport
from fleet.transport.local import LocalTransport
from fleet.transport.options import ACCEPT_NEW, OFF, STRICT, SSHOptions
from fleet.transport.sshargs import SSHArgs, SSHArgsError, parse_ssh_args

MAX_OUTPUT_VAR = "fleet_max_host_output"


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
    max_output: int = DEFAULT_MAX_OUTPUT  # bytes accepted from a host per task (--max-host-output)
    check: bool = False  # a check run: nothing is installed before the agent runs (bootstrap_python)


def _bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "yes", "true", "on", "y", "t")
    return bool(value)


TRUE_WORDS, FALSE_WORDS = ("1", "yes", "true", "on", "y", "t"), ("0", "no", "false", "off", "n", "f")
SSH_ARG_VARS = ("ansible_ssh_args", "ansible_ssh_common_args", "ansible_ssh_extra_args")  # first wins
INSECURE_VAR = "fleet_insecure_no_host_key_checking"
HOST_KEY_ENV = "ANSIBLE_HOST_KEY_CHECKING"
# Lifted into SSHOptions' own fields (variables and command-line options compete with them).
LIFTED = frozenset({"Port", "User", "HostName", "IdentityFile", "UserKnownHostsFile", "StrictHostKeyChecking",
                    "ProxyJump", "ConnectTimeout"})


def strict_bool(value: Any, what: str, location: Location | None = None) -> bool:
    """Ansible's booleans (yes/no, true/false, on/off, 1/0); anything else is an error, never
    False: a typo must not turn a security setting off."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise InputError(f"{what}: true or false expected, got {value!r}", location)


def env_accepts_new_host_keys(environ: Mapping[str, str]) -> bool:
    """Whether ``ANSIBLE_HOST_KEY_CHECKING`` turns checking "off" (fleet: accept new keys only)."""
    value = environ.get(HOST_KEY_ENV)
    return value is not None and value.strip() != "" and not strict_bool(value, f"environment variable {HOST_KEY_ENV}")


def _location(hostvars: Mapping[str, Any], name: str) -> Location | None:
    """Where the winning value of ``name`` comes from, when ``hostvars`` knows (HostVars)."""
    explain = getattr(hostvars, "explain", None)
    rows = explain(name) if explain is not None else []
    if not rows:
        return None
    location = getattr(rows[-1].value, "location", None)
    return location if isinstance(location, Location) else Location(rows[-1].source)


def _ssh_args(name: str, hostvars: Mapping[str, Any]) -> SSHArgs:
    """The OpenSSH options of ansible_ssh_args, _common_args and _extra_args, in that order
    (the first value of an option wins, as in ssh); InputError naming the host and variable
    for an option fleet does not implement."""
    found = SSHArgs()
    for variable in SSH_ARG_VARS:
        text = hostvars.get(variable)
        if text in (None, ""):
            continue
        try:
            parse_ssh_args(str(text), found)
            config = found.config_file
            if config is not None and config.lower() != "none" and not os.path.isfile(os.path.expanduser(config)):
                raise SSHArgsError(f"ssh config file -F {config} does not exist")
        except SSHArgsError as exc:
            raise InputError(f"host {name}: {variable}: {exc}", _location(hostvars, variable)) from None
    return found


def _host_key_policy(name: str, hostvars: Mapping[str, Any], args: SSHArgs, defaults: ConnectionDefaults) -> str:
    """The host's setting wins (the insecure opt-out, then ansible_host_key_checking, then
    StrictHostKeyChecking in its ssh args), else the command line's (--accept-new-host-keys,
    ANSIBLE_HOST_KEY_CHECKING). "Off" in Ansible's or OpenSSH's words accepts new keys only."""
    def setting(variable: str) -> bool:
        return strict_bool(hostvars[variable], f"host {name}: {variable}", _location(hostvars, variable))

    if INSECURE_VAR in hostvars and setting(INSECURE_VAR):
        return OFF
    for variable in ("ansible_host_key_checking", "ansible_ssh_host_key_checking"):
        if variable in hostvars:
            return STRICT if setting(variable) else ACCEPT_NEW
    strict = args.get("StrictHostKeyChecking")
    if strict is not None:
        return STRICT if strict in ("yes", "true", "ask") else ACCEPT_NEW
    return ACCEPT_NEW if defaults.accept_new_host_keys else STRICT


def _number(name: str, hostvars: Mapping[str, Any], variables: tuple[str, ...], default: Any,
            kind: type, low: float, high: float) -> Any:
    for variable in variables:
        if variable in hostvars and hostvars[variable] not in (None, ""):
            value = hostvars[variable]
            try:
                number = kind(value)
            except (TypeError, ValueError):
                number = None
            if isinstance(value, bool) or number is None or not low <= number <= high:
                raise InputError(f"host {name}: {variable}: a number from {low:g} to {high:g} expected, "
                                 f"got {value!r}", _location(hostvars, variable))
            return number
    return default


def ssh_options(name: str, hostvars: Mapping[str, Any], defaults: ConnectionDefaults) -> SSHOptions:
    """SSH settings for one host from its (rendered) variables: the host's variables first,
    then its ssh args (ansible_ssh_common_args...), then the command line's options.
    InputError (naming the host and variable) for a bad value or an unsupported ssh option."""

    def var(*names: str, default: Any = None) -> Any:
        for key in names:
            if key in hostvars:
                return hostvars[key]
        return default

    args = _ssh_args(name, hostvars)
    key = var("ansible_ssh_private_key_file", "ansible_private_key_file", default=defaults.private_key)
    known = args.get("UserKnownHostsFile") or ([defaults.known_hosts] if defaults.known_hosts else [])
    return SSHOptions(
        host=str(var("ansible_host", "ansible_ssh_host", default=args.get("HostName", name))),
        port=_number(name, hostvars, ("ansible_port", "ansible_ssh_port"), args.get("Port"), int, 1, 65535),
        user=var("ansible_user", "ansible_ssh_user", default=args.get("User", defaults.user)),
        key_files=([str(key)] if key else []) + list(args.get("IdentityFile", [])),
        password=var("ansible_password", "ansible_ssh_pass", "ansible_ssh_password"),
        known_hosts=list(known),
        host_key_policy=_host_key_policy(name, hostvars, args, defaults),
        proxy_jump=args.get("ProxyJump"),
        config_file=args.config_file,
        connect_timeout=float(_number(name, hostvars, ("ansible_ssh_timeout", "ansible_timeout"),
                                      args.get("ConnectTimeout", defaults.connect_timeout), float, 0, 86400)),
        ssh_config={option: value for option, value in args.options.items() if option not in LIFTED},
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
                 become_password: str | None = None, mux: Any = None,
                 max_output: int = DEFAULT_MAX_OUTPUT) -> None:
        self.name = name
        self.max_output = max_output
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
            session = await AgentSession.start(self._transport, self.name, self.interpreter, self._payload, become,
                                               max_output=self.max_output)
        session.max_output = self.max_output  # a leased agent too
        self._sessions[become_user] = session
        self._started.append(session)
        return session

    def live_sessions(self) -> list[AgentSession]:
        """The agents this connection has open now."""
        return list(self._sessions.values())

    async def fresh_session(self, become_user: str | None) -> tuple[Transport, AgentSession]:
        """A new transport and agent, never the daemon's nor this connection's: proof that the
        host still accepts new connections. The caller closes both."""
        transport = self.spec.build()
        await transport.connect()
        become = None if become_user is None else Become(become_user, self._become_password)
        try:
            return transport, await AgentSession.start(transport, self.name, self.interpreter, self._payload, become,
                                                       max_output=self.max_output)
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
                                         payload, defaults.become_password if password is None else str(password), mux,
                                         max_output_for(hostvars, defaults))
    connection.bootstrap_python = _bool(hostvars.get("bootstrap_python", False))
    connection.check_mode = defaults.check
    return connection


def max_output_for(hostvars: Mapping[str, Any], defaults: ConnectionDefaults) -> int:
    """Bytes the controller accepts from the host per task: ``fleet_max_host_output`` (MiB)
    wins over ``--max-host-output``, as variables win over options."""
    value = hostvars.get(MAX_OUTPUT_VAR)
    if value is None:
        return defaults.max_output
    try:
        mib = int(str(value).strip())
    except ValueError:
        mib = 0
    if mib < 1 or isinstance(value, bool):
        raise ConnectionFailed(f"{MAX_OUTPUT_VAR} must be a whole number of MiB (1 or more), got {value!r:.40}")
    return mib * MIB
