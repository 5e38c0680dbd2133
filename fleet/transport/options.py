"""SSH connection settings, kept apart from the asyncssh transport so that reading them
does not import asyncssh (a tenth of a second) in runs that never open an SSH connection.

Every field is plain JSON data: the persistence daemon rebuilds the transport from them and
keys its agents by them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

DEFAULT_KNOWN_HOSTS = "~/.ssh/known_hosts"

# Host-key policies. STRICT: only keys already in known_hosts (OpenSSH's
# StrictHostKeyChecking=yes). ACCEPT_NEW: also an unknown key, which is then recorded
# (``accept-new``; fleet's meaning of ``no`` too). Under both, a key that differs from the
# recorded one is refused. OFF: nothing is checked or recorded (an explicit, insecure opt-in).
STRICT, ACCEPT_NEW, OFF = "strict", "accept-new", "off"
HOST_KEY_POLICIES = (STRICT, ACCEPT_NEW, OFF)


@dataclass
class SSHOptions:
    """Everything needed to open one SSH connection (from inventory vars and CLI options)."""

    host: str
    port: int | None = None  # None: ~/.ssh/config's Port, else 22
    user: str | None = None  # None: ~/.ssh/config's User, else the local user
    key_files: list[str] = field(default_factory=list)
    password: str | None = None
    known_hosts: list[str] = field(default_factory=list)  # user files, the first records; []: default
    host_key_policy: str = STRICT
    proxy_jump: str | None = None  # "none" overrides ~/.ssh/config
    config_file: str | None = None  # ssh -F (None: ~/.ssh/config; "none": no file)
    connect_timeout: float = 10.0
    # Where a ProxyCommand runs: the run's directory when the persistence daemon connects for it
    # (None: this process's own directory).
    proxy_cwd: str | None = None
    # The other OpenSSH options the inventory gave (fleet.transport.sshargs: canonical name ->
    # normalised value), mapped onto asyncssh by fleet.transport.sshconnect.
    ssh_config: dict[str, Any] = field(default_factory=dict)

    @property
    def host_key_checking(self) -> bool:
        """Whether host keys are verified at all (False only for the insecure OFF policy)."""
        return self.host_key_policy != OFF
