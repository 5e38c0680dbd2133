"""fleet's cache folder on the controller: ``$FLEET_CACHE_DIR``, else ``$XDG_CACHE_HOME/fleet``,
else ``~/.cache/fleet``. What is kept there (module payloads, parsed collection metadata) decides
what runs on the hosts, so a folder is used only when it is this user's and no one else may
write it."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path


def cache_root() -> Path:
    """fleet's cache folder (not created)."""
    base = os.environ.get("FLEET_CACHE_DIR")
    if not base:
        xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        base = os.path.join(xdg, "fleet")
    return Path(base)


def private_folder(folder: Path) -> bool:
    """``folder`` exists (made 0700 if not), is this user's and writable by no one else."""
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = folder.lstat()
    except OSError:
        return False
    return stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid() and not info.st_mode & 0o022


def write_whole(path: Path, data: bytes) -> None:
    """Write whole or not at all (a concurrent run reads the old file or the new one)."""
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
