"""Files of the ``fleet vault`` command: reading, and atomic in-place writes (editing in a
private place is ``fleet.vault.editing``)."""

from __future__ import annotations

import contextlib
import os
import stat
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
