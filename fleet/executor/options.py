"""Options of one run (what the CLI flags or API arguments asked for)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from fleet.connection import ConnectionDefaults
from fleet.connection.mux import persist_from_env
from fleet.executor.factcache import FactCache
from fleet.secrets import Secrets

DEFAULT_LOCK_WAIT = 60.0  # seconds a run waits for another run's lock on a host
ENV_HOST_STATE_DIR = "FLEET_HOST_STATE_DIR"


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
    # ansible.cfg's library and module_utils (ANSIBLE_LIBRARY...): Ansible's modules, for the bridge
    library_dirs: list[str] = field(default_factory=list)
    module_utils_dirs: list[str] = field(default_factory=list)
    role_dirs: list[str] = field(default_factory=list)
    collection_dirs: list[str] = field(default_factory=list)  # ansible.cfg's collections_path
    # ansible.cfg's gathering (implicit, explicit, smart) and jsonfile fact cache (None: memory)
    gathering: str = "implicit"
    fact_cache: FactCache | None = None
    verbosity: int = 0
    pipelining: bool = True  # send consecutive independent tasks in one request (executor/pipeline.py)
    # seconds the persistence daemon keeps agents after the run (0: no daemon, connect directly)
    persist: float = field(default_factory=persist_from_env)
    # vault keyring and the secret values met so far: everything shown is redacted through it
    secrets: Secrets = field(default_factory=Secrets)
    # about the run, known before it starts (a become password file others can read): the
    # report's warnings
    warnings: list[str] = field(default_factory=list)
    # the host's run lock (fleet/agent/hoststate.py): taken by each run unless --no-lock,
    # waited for up to lock_wait seconds (--lock-wait)
    lock: bool = True
    lock_wait: float = DEFAULT_LOCK_WAIT
    # agents keep the lock and the handlers pending on the hosts (off for image builds);
    # where on the hosts (FLEET_HOST_STATE_DIR; the fleet_host_state_dir variable wins)
    host_state: bool = True
    host_state_dir: str | None = field(default_factory=lambda: os.environ.get(ENV_HOST_STATE_DIR) or None)
    command: str = ""  # what the lock shows other runs ("fleet apply"); default: from the mode
    # vars_prompt: how to ask the operator (fleet.playbook.terminal_asker on a terminal); None: no
    # one to ask, so a prompt's default is its answer, and one without a default is an error
    ask: Any = None

    @property
    def mode(self) -> str:
        return "check" if self.check else "apply"
