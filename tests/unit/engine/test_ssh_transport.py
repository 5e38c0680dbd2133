"""SSHTransport's connection errors and retries, against a closed loopback port."""

from __future__ import annotations

import asyncio
import socket
import time

import pytest

from fleet.errors import ConnectionFailed
from fleet.executor.connection import ConnectionDefaults, ssh_options
from fleet.transport.ssh import SSHTransport


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("attempts", [1, 3])
def test_connection_attempts_retry_a_refused_connection_a_second_apart(attempts: int) -> None:
    port = _closed_port()
    options = ssh_options("h", {"ansible_host": "127.0.0.1", "ansible_port": port,
                                "ansible_ssh_common_args": f"-F none -o ConnectionAttempts={attempts}"},
                          ConnectionDefaults())
    started = time.monotonic()
    with pytest.raises(ConnectionFailed, match=f"cannot connect to 127.0.0.1:{port}: "):
        asyncio.run(SSHTransport(options).connect())
    elapsed = time.monotonic() - started
    assert attempts - 1 <= elapsed < attempts - 1 + 30


def test_a_proxycommand_that_cannot_start_says_so() -> None:
    options = ssh_options("h", {"ansible_host": "127.0.0.1", "ansible_ssh_common_args":
                                "-F none -o 'ProxyCommand=/nonexistent/proxy %h'"}, ConnectionDefaults())
    with pytest.raises(ConnectionFailed, match="via ProxyCommand '/nonexistent/proxy 127.0.0.1'.*nonexistent/proxy"):
        asyncio.run(SSHTransport(options).connect())
