"""What the controller takes from a host, and what it never does.

A module's ``ansible_facts`` become variables of that host, so a host could otherwise set its
own connection, become or interpreter variables (``ansible_connection: local`` would run the
next play on the controller). As Ansible's ``clean_facts``: such keys are dropped with a
warning, and facts are taken only from modules that declare them (``RETURNS_FACTS = True``).
Connection settings are read from a view without the facts layer, and a connection setting
whose value is host data (a registered result, or computed from one) is refused.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from fleet.errors import ConnectionFailed
from fleet.templating import contains_unsafe
from fleet.vars import HostVars

# Ansible's COMMON_CONNECTION_VARS and MAGIC_VARIABLE_MAPPING names, plus fleet's own.
CONNECTION_VARS = frozenset({
    "ansible_connection", "ansible_host", "ansible_user", "ansible_port", "ansible_password",
    "ansible_pass", "ansible_private_key_file", "ansible_timeout", "ansible_pipelining",
    "ansible_shell_type", "ansible_shell_executable", "ansible_executable", "ansible_module_compression",
    "ansible_host_key_checking", "ansible_remote_tmp", "ansible_remote_user",
    "ansible_rsync_path", "ansible_playbook_python", "ansible_facts", "ansible_delegated_vars",
})
_RESTRICTED = re.compile(
    r"^ansible_(?:(?:ssh|paramiko|smart|local|docker|chroot|podman|psrp|winrm|network_cli)_.*"
    r"|become.*|.*_interpreter)$")


def restricted_fact(name: str) -> bool:
    """Whether a fact called ``name`` (with or without ``ansible_``) would set a connection,
    become or interpreter variable. SSH host-key facts are ordinary facts."""
    var = name if name.startswith("ansible_") else f"ansible_{name}"
    if var.startswith("ansible_ssh_host_key_"):
        return False
    return var in CONNECTION_VARS or bool(_RESTRICTED.match(var))


def accepted_facts(facts: Any, module: str, declares_facts: bool, warnings: list[str]) -> dict[str, Any]:
    """The facts a module result may set: none unless the module declares facts, and never
    restricted names; each key dropped is named in ``warnings``."""
    if not isinstance(facts, dict) or not facts:
        return {}
    if not declares_facts:
        warnings.append(f"module {module} returned ansible_facts but does not declare facts "
                        f"(RETURNS_FACTS): ignored")
        return {}
    kept: dict[str, Any] = {}
    for key, value in facts.items():
        if restricted_fact(str(key)):
            warnings.append(f"Removed restricted key from module data: {str(key)[:80]!r}")
        else:
            kept[key] = value
    return kept


class ConnectionVars(Mapping[str, Any]):
    """A host's variables read as connection settings: the facts and play-context layers left
    out (the latter only mirrors the settings), and a value that is host data refused
    (``ConnectionFailed`` naming the variable)."""

    def __init__(self, variables: Mapping[str, Any], host: str | None = None) -> None:
        if isinstance(variables, HostVars):
            variables = HostVars([layer for layer in variables.layers if layer.kind not in ("facts", "play context")],
                                 variables.templar)
        self._vars = variables
        self._host = host or variables.get("inventory_hostname", "this host")

    def __getitem__(self, name: str) -> Any:
        value = self._vars[name]
        if contains_unsafe(value):
            raise ConnectionFailed(f"{self._host}: {name} comes from data a host sent (a registered result or "
                                   f"a fact); fleet never takes connection settings from a host")
        return value

    def __contains__(self, name: object) -> bool:
        return name in self._vars

    def __iter__(self) -> Iterator[str]:
        return iter(self._vars)

    def __len__(self) -> int:
        return len(self._vars)
