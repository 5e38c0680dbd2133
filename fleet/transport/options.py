"""SSH connection settings, kept apart from the asyncssh transport so that reading them
does not import asyncssh (a tenth of a second) in runs that never open an SSH connection."""

from __future__ import annotations

from dataclasses import dataclass, field

DEFAULT_KNOWN_HOSTS = "~/.ssh/known_hosts"


@dataclass
class SSHOptions:
    """Everything needed to open one SSH connection (from inventory vars and CLI options)."""

    host: str
    port: int | None = None
    user: str | None = None
    key_files: list[str] = field(default_factory=list)
    password: str | None = None
    known_hosts: str | None = None
    host_key_checking: bool = True
    accept_new_host_keys: bool = False
    proxy_jump: str | None = None
    connect_timeout: float = 10.0
    # A host that vanishes (network cut, powered off) is noticed within about a minute even
    # when no task timeout is set, instead of after TCP's retransmission timeout (~15 min).
    keepalive_interval: float = 15.0
    keepalive_count_max: int = 4
