"""How :class:`~fleet.transport.options.SSHOptions` become ``asyncssh.connect`` arguments.

OpenSSH's precedence: the inventory's options, then the ssh config file (``~/.ssh/config``
or ``-F``), then fleet's defaults. asyncssh reads the config file itself for everything not
passed here; what fleet must know to act on (known_hosts files, HostKeyAlias, ProxyCommand,
ProxyJump, keepalives) it reads from the same file first.

ProxyCommand runs as OpenSSH runs it: ``$SHELL -c 'exec COMMAND'`` after ``%h %p %r %n %%``
expansion (started by :mod:`fleet.transport.sshproxy`). ProxyJump hops are connected here, one by one, under the same host-key policy
as the target (asyncssh's own ProxyJump would check them against ~/.ssh/known_hosts only).
"""

from __future__ import annotations

import getpass
import os
import socket
from dataclasses import dataclass, field
from typing import Any

from fleet.transport.hostkeys import (
    DEFAULT_GLOBAL_FILES,
    DEFAULT_USER_FILES,
    HostKeyPolicy,
    KnownHosts,
)
from fleet.transport.options import OFF, SSHOptions
from fleet.transport.sshargs import expand_percent
from fleet.transport.sshlib import asyncssh

# Preferred ciphers: AES-GCM runs on the CPU's AES instructions (asyncssh measured ~5x cheaper
# per packet than chacha20-poly1305 here); everything else stays allowed after them.
PREFERRED_CIPHERS = ("aes128-gcm@openssh.com", "aes256-gcm@openssh.com", "chacha20-poly1305@openssh.com",
                     "aes128-ctr", "aes192-ctr", "aes256-ctr")
# A host that vanishes or freezes (network cut, powered off, paused) is noticed within 40 s
# even when no task timeout is set (asyncssh closes the connection when the keepalive after
# COUNT_MAX unanswered ones is due), instead of after TCP's retransmission timeout (~15 min)
# or never (a frozen host's kernel still acknowledges TCP).
KEEPALIVE_INTERVAL, KEEPALIVE_COUNT_MAX = 10, 3
FAMILIES = {"any": socket.AF_UNSPEC, "inet": socket.AF_INET, "inet6": socket.AF_INET6}
# OpenSSH option -> asyncssh argument, for options that map one to one.
DIRECT = {
    "KexAlgorithms": "kex_algs", "MACs": "mac_algs", "HostKeyAlgorithms": "server_host_key_algs",
    "PasswordAuthentication": "password_auth", "KbdInteractiveAuthentication": "kbdint_auth",
    "ChallengeResponseAuthentication": "kbdint_auth", "PubkeyAuthentication": "public_key_auth",
    "GSSAPIAuthentication": "gss_auth", "GSSAPIKeyExchange": "gss_kex",
    "GSSAPIDelegateCredentials": "gss_delegate_creds", "TCPKeepAlive": "tcp_keepalive",
    "PreferredAuthentications": "preferred_auth", "ForwardAgent": "agent_forwarding",
    "SendEnv": "send_env", "CertificateFile": "client_certs",
}
_UNSET = object()


@dataclass(frozen=True)
class Hop:
    """One ProxyJump hop: ``[user@]host[:port]``."""

    host: str
    port: int | None = None
    user: str | None = None

    def __str__(self) -> str:
        return f"{self.user + '@' if self.user else ''}{self.host}{':' + str(self.port) if self.port else ''}"


@dataclass
class ConnectPlan:
    """Everything :class:`~fleet.transport.ssh.SSHTransport` needs to connect one host."""

    host: str
    port: int
    where: str  # host:port and the route, for messages
    kwargs: dict[str, Any]
    policy: HostKeyPolicy | None
    hops: list[Hop] = field(default_factory=list)
    hop_kwargs: dict[str, Any] = field(default_factory=dict)  # what every hop shares
    attempts: int = 1
    known: KnownHosts | None = None
    proxy_argv: list[str] | None = None  # ProxyCommand, as run through the shell


def config_paths(options: SSHOptions) -> list[str]:
    """The ssh config files to read: ``-F FILE``, none for ``-F none``, else ~/.ssh/config."""
    if options.config_file is not None:
        return [] if options.config_file.lower() == "none" else [os.path.expanduser(options.config_file)]
    default = os.path.expanduser("~/.ssh/config")
    return [default] if os.access(default, os.R_OK) else []


def load_config(options: SSHOptions, paths: list[str]) -> dict[str, Any]:
    """The config file's settings for this host (asyncssh's parser: the same asyncssh uses)."""
    local = getpass.getuser()
    config = asyncssh.config.SSHClientConfig.load(None, paths, False, False, False, local, options.user or (),
                                  options.host, options.port or ())
    return config.get_options(False)


def parse_hops(spec: str) -> list[Hop]:
    """``[ssh://][user@]host[:port]`` hops, comma-separated (OpenSSH's ProxyJump)."""
    hops = []
    for part in spec.split(","):
        part = part.strip().removeprefix("ssh://")
        user, _, hostport = part.rpartition("@")
        host, port = hostport, None
        if hostport.startswith("["):  # [v6addr]:port
            host, _, rest = hostport[1:].partition("]")
            port = int(rest[1:]) if rest.startswith(":") and rest[1:].isdigit() else None
        elif hostport.count(":") == 1:
            name, _, digits = hostport.partition(":")
            if digits.isdigit():
                host, port = name, int(digits)
        if not host:
            raise ValueError(f"ProxyJump {spec!r}: no host in {part!r}")
        hops.append(Hop(host, port, user or None))
    return hops


