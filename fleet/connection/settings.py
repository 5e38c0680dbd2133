"""A host's connection settings from its variables: Ansible's names, fleet's precedence.

As in Ansible, variables win over command-line options (``ansible_user`` overrides ``-u``), and
``ansible_become`` overrides the ``become`` keyword. :func:`transport_spec` turns a host's
(rendered) variables into a :class:`~fleet.transport.TransportSpec`; :data:`SPECS` is the plain
registry of connection names (``ansible_connection``) it knows.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from fleet.errors import ConnectionFailed, InputError, Location
from fleet.transport import (
    ACCEPT_NEW,
    DEFAULT_MAX_OUTPUT,
    MIB,
    OFF,
    STRICT,
    SSHArgs,
    SSHArgsError,
    SSHOptions,
    TransportSpec,
    parse_ssh_args,
)

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


SpecFactory = Callable[[str, Mapping[str, Any], ConnectionDefaults], dict[str, Any]]

# A plain registry: connection name -> (transport kind, its params from the host's variables).
# A new transport adds an entry here and its builder to fleet.transport.spec.BUILDERS.
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


def transport_spec(name: str, hostvars: Mapping[str, Any], defaults: ConnectionDefaults) -> TransportSpec:
    """The host's transport as data, from ``ansible_connection`` (else ``--connection``)."""
    connection = str(hostvars.get("ansible_connection") or defaults.connection)
    entry = SPECS.get(connection)
    if entry is None:
        raise ConnectionFailed(f"unknown ansible_connection {connection!r} (known: {', '.join(sorted(SPECS))})")
    kind, factory = entry
    return TransportSpec(kind, factory(name, hostvars, defaults))


def interpreter_for(hostvars: Mapping[str, Any]) -> str:
    """The agent's Python on the host: ``ansible_python_interpreter`` (``auto*``: python3)."""
    value = str(hostvars.get("ansible_python_interpreter") or "python3")
    return "python3" if value.startswith("auto") else value


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
