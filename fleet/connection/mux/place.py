"""Where the persistence daemon lives, and whom fleet trusts there.

The daemon holds authenticated connections and agents that sudo started with a password, so a
run sends it become passwords. As OpenSSH does for its ControlPath, fleet uses a daemon
directory only when it belongs to the user and nobody else can write it or any directory
above it (a sticky one like /tmp aside), and before sending anything it checks who listens on
the socket (``SO_PEERCRED``): the same uid, or nothing is sent.

The default directory is per user and per boot: ``$XDG_RUNTIME_DIR/fleet-mux`` (or
``/run/user/UID/fleet-mux``) when that runtime directory exists and is the user's, else
``~/.fleet/mux``. ``$FLEET_MUX_DIR`` chooses another one.
"""

from __future__ import annotations

import os
import socket
import stat
import struct
from dataclasses import dataclass
from pathlib import Path

from fleet.errors import FleetError

ENV_DIR = "FLEET_MUX_DIR"
RUNTIME_NAME = "fleet-mux"
LEGACY_DIR = (".fleet", "mux")  # below the home directory: the default before fleet used $XDG_RUNTIME_DIR


class UnsafePlace(FleetError):
    """The daemon's directory or socket belongs to someone else: nothing is sent there. The
    text reads after "not using the persistence daemon: "."""


@dataclass(frozen=True)
class Peer:
    """Who listens on (or connected to) a unix socket, as the kernel says."""

    pid: int
    uid: int
    gid: int


def _runtime_dir(uid: int) -> Path | None:
    """The user's runtime directory (``$XDG_RUNTIME_DIR``, else ``/run/user/UID``) if it exists
    and is theirs alone; ``sudo -E`` can leave another user's in the environment."""
    for candidate in (os.environ.get("XDG_RUNTIME_DIR"), f"/run/user/{uid}"):
        if not candidate or not os.path.isabs(candidate):
            continue
        try:
            info = os.stat(candidate)
        except OSError:
            continue
        if stat.S_ISDIR(info.st_mode) and info.st_uid == uid and not info.st_mode & 0o077:
            return Path(candidate)
    return None


def default_dir() -> Path:
    """The daemon directory when ``$FLEET_MUX_DIR`` is not set (see the module's doc)."""
    runtime = _runtime_dir(os.geteuid())
    if runtime is not None:
        return runtime / RUNTIME_NAME
    return Path.home().joinpath(*LEGACY_DIR)


def chosen_dir() -> tuple[Path, str]:
    """The daemon directory, absolute, and how it was chosen (for messages)."""
    base = os.environ.get(ENV_DIR)
    if base:
        return Path(base).absolute(), ENV_DIR
    return default_dir().absolute(), "default"


def mux_dir() -> Path:
    """The daemon directory, created 0700 when missing; UnsafePlace (nothing created in it,
    nothing sent to it) when it, or a directory above it, is another user's or writable by
    others."""
    path, how = chosen_dir()
    uid = os.geteuid()
    _check_parents(path, uid, how)
    try:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise UnsafePlace(f"cannot create its directory {path}: {exc.strerror}") from None
    info = os.stat(path)
    where = f"{path}" + (f" (${ENV_DIR})" if how == ENV_DIR else "")
    if not stat.S_ISDIR(info.st_mode):
        raise UnsafePlace(f"its directory {where} is not a directory")
    if info.st_uid != uid:
        raise UnsafePlace(f"its directory {where} belongs to uid {info.st_uid}, not to you (uid {uid})")
    if info.st_mode & 0o022:
        raise UnsafePlace(f"its directory {where} is writable by others (mode {stat.S_IMODE(info.st_mode):04o}): "
                          f"remove it, or chmod 700 it if you trust what is in it")
    if info.st_mode & 0o077:
        os.chmod(path, 0o700)  # ours and not writable by others: just closed to readers too
    return path


def _check_parents(path: Path, uid: int, how: str) -> None:
    """Every existing directory above ``path`` (as written and as resolved) is root's or the
    user's, and not writable by others unless sticky (/tmp): else whoever can write one could
    swap the daemon's directory."""
    for parent in sorted({*path.parents, *Path(os.path.realpath(path)).parents}):
        try:
            info = os.stat(parent)
        except FileNotFoundError:
            continue
        if info.st_uid not in (0, uid):
            why = f"belongs to uid {info.st_uid}"
        elif info.st_mode & 0o022 and not info.st_mode & stat.S_ISVTX:
            why = f"others can write (mode {stat.S_IMODE(info.st_mode):04o})"
        else:
            continue
        source = f" (${ENV_DIR})" if how == ENV_DIR else ""
        raise UnsafePlace(f"its directory {path}{source} is inside {parent}, which {why}")


def peer(sock: socket.socket) -> Peer:
    """The credentials of the process at the other end of a connected unix socket (for the
    connecting side: the process that called listen())."""
    creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    return Peer(*struct.unpack("3i", creds))


def check_peer(sock: socket.socket, path: Path | str) -> Peer:
    """The daemon at the other end of ``sock``; UnsafePlace unless it runs as this user."""
    try:
        found = peer(sock)
    except (OSError, AttributeError) as exc:  # no SO_PEERCRED here: who listens cannot be known
        raise UnsafePlace(f"cannot tell who serves {path}: {exc}") from None
    if found.uid != os.geteuid():
        raise UnsafePlace(f"{path} is served by uid {found.uid} (pid {found.pid}), not by you "
                          f"(uid {os.geteuid()}): nothing was sent to it")
    return found
