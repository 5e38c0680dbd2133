"""Files of the ``fleet vault`` command: atomic in-place writes and editing in a private place."""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import stat
import subprocess
import tempfile
from pathlib import Path

from fleet.vault.errors import VaultError

NEW_FILE_MODE = 0o600


def read(path: str) -> bytes:
    """A file's bytes; ``VaultError`` naming the file when it cannot be read."""
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise VaultError(f"cannot read {path}: {exc.strerror}") from None


def write_atomic(path: str, data: bytes, exclusive: bool = False) -> None:
    """Replace ``path``'s content with ``data`` at once (a temp file renamed over it).

    A symlink's target is replaced; an existing file keeps its mode (and owner, where
    allowed); a new file gets mode 0600. ``exclusive`` refuses an existing file.
    """
    target = os.path.realpath(path)
    try:
        info: os.stat_result | None = os.stat(target)
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise VaultError(f"cannot write {path}: {exc.strerror}") from None
    if exclusive and (info is not None or os.path.lexists(path)):
        raise VaultError(f"{path} already exists")
    mode = stat.S_IMODE(info.st_mode) if info is not None else NEW_FILE_MODE
    directory, name = os.path.split(target)
    try:
        fd, temp = tempfile.mkstemp(dir=directory or ".", prefix=f".{name}.", suffix=".tmp")
    except OSError as exc:
        raise VaultError(f"cannot write {path}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as out:
            os.fchmod(out.fileno(), mode)
            if info is not None:
                with contextlib.suppress(OSError):
                    os.fchown(out.fileno(), info.st_uid, info.st_gid)
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise VaultError(f"cannot write {path}: {exc.strerror}") from None


def editor_command(environ: dict[str, str] | None = None) -> list[str]:
    """``$EDITOR`` split as a shell would (``code --wait`` works), ``vi`` when unset."""
    value = (os.environ if environ is None else environ).get("EDITOR") or "vi"
    try:
        return shlex.split(value)
    except ValueError as exc:
        raise VaultError(f"cannot parse $EDITOR {value!r}: {exc}") from None


def edit_in_private(content: bytes, name: str) -> bytes:
    """Let the user edit ``content`` with ``$EDITOR``; return what the file holds afterwards.

    The plaintext lives in a new 0700 directory (where editors also put their swap and backup
    files), as a 0600 file named like the original (for syntax highlighting); the directory is
    overwritten and removed whatever happens.
    """
    command = editor_command()
    directory = tempfile.mkdtemp(prefix="fleet-vault-")
    try:
        temp = os.path.join(directory, os.path.basename(name) or "vault")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(content)
        try:
            done = subprocess.run([*command, temp], check=False)
        except OSError as exc:
            raise VaultError(f"cannot start the editor {command[0]!r} ($EDITOR): {exc.strerror}") from None
        if done.returncode != 0:
            raise VaultError(f"the editor exited with status {done.returncode}: nothing saved")
        try:
            return Path(temp).read_bytes()
        except OSError as exc:
            raise VaultError(f"cannot read the edited file: {exc.strerror}") from None
    finally:
        _scrub(directory)


def _scrub(directory: str) -> None:
    """Overwrite the regular files under ``directory`` with zeros, then remove it all."""
    for root, _dirs, names in os.walk(directory):
        for entry in names:
            path = os.path.join(root, entry)
            with contextlib.suppress(OSError):
                if os.path.isfile(path) and not os.path.islink(path):
                    size = os.path.getsize(path)
                    with open(path, "r+b") as handle:
                        handle.write(b"\0" * size)
                        handle.flush()
                        os.fsync(handle.fileno())
    shutil.rmtree(directory, ignore_errors=True)
