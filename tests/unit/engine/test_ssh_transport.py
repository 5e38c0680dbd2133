"""SSHTransport's connection errors and retries, against a closed loopback port."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fleet.connection import ConnectionDefaults, ssh_options
from fleet.errors import ConnectionFailed
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


def test_only_asyncssh_dsa_deprecation_is_silenced() -> None:
    """Importing asyncssh through fleet prints nothing; the same warning from other code,
    and other warnings from asyncssh's modules, still show."""
    script = (
        "import warnings\n"
        "from fleet.transport.sshlib import asyncssh\n"
        "from cryptography.utils import CryptographyDeprecationWarning as C\n"
        "warnings.warn('DSA is deprecated (elsewhere)', C)\n"
        "warnings.warn_explicit('something else', C, 'x.py', 1, module='asyncssh.crypto.misc')\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("Warning") == 2, result.stderr
    assert "DSA is deprecated (elsewhere)" in result.stderr and "something else" in result.stderr
    assert "asyncssh/crypto" not in result.stderr


def test_fleet_imports_asyncssh_only_through_sshlib() -> None:
    """A direct ``import asyncssh`` anywhere else would print the DSA warnings again."""
    import fleet

    root = Path(fleet.__file__).parent
    direct = [str(path.relative_to(root)) for path in root.rglob("*.py")
              if path.name != "sshlib.py" and any(line.startswith(("import asyncssh", "from asyncssh"))
                                                  for line in path.read_text().splitlines())]
    assert direct == []
