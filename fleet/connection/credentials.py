"""What a new connection tells the run about credentials: passwords become secrets (never
shown), and private keys others can read are warned about, as OpenSSH's "UNPROTECTED PRIVATE
KEY FILE" does (fleet warns and goes on; ssh would refuse the key). The same goes for a become
password file others can read."""

from __future__ import annotations

import os
import stat

from fleet.connection.host import HostConnection
from fleet.connection.settings import INSECURE_VAR
from fleet.errors import InputError
from fleet.secrets import Secrets
from fleet.transport import OFF

PASSWORD_LINE_MAX = 64 * 1024


def key_file_problem(path: str) -> str | None:
    """Why ``path`` is not a safe private key file, or None."""
    full = os.path.expanduser(path)
    try:
        mode = os.stat(full).st_mode
    except FileNotFoundError:
        return f"private key {path} does not exist"
    except OSError as exc:
        return f"private key {path} cannot be read: {exc.strerror or exc}"
    if mode & 0o077:
        return (f"private key {path} is accessible by others (mode {stat.S_IMODE(mode):04o}): "
                f"chmod 600 {path} (OpenSSH refuses such a key)")
    return None


def note_credentials(connection: HostConnection, secrets: Secrets, checked_keys: set[str],
                     warnings: list[str]) -> None:
    """Register the connection's passwords as secrets; warn once per unsafe key file, and
    for every host whose host key is not checked."""
    params = connection.spec.params
    secrets.add(params.get("password"))
    secrets.add(connection.become_password)
    insecure = (f"host key checking is OFF for {connection.name} ({INSECURE_VAR}): "
                f"whoever answers at its address gets its passwords and data")
    if params.get("host_key_policy") == OFF and insecure not in warnings:
        warnings.append(insecure)
    for path in params.get("key_files") or ():
        if path in checked_keys:
            continue
        checked_keys.add(path)
        problem = key_file_problem(path)
        if problem:
            warnings.append(problem)


def read_become_password(path: str) -> tuple[str, str | None]:
    """The become password in ``path``: its first line without the line end (the rest of the
    file is not read), and a warning when group or others can read the file. A pipe
    (``<(pass show sudo)``) works too. InputError when there is no password."""
    full = os.path.expanduser(path)
    try:
        with open(full, "rb") as handle:
            mode = os.fstat(handle.fileno()).st_mode
            line = handle.readline(PASSWORD_LINE_MAX)
    except OSError as exc:
        raise InputError(f"cannot read --become-password-file {path}: {exc.strerror or exc}") from None
    try:
        password = line.rstrip(b"\n").rstrip(b"\r").decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"--become-password-file {path}: the password is not UTF-8 text") from None
    if not password:
        raise InputError(f"--become-password-file {path}: the first line is empty (it holds the password)")
    warning = None
    if stat.S_ISREG(mode) and mode & 0o044:
        warning = (f"become password file {path} can be read by other users (mode {stat.S_IMODE(mode):04o}): "
                   f"chmod 600 {path}")
    return password, warning
