"""A private, unprivileged-port sshd on 127.0.0.1 with throwaway keys.

Used by fleet's end-to-end tests and the benchmark harness: real SSH, real agent, no
containers. Every inventory host points at the same sshd and works under its own directory.

By default the hosts log in as the current user. ``login_user`` (root only) makes them log in
as another local user instead: the benchmark uses a dedicated user whose login shell is
``/bin/sh``, so that no tool pays for the shell start-up files of the account running it
(root's ``~/.bashrc`` may run slow things such as ``pyenv init`` on every SSH session).
"""

from __future__ import annotations

import getpass
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

SSHD_CANDIDATES = ("/usr/sbin/sshd", "/usr/local/sbin/sshd", "/usr/bin/sshd")


def find_sshd() -> str | None:
    for candidate in SSHD_CANDIDATES:
        if os.access(candidate, os.X_OK):
            return candidate
    return shutil.which("sshd")


def ensure_login_user(name: str, shell: str = "/bin/sh") -> None:
    """Create the local user ``name`` once (home directory, ``shell`` as login shell), as root.

    Idempotent. The password field is set to ``*`` (no password, but not locked): with
    ``UsePAM no`` sshd refuses key logins to a locked account (``!`` in /etc/shadow), which
    is how ``useradd`` leaves a new one.
    """
    if os.geteuid() != 0:
        raise RuntimeError(f"creating the login user {name!r} needs root")
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        subprocess.run(["useradd", "-m", "-s", shell, name], check=True)
        entry = pwd.getpwnam(name)
    command = ["usermod", "-p", "*"]
    if entry.pw_shell != shell:
        command += ["-s", shell]
    subprocess.run([*command, name], check=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _keygen(path: Path, kind: str = "ed25519") -> None:
    subprocess.run(["ssh-keygen", "-q", "-t", kind, "-N", "", "-f", str(path)], check=True)


@dataclass
class LocalSSHD:
    """A running sshd. ``inventory(n)`` writes an inventory of n hosts that all reach it.

    ``user`` is the user the hosts log in as; ``keys_dir`` is the world-readable directory
    holding ``authorized_keys`` when that user is not the current one (removed by ``stop``).
    """

    workdir: Path
    port: int
    user: str
    client_key: Path
    known_hosts: Path
    host_key: Path
    process: subprocess.Popen
    keys_dir: Path | None = None

    @classmethod
    def start(cls, workdir: Path, max_sessions: int = 1000, login_user: str | None = None,
              launcher: Sequence[str] = (), extra_config: Sequence[str] = ()) -> LocalSSHD:
        """Start sshd on a free port; ``max_sessions`` bounds concurrent connections.

        ``login_user`` (default: the current user) is the account the hosts log in as. Another
        user than the current one needs root; the client's public key is then put where that
        user can read it (sshd reads ``AuthorizedKeysFile`` as the user logging in).
        ``launcher`` is a command prefix sshd runs under (the benchmark's CPU-accounting
        subreaper); ``process`` is then the launcher, which must pass SIGTERM on.
        ``extra_config`` lines come first in sshd_config, so they win (``LogLevel VERBOSE``).
        """
        sshd = find_sshd()
        if sshd is None:
            raise RuntimeError("sshd not found: install openssh-server")
        current = getpass.getuser()
        user = login_user or current
        other_user = user != current and user != pwd.getpwuid(os.geteuid()).pw_name
        if other_user and os.geteuid() != 0:
            raise RuntimeError(f"only root can run an sshd that logs in as {user!r}")
        workdir.mkdir(parents=True, exist_ok=True)
        host_key, client_key = workdir / "ssh_host_ed25519_key", workdir / "id_ed25519"
        _keygen(host_key)
        _keygen(client_key)
        keys_dir = Path(tempfile.mkdtemp(prefix="fleet-sshd-keys-")) if other_user else None
        authorized = (keys_dir or workdir) / "authorized_keys"
        authorized.write_text(client_key.with_suffix(".pub").read_text())
        if keys_dir is not None:  # only a public key: readable by the login user, not writable
            keys_dir.chmod(0o755)
            authorized.chmod(0o644)
        else:
            authorized.chmod(0o600)
        port = _free_port()
        config = workdir / "sshd_config"
        config.write_text("\n".join([
            *extra_config,
            f"Port {port}",
            "ListenAddress 127.0.0.1",
            f"HostKey {host_key}",
            f"AuthorizedKeysFile {authorized}",
            f"PidFile {workdir / 'sshd.pid'}",
            "PermitRootLogin prohibit-password",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "PubkeyAuthentication yes",
            "StrictModes no",
            "UsePAM no",
            f"MaxStartups {max_sessions}:30:{max_sessions * 2}",
            f"MaxSessions {max_sessions}",
            "LogLevel ERROR",
            "PrintMotd no",
            "Subsystem sftp internal-sftp",  # as a stock sshd has (tools that copy files use it)
            "",
        ]))
        if os.geteuid() == 0:
            Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
        process = subprocess.Popen([*launcher, sshd, "-D", "-e", "-f", str(config)], stdout=subprocess.DEVNULL,
                                   stderr=open(workdir / "sshd.log", "wb"))  # noqa: SIM115
        _wait_for_port(port, process, workdir / "sshd.log")
        known_hosts = workdir / "known_hosts"
        algorithm, blob = host_key.with_suffix(".pub").read_text().split()[:2]
        known_hosts.write_text(f"[127.0.0.1]:{port} {algorithm} {blob}\n")
        return cls(workdir, port, user, client_key, known_hosts, host_key, process, keys_dir)

    @property
    def pid_file(self) -> Path:
        """sshd's PidFile: the listener's pid (``process`` may be a launcher around it)."""
        return self.workdir / "sshd.pid"

    def host_vars(self) -> dict[str, object]:
        """Connection variables that reach this sshd, by Ansible's names."""
        return {
            "ansible_host": "127.0.0.1",
            "ansible_port": self.port,
            "ansible_user": self.user,
            "ansible_ssh_private_key_file": str(self.client_key),
            "ansible_ssh_common_args": f"-o UserKnownHostsFile={self.known_hosts}",
        }

    def inventory(self, path: Path, hosts: int, root: Path, group: str = "fleet") -> Path:
        """A YAML inventory: hosts h1..hN in ``group``, each with ``root`` = its own directory."""
        import yaml

        members = {f"h{i}": {"root": str(root / f"h{i}")} for i in range(1, hosts + 1)}
        data = {"all": {"children": {group: {"hosts": members, "vars": self.host_vars()}}}}
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        return path

    def stop(self) -> None:
        """Stop sshd (SIGTERM, then SIGKILL after 5 s) and remove ``keys_dir``."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
        if self.keys_dir is not None:
            shutil.rmtree(self.keys_dir, ignore_errors=True)


def _wait_for_port(port: int, process: subprocess.Popen, log: Path, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"sshd exited with {process.returncode}: {log.read_text()[-500:]}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"sshd did not listen on port {port} within {timeout} s")
