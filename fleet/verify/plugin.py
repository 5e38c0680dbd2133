"""pytest plugin used by ``fleet verify``: strict host keys for testinfra's paramiko backend.

testinfra's paramiko backend accepts unknown host keys with a warning. Under ``fleet verify``
each paramiko host gets a client that trusts only the known_hosts file fleet itself uses
for that host, and refuses anything else.
"""

from __future__ import annotations

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


@pytest.fixture(scope="module", autouse=True)
def _fleet_strict_host_keys(request: pytest.FixtureRequest) -> None:
    if "_testinfra_host" not in request.fixturenames:
        return
    host = request.getfixturevalue("_testinfra_host")
    backend = host.backend
    if getattr(backend, "NAME", "") != "paramiko" or "client" in backend.__dict__:
        return
    settings = _config().get(backend.host.name)
    if settings is None or not settings.get("host_key_checking", True):
        return
    import paramiko

    client = paramiko.SSHClient()
    known_hosts = os.path.expanduser(settings["known_hosts"])
    if os.path.exists(known_hosts):
        client.load_host_keys(known_hosts)
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    client.connect(
        hostname=backend.host.name,
        port=int(backend.host.port or 22),
        username=backend.host.user,
        key_filename=backend.ssh_identity_file,
        timeout=backend.timeout,
        look_for_keys=backend.ssh_identity_file is None,
    )
    backend.__dict__["client"] = client  # replaces testinfra's lenient cached client