def plan(options: SSHOptions) -> ConnectPlan:
    """The asyncssh arguments and route for ``options``."""
    ssh = options.ssh_config
    paths = config_paths(options)
    config = load_config(options, paths)
    host = str(config.get("Hostname") or options.host)
    port = int(options.port or config.get("Port") or 22)
    user = options.user or str(config.get("User") or getpass.getuser())
    alias = ssh.get("HostKeyAlias") or config.get("HostKeyAlias")
    known = KnownHosts(options.known_hosts or list(config.get("UserKnownHostsFile") or DEFAULT_USER_FILES),
                       list(ssh.get("GlobalKnownHostsFile") or config.get("GlobalKnownHostsFile")
                            or DEFAULT_GLOBAL_FILES),
                       bool(ssh.get("HashKnownHosts", False)))
    common: dict[str, Any] = {
        "config": paths,
        "connect_timeout": options.connect_timeout,
        "keepalive_interval": ssh.get("ServerAliveInterval", config.get("ServerAliveInterval", KEEPALIVE_INTERVAL)),
        "keepalive_count_max": ssh.get("ServerAliveCountMax", config.get("ServerAliveCountMax", KEEPALIVE_COUNT_MAX)),
        "known_hosts": None if options.host_key_policy == OFF else known.trusted_arg(),
    }
    kwargs: dict[str, Any] = dict(common, port=port, host_key_alias=alias)
    if options.user:  # else asyncssh's: the config file's User, then the local user
        kwargs["username"] = options.user
    if options.password is not None:
        kwargs["password"] = options.password
    _map_options(options, config, kwargs)
    policy = None if options.host_key_policy == OFF else HostKeyPolicy(known, options.host_key_policy, alias)
    tokens = {"h": host, "p": str(port), "r": user, "n": options.host}
    jump = _route_setting(options.proxy_jump, config, "ProxyJump")
    command = _route_setting(ssh.get("ProxyCommand"), config, "ProxyCommand")
    hops: list[Hop] = []
    proxy_argv = None
    where = f"{host}:{port}"
    if jump is not _UNSET or command is not _UNSET:
        kwargs["tunnel"] = kwargs["proxy_command"] = None  # the config file's must not apply
    if isinstance(jump, str):
        hops = parse_hops(expand_percent(jump, tokens))
        where += f" via ProxyJump {jump}"
    elif isinstance(command, str):
        shell = os.environ.get("SHELL") or "/bin/sh"
        expanded = expand_percent(command, tokens) if ssh.get("ProxyCommand") else command
        proxy_argv = [shell, "-c", f"exec {expanded}"]
        where += f" via ProxyCommand {expanded!r}"
    return ConnectPlan(host, port, where, kwargs, policy, hops, common, int(ssh.get("ConnectionAttempts", 1) or 1),
                       known, proxy_argv)


def _route_setting(given: str | None, config: dict[str, Any], name: str) -> object:
    """The inventory's ProxyJump/ProxyCommand, else the config file's: a string, None for
    ``none``, or _UNSET when neither sets it."""
    if given is not None:
        return None if given.strip().lower() == "none" else given
    value = config.get(name, _UNSET)
    return value if value is None or value is _UNSET else str(value)


def _map_options(options: SSHOptions, config: dict[str, Any], kwargs: dict[str, Any]) -> None:
    """The remaining OpenSSH options, onto asyncssh's arguments."""
    ssh = options.ssh_config
    for name, argument in DIRECT.items():
        if name in ssh and argument not in kwargs:
            kwargs[argument] = ssh[name]
    kwargs["encryption_algs"] = ssh.get("Ciphers") or config.get("Ciphers") or list(PREFERRED_CIPHERS)
    if "Compression" in ssh:
        kwargs["compression_algs"] = "zlib@openssh.com,zlib,none" if ssh["Compression"] else "none"
    if "AddressFamily" in ssh:
        kwargs["family"] = FAMILIES[ssh["AddressFamily"]]
    if "BindAddress" in ssh:
        kwargs["local_addr"] = (ssh["BindAddress"], 0)
    if "SetEnv" in ssh:
        kwargs["env"] = dict(item.partition("=")[::2] for item in ssh["SetEnv"])
    if "RekeyLimit" in ssh:
        size, *time = ssh["RekeyLimit"]
        if size.lower() != "default":
            kwargs["rekey_bytes"] = size
        if time and time[0].lower() not in ("default", "none"):
            kwargs["rekey_seconds"] = time[0]
    keys = [os.path.expanduser(path) for path in options.key_files]
    if keys:
        kwargs["client_keys"] = keys
    if ssh.get("IdentitiesOnly"):  # agent keys only when they are one of the given identities
        kwargs["agent_identities"] = keys or None
    agent: str | None = ssh.get("IdentityAgent")
    if agent is not None:
        if agent.lower() == "none":
            kwargs["agent_path"] = None
        else:
            variable = agent[1:] if agent.startswith("$") else agent if agent == "SSH_AUTH_SOCK" else None
            kwargs["agent_path"] = os.environ.get(variable, "") if variable else os.path.expanduser(agent)
