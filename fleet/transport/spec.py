"""A transport described as data: ``TransportSpec(kind, params)``, and how to build one.

Being data, a spec can be handed to the persistence daemon (:mod:`fleet.connection.mux`),
which builds the same transport on its side. Which spec a host gets from its variables is
the connection layer's business (:data:`fleet.connection.settings.SPECS`); this module only
knows the transports themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fleet.errors import ConnectionFailed
from fleet.transport.base import Transport
from fleet.transport.chroot import ChrootTransport
from fleet.transport.docker import DockerTransport
from fleet.transport.local import LocalTransport
from fleet.transport.options import SSHOptions


def _ssh_transport(params: dict[str, Any]) -> Transport:
    from fleet.transport.ssh import SSHTransport  # asyncssh is imported only when needed

    return SSHTransport(SSHOptions(**params))


def _local_transport(params: dict[str, Any]) -> Transport:
    transport = LocalTransport()
    transport.cwd = params.get("cwd")  # set by the persistence daemon: the run's directory
    return transport


# A plain registry: transport kind -> how to build it from its params. A new transport adds an
# entry here, and the connection names that use it to fleet.connection.settings.SPECS.
BUILDERS: dict[str, Callable[[dict[str, Any]], Transport]] = {
    "ssh": _ssh_transport,
    "local": _local_transport,
    "docker": lambda params: DockerTransport(params["container"], params.get("user")),
    "chroot": lambda params: ChrootTransport(params["root"], params.get("interpreter", "python3")),
}


@dataclass(frozen=True)
class TransportSpec:
    """How to reach a host, as plain data: ``kind`` (a key of :data:`BUILDERS`) plus JSON-able
    ``params``."""

    kind: str
    params: dict[str, Any]

    def build(self) -> Transport:
        builder = BUILDERS.get(self.kind)
        if builder is None:
            raise ConnectionFailed(f"unknown transport {self.kind!r} (known: {', '.join(sorted(BUILDERS))})")
        return builder(self.params)
