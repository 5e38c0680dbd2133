"""Preflight for connections: the SSH settings of every host the run selects are read before
anything connects, so an ssh option fleet does not implement (a port forwarding, a typo), a
bad port or a host-key setting that is not a boolean stops the run with nothing applied, in
one message naming the host, the variable and where it is defined.

Values that are templates only a play or task can resolve are checked when the host connects.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fleet.connection import INSECURE_VAR, SSH_ARG_VARS, ConnectionDefaults, ssh_options
from fleet.errors import FleetError, TemplateError
from fleet.playbook import Playbook
from fleet.templating import is_template
from fleet.vars import HostVars, Layer

SSH_CONNECTIONS = frozenset({"ssh", "paramiko", "smart"})
PLAIN = (str, int, float, bool, type(None))
# What ssh_options validates: hosts whose values of these are the same objects (and no
# templates) are checked once.
RELEVANT = (*SSH_ARG_VARS, "ansible_port", "ansible_ssh_port", "ansible_ssh_timeout", "ansible_timeout",
            "ansible_host_key_checking", "ansible_ssh_host_key_checking", INSECURE_VAR, "ansible_connection")


def selected_hosts(playbook: Playbook, inventory: Any, limit: str | Sequence[str] | None) -> list[str]:
    """The hosts any play of ``playbook`` selects (plays whose pattern is a template are left
    to run time)."""
    names: dict[str, None] = {}
    for play in playbook.plays:
        try:
            names.update(dict.fromkeys(host.name for host in inventory.select(play.hosts, limit)))
        except FleetError:
            continue
    return list(names)


def check_ssh_settings(playbook: Playbook, inventory: Any, templar: Any, extra_vars: Mapping[str, Any],
                       limit: str | Sequence[str] | None = None, defaults: ConnectionDefaults | None = None) -> None:
    """InputError for the first selected SSH host whose connection settings are bad."""
    defaults = defaults or ConnectionDefaults()
    top = [Layer("extra vars", "command line (-e)", dict(extra_vars))] if extra_vars else []
    checked: set[tuple[int, ...]] = set()  # hosts that share their settings' values are checked once
    for name in selected_hosts(playbook, inventory, limit):
        layers = [*inventory.host_layers(name), *top]
        values = [_winner(layers, variable) for variable in RELEVANT]
        shared = all(isinstance(value, PLAIN) and not (isinstance(value, str) and is_template(value))
                     for value in values)
        key = tuple(map(id, values))
        if shared and key in checked:
            continue
        hostvars = HostVars([*layers, Layer("magic vars", "fleet", dict(inventory.magic_vars(name)))], templar)
        try:
            connection = str(hostvars.get("ansible_connection") or defaults.connection)
            if connection in SSH_CONNECTIONS:
                ssh_options(name, hostvars, defaults)
        except TemplateError:
            continue  # needs a play's or task's variables: checked when the host connects
        if shared:
            checked.add(key)


def _winner(layers: list[Layer], variable: str) -> Any:
    """The raw value of ``variable`` that wins in ``layers`` (the same object for every host
    that inherits it from the same group), or None."""
    for layer in reversed(layers):
        if variable in layer.values:
            return layer.values[variable]
    return None
