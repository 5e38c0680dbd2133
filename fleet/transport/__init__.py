"""Ways to start the agent on a host and get its byte stream.

A transport only knows how to run a shell command line on the target and hand back an
:class:`~fleet.transport.base.AgentProcess`: ssh (asyncssh; ``sshargs`` parses OpenSSH
options, ``sshconnect`` maps them, ``hostkeys`` is the known_hosts policy, ``sshproxy`` runs
ProxyCommand), local, docker and chroot. :class:`TransportSpec` describes one as data
(``BUILDERS`` builds it). Everything above it (agent start, framing, become) is the connection
layer's (:mod:`fleet.connection`). Of fleet, a transport imports only :mod:`fleet.errors`.

The face leaves out :mod:`~fleet.transport.ssh` itself: asyncssh is imported only when an
ssh transport is built.
"""

from fleet.transport.base import (
    DEFAULT_MAX_OUTPUT,
    MIB,
    AgentProcess,
    RelayLost,
    Transport,
    output_exceeded,
)
from fleet.transport.chroot import ChrootTransport, check_tree
from fleet.transport.docker import DockerTransport
from fleet.transport.local import LocalTransport
from fleet.transport.options import ACCEPT_NEW, DEFAULT_KNOWN_HOSTS, OFF, STRICT, SSHOptions
from fleet.transport.spec import BUILDERS, TransportSpec
from fleet.transport.sshargs import SSHArgs, SSHArgsError, parse_ssh_args

__all__ = [
    "ACCEPT_NEW",
    "BUILDERS",
    "DEFAULT_KNOWN_HOSTS",
    "DEFAULT_MAX_OUTPUT",
    "MIB",
    "OFF",
    "STRICT",
    "AgentProcess",
    "ChrootTransport",
    "DockerTransport",
    "LocalTransport",
    "RelayLost",
    "SSHArgs",
    "SSHArgsError",
    "SSHOptions",
    "Transport",
    "TransportSpec",
    "check_tree",
    "output_exceeded",
    "parse_ssh_args",
]
