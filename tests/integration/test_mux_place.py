"""Nobody else's daemon: a daemon directory or socket of another user gets nothing, not even a
lease; the default directory is the user's runtime directory.

The planted listener stands for another local user (uid 65534) who made the daemon directory,
or listens on the socket, before the operator's run: it records every connection and byte.
The run uses sudo with a password, which a lease would carry.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from fleet.connection.mux.protocol import socket_name
from tests.conftest import fleet, require
from tests.integration.conftest import ITLab, output

OTHER = 65534
# Binds PATH as root, hands the socket to OTHER and listens as OTHER (the kernel's SO_PEERCRED
# is whoever called listen()), then appends what every connection sends to RECORD.
LISTENER = """\
import os, socket, sys
path, record, other = sys.argv[1], sys.argv[2], int(sys.argv[3])
out = open(record, "ab", buffering=0)
server = socket.socket(socket.AF_UNIX)
server.bind(path)
os.chmod(path, 0o666)
os.chown(path, other, other)
os.setgroups([])
os.setgid(other)
os.setuid(other)
server.listen(16)
out.write(b"LISTENING\\n")
while True:
    conn, _ = server.accept()
    out.write(b"CONNECTED\\n")
    conn.settimeout(3)
    try:
        while True:
            data = conn.recv(65536)
            if not data:
                break
            out.write(data)
    except OSError:
        pass
    conn.close()
