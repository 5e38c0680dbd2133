"""Directories held open: files in them are created, replaced, copied and given owner and mode
through descriptors (``openat``, ``fchown``, ``fchmod``, ``renameat``), never by path again, so
a name swapped meanwhile (a symlink planted in a directory others can write) cannot redirect
the change. ``HostWriter`` writes and backs up through :class:`Dir`; :mod:`safepath` finds
the directory of a file in a user's home without following what the user planted.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat as stat_mod

from fleet.agent.errors import PathRefused, ReadOnlyHostError

CLOEXEC = getattr(os, "O_CLOEXEC", 0)
DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | CLOEXEC


class Dir:
    """An open directory; its entries are reached with ``*at`` calls on its descriptor."""

    def __init__(self, fd: int, path: str, writable: bool) -> None:
        self.fd, self.path, self.writable = fd, path, writable

    def __enter__(self) -> Dir:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def join(self, name: str) -> str:
        return os.path.join(self.path, name)

    def stat(self) -> os.stat_result:
        return os.fstat(self.fd)

    def require_writable(self) -> None:
        """Writes through a directory a reader opened are refused (check mode never writes)."""
        if not self.writable:
            raise ReadOnlyHostError("this host handle is read-only (observe and check mode never write)")

    def set_attrs(self, mode: int | None, uid: int = -1, gid: int = -1) -> None:
        """Owner, then mode (chown clears setuid bits) of this directory itself."""
        self.require_writable()
        fset(self.fd, mode, uid, gid)

    def mkdir(self, name: str, mode: int = 0o777) -> Dir:
        """Create ``name`` here (mode as ``mkdir``, umask applies) and open it."""
        self.require_writable()
        os.mkdir(name, mode, dir_fd=self.fd)
        return self.subdir(name)

    def subdir(self, name: str) -> Dir:
        try:
            fd = os.open(name, DIR_FLAGS, dir_fd=self.fd)
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                raise PathRefused(f"{self.join(name)} is not a directory (a symlink?): refusing it") from None
            raise
        return Dir(fd, self.join(name), self.writable)

    def replace(self, name: str, data: bytes, mode: int, uid: int = -1, gid: int = -1, check=None) -> None:
        """Replace ``name`` atomically: a new 0600 temp file here, owner and mode set through
        its descriptor, ``check(temp path)`` run on the finished file, then a rename.

        A file that is a mount point (rename gives ``EBUSY``: ``/etc/hosts`` in a container)
        is rewritten in place from the finished temp file instead.
        """
        self.require_writable()
        fd, tmp = self._temp()
        try:
            _write_all(fd, data)
            fset(fd, mode, uid, gid)
            os.fsync(fd)
            if check is not None:
                check(self.join(tmp))
            try:
                os.rename(tmp, name, src_dir_fd=self.fd, dst_dir_fd=self.fd)
            except OSError as exc:
                if exc.errno != errno.EBUSY:
                    raise
                self._rewrite(fd, name, mode, uid, gid)
                os.unlink(tmp, dir_fd=self.fd)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp, dir_fd=self.fd)
            raise
        finally:
            os.close(fd)

    def _temp(self) -> tuple:
        names = (".fleet-" + os.urandom(6).hex() + ".tmp" for _ in range(100))
        return self._create(names, os.O_RDWR, f"no free temporary file name in {self.path}")

    def _create(self, names, access: int, failure: str) -> tuple:
        """(fd, name) of the first of ``names`` that did not exist: created here 0600,
        ``O_EXCL|O_NOFOLLOW`` (a name someone planted is skipped, never followed)."""
        flags = access | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | CLOEXEC
        for name in names:
            try:
                return os.open(name, flags, 0o600, dir_fd=self.fd), name
            except FileExistsError:
                continue
        raise FileExistsError(failure)

    def _rewrite(self, source: int, name: str, mode: int, uid: int, gid: int) -> None:
        """Copy the finished temp file over ``name`` without replacing its inode."""
        target = os.open(name, os.O_WRONLY | os.O_NOFOLLOW | CLOEXEC, dir_fd=self.fd)
        try:
            size = _copy(source, target)
            os.ftruncate(target, size)
            os.fsync(target)
            fset(target, mode, uid, gid)
        finally:
            os.close(target)

    def backup(self, base: str, source: int, st: os.stat_result) -> str:
        """A copy of the open file ``source`` here, named ``BASE~`` (``BASE.1~``... if taken).

        The copy is created ``O_EXCL|O_NOFOLLOW`` with mode 0600 (a planted name is skipped,
        never followed or reused) and gets the source's owner, extended attributes (ACLs),
        mode and times through its descriptor after the content: at no moment can anyone
        read it whom the source does not let read it. Returns the entry's name.
        """
        self.require_writable()
        names = (f"{base}~" if counter == 0 else f"{base}.{counter}~" for counter in range(10000))
        fd, entry = self._create(names, os.O_WRONLY, f"no free backup name for {self.join(base)}")
        try:
            _copy(source, fd)
            with contextlib.suppress(PermissionError):
                os.fchown(fd, st.st_uid, st.st_gid)
            _copy_xattrs(source, fd)
            os.fchmod(fd, stat_mod.S_IMODE(st.st_mode))
            os.utime(fd, ns=(st.st_atime_ns, st.st_mtime_ns))
            os.fsync(fd)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(entry, dir_fd=self.fd)
            raise
        finally:
            os.close(fd)
        return entry


def fset(fd: int, mode: int | None, uid: int, gid: int) -> None:
    """Owner/group (-1: unchanged), then mode (None: unchanged) of an open file."""
    if uid != -1 or gid != -1:
        os.fchown(fd, uid, gid)  # before fchmod: chown clears setuid/setgid
    if mode is not None:
        os.fchmod(fd, mode)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _copy(source: int, target: int) -> int:
    """Copy from ``source``'s start to ``target``; returns the byte count."""
    total, offset = 0, 0
    while True:
        block = os.pread(source, 1 << 20, offset)
        if not block:
            return total
        _write_all(target, block)
        offset += len(block)
        total += len(block)


def _copy_xattrs(source: int, target: int) -> None:
    """Extended attributes (ACLs, SELinux labels) as ``shutil.copy2`` copies them."""
    try:
        names = os.listxattr(source)
    except (OSError, AttributeError):
        return
    for name in names:
        with contextlib.suppress(OSError):
            os.setxattr(target, name, os.getxattr(source, name))


def open_dir(path: str, writable: bool) -> Dir:
    """``path`` opened as it is named (symlinks followed): for paths the task names itself."""
    return Dir(os.open(path, os.O_RDONLY | os.O_DIRECTORY | CLOEXEC), path, writable)
