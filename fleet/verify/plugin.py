"""pytest plugin used by ``fleet verify``: strict host keys for testinfra's paramiko backend.

testinfra's paramiko backend accepts unknown host keys with a warning. Under ``fleet verify``
every paramiko connection to a host fleet knows is made by a client that trusts only the
known_hosts file fleet itself uses for that host, and refuses anything else. The backend's
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


def _strict_client(backend: Any, known_hosts: str) -> Any:
    """A paramiko client for ``backend``'s host that refuses keys not in ``known_hosts``."""
    import paramiko

    client = paramiko.SSHClient()
    if os.path.exists(known_hosts):
        client.load_host_keys(known_hosts)
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
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
        if settings is None or not settings.get("host_key_checking", True):
            return original.func(backend)
        return _strict_client(backend, os.path.expanduser(settings["known_hosts"]))

    client.fleet_strict = True  # type: ignore[attr-defined]
    strict = functools.cached_property(client)
    strict.__set_name__(ParamikoBackend, "client")
    ParamikoBackend.client = strict


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    install()
