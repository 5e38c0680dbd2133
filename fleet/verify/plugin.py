"""pytest plugin used by ``fleet verify``: fleet's host-key policy for testinfra's paramiko backend.

testinfra's paramiko backend accepts unknown and changed host keys with a warning. Under
``fleet verify`` every paramiko connection to a host fleet knows is made by a client that
trusts only the known_hosts file fleet itself uses for that host, and refuses a changed key;
an unknown key is refused too, unless the host's policy accepts new keys (then it is
recorded, as fleet's SSH connections do). Only the explicit insecure policy ``off`` leaves
testinfra's own client. The backend's
``client`` property itself is replaced (not a fixture's cached value), so every host of a
parametrized run is covered, and so is testinfra's reconnect after a dropped connection.
"""

from __future__ import annotations

import functools
import json
import os
from typing import Any

import pytest

CONFIG_ENV = "FLEET_VERIFY_HOSTS"


def _config() -> dict[str, Any]:
    path = os.environ.get(CONFIG_ENV)
    if not path:
        return {}
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


class HostKeyRefused(Exception):
    """The host's key is unknown or changed: the tests of that host do not run."""


def _recording_policy(known_hosts: str) -> Any:
    """A paramiko policy that accepts an unknown key and appends it to ``known_hosts``."""
    import paramiko

    class Record(paramiko.MissingHostKeyPolicy):
        def missing_host_key(self, client: Any, hostname: str, key: Any) -> None:
            directory = os.path.dirname(known_hosts)
            if directory:
                os.makedirs(directory, mode=0o700, exist_ok=True)
            with open(known_hosts, "a", encoding="ascii") as handle:
                handle.write(f"{hostname} {key.get_name()} {key.get_base64()}\n")

    return Record()


def _strict_client(backend: Any, known_hosts: str, accept_new: bool = False) -> Any:
    """A paramiko client for ``backend``'s host that refuses keys not in ``known_hosts``
    (records them instead with ``accept_new``) and always refuses a changed key."""
    import paramiko

    client = paramiko.SSHClient()
    if os.path.exists(known_hosts):
        client.load_host_keys(known_hosts)
    client.set_missing_host_key_policy(_recording_policy(known_hosts) if accept_new else paramiko.RejectPolicy())
    try:
        client.connect(
            hostname=backend.host.name,
            port=int(backend.host.port or 22),
            username=backend.host.user,
            key_filename=backend.ssh_identity_file,
            timeout=backend.timeout,
            look_for_keys=backend.ssh_identity_file is None,
        )
    except paramiko.BadHostKeyException:
        raise HostKeyRefused(f"host key for {backend.host.name} has CHANGED: it differs from the one "
                             f"recorded in {known_hosts}; refusing to connect") from None
    except paramiko.SSHException as exc:
        if "not found in known_hosts" not in str(exc):
            raise
        raise HostKeyRefused(f"host key for {backend.host.name} is not known (not in {known_hosts}); "
                             f"fleet verify never accepts new keys: record it first (e.g. fleet apply "
                             f"--accept-new-host-keys, or ssh-keyscan)") from None
    return client


def install() -> None:
    """Replace ParamikoBackend.client with one that is strict for the hosts fleet configured."""
    from testinfra.backend.paramiko import ParamikoBackend

    original = ParamikoBackend.__dict__["client"]
    if getattr(original.func, "fleet_strict", False):
        return
    hosts = _config()

    def client(backend: Any) -> Any:
        settings = hosts.get(backend.host.name)
        policy = settings.get("host_key_policy", "strict") if settings is not None else "off"
        if settings is None or policy == "off":
            return original.func(backend)
        return _strict_client(backend, os.path.expanduser(settings["known_hosts"]), policy == "accept-new")

    client.fleet_strict = True  # type: ignore[attr-defined]
    strict = functools.cached_property(client)
    strict.__set_name__(ParamikoBackend, "client")
    ParamikoBackend.client = strict


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    install()
