"""testinfra host specs built from inventory variables (ssh via paramiko, docker, local)."""

from __future__ import annotations

import os
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fleet.connection import ConnectionDefaults, ssh_options
from fleet.errors import InputError
from fleet.transport import DEFAULT_KNOWN_HOSTS, STRICT

# What testinfra's paramiko backend cannot do as fleet does: refused rather than connecting
# another way (directly instead of through the bastion, to another name's key).
UNSUPPORTED = ("ProxyCommand", "HostKeyAlias", "BindAddress")


@dataclass(frozen=True)
class HostSpec:
    """One host as testinfra should reach it, and how fleet names it."""

    name: str  # inventory name
    spec: str  # testinfra host spec
    address: str  # what testinfra's backend calls the host (for mapping results back)
    known_hosts: str | None = None  # host-key file for paramiko connections
    host_key_policy: str = STRICT  # fleet.transport.options: strict, accept-new or off


def host_spec(name: str, hostvars: Mapping[str, Any], defaults: ConnectionDefaults) -> HostSpec:
    connection = str(hostvars.get("ansible_connection") or defaults.connection)
    if connection == "local":
        return HostSpec(name, "local://", "local")
    if connection == "docker":
        container = str(hostvars.get("ansible_host") or name)
        user = hostvars.get("ansible_user")
        spec = f"docker://{user + '@' if user else ''}{container}"
        return HostSpec(name, spec, container)
    if connection not in ("ssh", "paramiko", "smart"):
        raise InputError(f"fleet verify cannot reach {name}: connection {connection!r} has no testinfra backend")
    options = ssh_options(name, hostvars, defaults)
    unsupported = [option for option in UNSUPPORTED if option in options.ssh_config]
    unsupported += ["ProxyJump"] * bool(options.proxy_jump and options.proxy_jump.lower() != "none")
    unsupported += ["-F"] * (options.config_file is not None)
    if unsupported:
        raise InputError(f"fleet verify cannot reach {name} as fleet does: its ssh settings use "
                         f"{', '.join(unsupported)}, which testinfra's paramiko backend does not support here")
    user = f"{urllib.parse.quote(options.user)}@" if options.user else ""
    port = f":{options.port}" if options.port else ""
    query = {}
    if options.key_files:
        query["ssh_identity_file"] = _absolute(options.key_files[0])
    suffix = f"?{urllib.parse.urlencode(query)}" if query else ""
    return HostSpec(name, f"paramiko://{user}{options.host}{port}{suffix}", options.host,
                    _absolute((options.known_hosts or [DEFAULT_KNOWN_HOSTS])[0]), options.host_key_policy)


def _absolute(path: str) -> str:
    """``path`` as this process means it: the tests run in a directory of their own."""
    return os.path.abspath(os.path.expanduser(path))