"""


@dataclass
class Planted:
    """Another user's listener on the daemon's socket name in ``directory``; what it got."""

    directory: Path
    record: Path
    children: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(self) -> None:
        self.children.append(subprocess.Popen([sys.executable, "-c", LISTENER, str(self.directory / socket_name()),
                                               str(self.record), str(OTHER)]))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and b"LISTENING" not in self.got():
            time.sleep(0.05)
        assert self.got() == b"LISTENING\n"

    def got(self) -> bytes:
        return self.record.read_bytes() if self.record.exists() else b""


@pytest.fixture
def planted(tmp_path: Path) -> Iterator[Planted]:
    require(os.geteuid() == 0, "planting another user's socket needs root")
    plant = Planted(tmp_path / "mux", tmp_path / "record")
    plant.directory.mkdir(mode=0o700)
    yield plant
    for child in plant.children:
        child.kill()
        child.wait()


def _become_run(lab: ITLab, tmp_path: Path, directory: Path) -> subprocess.CompletedProcess[str]:
    from fleet.lab.image import PWSUDO_PASSWORD

    inventory = lab.derived(tmp_path / "inv.yml", group_vars={"ansible_user": "pwsudo"})
    password = tmp_path / "password"
    password.write_text(PWSUDO_PASSWORD + "\n")
    password.chmod(0o600)
    result = fleet("run", "-i", str(inventory), "itest1", "-b", "--become-password-file", str(password),
                   "-m", "shell", "-a", "id -un", env={"FLEET_PERSIST": "60", "FLEET_MUX_DIR": str(directory)},
                   timeout=180)
    assert "Traceback" not in output(result), output(result)
    assert PWSUDO_PASSWORD not in output(result)
    return result


def test_a_daemon_directory_of_another_user_gets_nothing(lab: ITLab, tmp_path: Path, planted: Planted) -> None:
    directory, record = planted.directory, planted.record
    os.chown(directory, OTHER, OTHER)
    planted.start()
    result = _become_run(lab, tmp_path, directory)
    assert result.returncode == 0, output(result)
    assert "root" in result.stdout  # became root, over a direct connection
    warning = (f"[WARNING] not using the persistence daemon: its directory {directory} ($FLEET_MUX_DIR) belongs "
               f"to uid {OTHER}, not to you (uid 0); connecting directly")
    assert warning in " ".join(output(result).split()), output(result)
    assert record.read_bytes() == b"LISTENING\n"  # not even a connection
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700 and directory.stat().st_uid == OTHER  # left alone
    status = fleet("mux", "status", env={"FLEET_MUX_DIR": str(directory)})
    assert status.returncode == 1 and status.stderr.strip().splitlines() == [
        f"ERROR: not using the persistence daemon: its directory {directory} ($FLEET_MUX_DIR) belongs to uid "
        f"{OTHER}, not to you (uid 0)"]
    direct = fleet("run", "-i", str(lab.inventory), "itest1", "-a", "true", "--persist", "0",
                   env={"FLEET_MUX_DIR": str(directory)}, timeout=120)
    assert direct.returncode == 0 and "persistence daemon" not in output(direct)  # never looked at
    assert record.read_bytes() == b"LISTENING\n"


def test_a_socket_served_by_another_user_gets_nothing(lab: ITLab, tmp_path: Path, planted: Planted) -> None:
    """The directory is ours; the process listening on the socket is not (SO_PEERCRED)."""
    directory, record = planted.directory, planted.record
    planted.start()
    result = _become_run(lab, tmp_path, directory)
    assert result.returncode == 0, output(result)
    assert "root" in result.stdout
    text = " ".join(output(result).split())
    assert (f"[WARNING] not using the persistence daemon: {directory / socket_name()} is served by uid {OTHER} "
            f"(pid ") in text, text
    assert "not by you (uid 0): nothing was sent to it; connecting directly" in text, text
    got = record.read_bytes()
    assert got.startswith(b"LISTENING\nCONNECTED\n") and set(got.split(b"\n")[2:]) <= {b"", b"CONNECTED"}, got
    status = fleet("mux", "status", env={"FLEET_MUX_DIR": str(directory)})
    assert status.returncode == 1 and "is served by uid 65534" in status.stderr and len(status.stderr.splitlines()) == 1
    assert set(record.read_bytes().split(b"\n")[1:]) <= {b"", b"CONNECTED"}


def test_a_daemon_directory_others_can_write_is_refused(lab: ITLab, tmp_path: Path) -> None:
    directory = tmp_path / "mux"
    directory.mkdir()
    directory.chmod(0o777)
    result = fleet("run", "-i", str(lab.inventory), "itest1", "-a", "true",
                   env={"FLEET_PERSIST": "60", "FLEET_MUX_DIR": str(directory)}, timeout=120)
    assert result.returncode == 0, output(result)
    assert (f"[WARNING] not using the persistence daemon: its directory {directory} ($FLEET_MUX_DIR) is writable "
            f"by others (mode 0777)") in " ".join(output(result).split()), output(result)
    assert list(directory.iterdir()) == []  # no socket, log or lock made there


def test_the_default_daemon_directory_is_the_users_runtime_directory(lab: ITLab, tmp_path: Path) -> None:
    runtime, home = tmp_path / "run-user", tmp_path / "home"
    runtime.mkdir(mode=0o700)
    home.mkdir()
    env = {"FLEET_PERSIST": "60", "FLEET_MUX_DIR": "", "XDG_RUNTIME_DIR": str(runtime), "HOME": str(home)}
    try:
        result = fleet("run", "-i", str(lab.inventory), "itest1", "-a", "true", env=env, timeout=120)
        assert result.returncode == 0, output(result)
        daemon_dir = runtime / "fleet-mux"
        assert stat.S_IMODE(daemon_dir.stat().st_mode) == 0o700
        assert stat.S_ISSOCK((daemon_dir / socket_name()).stat().st_mode)
        assert not (home / ".fleet").exists()
        assert "itest1" in fleet("mux", "status", env=env).stdout
    finally:
        fleet("mux", "stop", env=env)
    # a runtime directory that is not the user's (sudo -E keeps another user's) is not used
    os.chown(runtime, OTHER, OTHER)
    expected = home / ".fleet" / "mux"
    own = Path(f"/run/user/{os.geteuid()}")
    if own.is_dir() and own.stat().st_uid == os.geteuid() and not own.stat().st_mode & 0o077:
        expected = own / "fleet-mux"
    try:
        result = fleet("run", "-i", str(lab.inventory), "itest1", "-a", "true", env=env, timeout=120)
        assert result.returncode == 0, output(result)
        assert stat.S_ISSOCK((expected / socket_name()).stat().st_mode)
        assert not (runtime / "fleet-mux" / socket_name()).exists()  # the first daemon removed it
    finally:
        fleet("mux", "stop", env=env)
