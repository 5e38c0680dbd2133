"""Options of one run (what the CLI flags or API arguments asked for)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from fleet.executor.connection import ConnectionDefaults
from fleet.mux.protocol import persist_from_env
from fleet.secrets import Secrets


@dataclass
class RunOptions:
    """Everything a run needs besides the inventory and the playbook."""

    check: bool = False
    diff: bool = False
    forks: int = 100
    limit: str | None = None
    tags: frozenset[str] = frozenset()
    skip_tags: frozenset[str] = frozenset()
    extra_vars: dict[str, Any] = field(default_factory=dict)
    timeout: float | None = None  # per task, seconds
    become: bool = False
    become_user: str | None = None
    strategy: str | None = None  # overrides the plays' strategy when set
    connection: ConnectionDefaults = field(default_factory=ConnectionDefaults)
    module_dirs: list[str] = field(default_factory=list)
    role_dirs: list[str] = field(default_factory=list)
    verbosity: int = 0
    pipelining: bool = True  # send consecutive independent tasks in one request (executor/pipeline.py)
    # seconds the persistence daemon keeps agents after the run (0: no daemon, connect directly)
    persist: float = field(default_factory=persist_from_env)
    # vault keyring and the secret values met so far: everything shown is redacted through it
    secrets: Secrets = field(default_factory=Secrets)
    # about the run, known before it starts (a become password file others can read): the
    # report's warnings
    warnings: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.check and not self.connection.check:  # what connects must know: it installs nothing
            self.connection = replace(self.connection, check=True)

    @property
    def mode(self) -> str:
        return "check" if self.check else "apply"
