"""Host-key verification for SSH connections, as OpenSSH does it.

Keys are looked up in the user's known_hosts files, then the global ones (OpenSSH's
``UserKnownHostsFile`` and ``GlobalKnownHostsFile``); new keys are recorded in the first user
file, under OpenSSH's name for the host (``host``, ``[host]:port`` off port 22, or the
``HostKeyAlias``), hashed when ``HashKnownHosts`` says so.

Policies (:mod:`fleet.transport.options`): ``strict`` refuses unknown keys, ``accept-new``
records them; both refuse a key that differs from a recorded one. OpenSSH's
``StrictHostKeyChecking=no`` would continue with a changed key (password and agent
forwarding off); fleet refuses, because what it then sends is more than a password: every
file it renders, secrets included, would go to whoever holds the new key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from fleet.transport.options import ACCEPT_NEW
from fleet.transport.sshlib import asyncssh

DEFAULT_USER_FILES = ("~/.ssh/known_hosts", "~/.ssh/known_hosts2")
DEFAULT_GLOBAL_FILES = ("/etc/ssh/ssh_known_hosts", "/etc/ssh/ssh_known_hosts2")


class KnownHosts:
    """The known_hosts files fleet reads for one connection, and the one it records into."""

    def __init__(self, user_files: list[str], global_files: list[str], hash_names: bool = False) -> None:
        self.user_files = [os.path.expanduser(path) for path in user_files]
        self.global_files = [os.path.expanduser(path) for path in global_files]
        self.hash_names = hash_names

    @property
    def record_file(self) -> str:
        return self.user_files[0]

    def existing(self) -> list[str]:
        """Files that exist, user files first (``/dev/null`` too: it reads as empty)."""
        return [path for path in self.user_files + self.global_files if os.path.exists(path)]

    def trusted_arg(self) -> object:
        """asyncssh's ``known_hosts`` argument: the files, or nothing trusted."""
        return self.existing() or b""

    def recorded(self, name: str) -> list[tuple[str, asyncssh.SSHKey]]:
        """(file, key) of every plain key recorded for exactly ``name`` (``[host]:port``
        included): OpenSSH's lookup, without asyncssh's fallback from ``[host]:port`` to
        ``host`` (another port is another server)."""
        return [(path, key) for path in self.existing()
                for key in asyncssh.match_known_hosts(path, name, "", None)[0]]

    def record(self, name: str, key: asyncssh.SSHKey) -> None:
        """Append ``name key`` to the first user file (its directory made 0700 if missing)."""
        algorithm, blob = key.export_public_key("openssh").decode().split()[:2]
        if self.hash_names:
            salt = os.urandom(20)
            digest = hmac.new(salt, name.encode(), hashlib.sha1).digest()
            name = f"|1|{base64.b64encode(salt).decode()}|{base64.b64encode(digest).decode()}"
        directory = os.path.dirname(self.record_file)
        if directory:
            os.makedirs(directory, mode=0o700, exist_ok=True)
        with open(self.record_file, "a", encoding="ascii") as handle:
            handle.write(f"{name} {algorithm} {blob}\n")


def known_name(host: str, port: int | None, alias: str | None) -> str:
    """How OpenSSH names a host in known_hosts: the alias as it is, else host or [host]:port."""
    if alias:
        return alias
    return host if port in (None, 22) else f"[{host}]:{port}"


class HostKeyPolicy(asyncssh.SSHClient):
    """Decides about host keys asyncssh's lookup in the known_hosts files did not trust.

    ``refusal`` says why a key was refused (the connection error asyncssh raises is generic).
    """

    def __init__(self, known: KnownHosts, policy: str, alias: str | None = None) -> None:
        self._known = known
        self._policy = policy
        self._alias = alias
        self.refusal: str | None = None

    def validate_host_public_key(self, host: str, addr: str, port: int, key: asyncssh.SSHKey) -> bool:
        name = known_name(host, port, self._alias)
        recorded = self._known.recorded(name)
        if any(known == key for _, known in recorded):
            return True  # recorded under OpenSSH's name, which asyncssh's own lookup missed (an alias)
        fingerprint = key.get_fingerprint()
        if recorded:
            path = recorded[0][0]
            accepting = (" Accepting new keys (StrictHostKeyChecking=no or accept-new, ansible_host_key_checking: "
                         "false, --accept-new-host-keys) never accepts a changed one." if self._policy == ACCEPT_NEW else "")
            self.refusal = (
                f"host key for {host} has CHANGED (now {fingerprint}); it differs from the one "
                f"recorded in {path}. Refusing to connect: no password, key or data was sent.{accepting} "
                f"If the change is expected, remove the old entry (ssh-keygen -R '{name}' -f {path}) "
                f"and connect again")
            return False
        if self._policy != ACCEPT_NEW:
            self.refusal = (
                f"host key for {host} is not known ({fingerprint} not in {self._known.record_file}); "
                f"add it to known_hosts, or accept and record new keys with --accept-new-host-keys "
                f"(or StrictHostKeyChecking=accept-new)")
            return False
        self._known.record(name, key)
        return True
