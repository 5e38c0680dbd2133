"""Files reached and changed through directory descriptors, never by path twice.

A user owns their home: a symlink where fleet expects ``~/.ssh`` or ``authorized_keys``
would make a root agent chown ``/etc`` or copy ``/etc/shadow`` for them. :func:`locate`
opens every component of a path relative to its parent's descriptor with ``O_NOFOLLOW``:

* a symlink in a directory only root or this agent's own user can write was put there by
  them, and is followed, except on the last ``guard`` components of the path;
* any other symlink, and a guarded one, is refused by name. With ``follow`` it is followed,
  but only to a file or directory that ``owner`` (the user the task acts for) owns: what that
  user could change anyway. A guarded symlink in a trusted directory is followed as it is.

The file found is read, replaced, chowned and chmodded through descriptors (``fchown``,
``fchmod``, ``renameat``), so a path swapped meanwhile cannot redirect the change. A file
with several hard links is refused unless ``owner`` owns it (another name of it may be a
system file). :class:`Dir` also serves ``HostWriter``: temp file, attributes, rename.
"""

from __future__ import annotations

import contextlib
import errno
import os
import pwd
import stat as stat_mod

from fleet.agent.errors import ModuleFailure, ReadOnlyHostError

CLOEXEC = getattr(os, "O_CLOEXEC", 0)
DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | CLOEXEC
LEAF_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | CLOEXEC  # a FIFO must not block
MAX_LINKS = 40  # as the kernel (ELOOP)


class PathRefused(ModuleFailure):
    """A path fleet will not go through: a symlink someone else planted, a hard link, a device."""


def trusted(st: os.stat_result) -> bool:
    """Could only root or this agent's own user have made an entry in this directory?"""
    return st.st_uid in (0, os.geteuid()) and not st.st_mode & 0o022


def user_label(uid: int | None) -> str:
    if uid is None:
        return "no existing user"
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


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

    def lstat(self, name: str) -> os.stat_result | None:
        return _lstat(self.fd, name)

    def _writes(self) -> None:
        if not self.writable:
            raise ReadOnlyHostError("this host handle is read-only (observe and check mode never write)")

    def set_attrs(self, mode: int | None, uid: int = -1, gid: int = -1) -> None:
        """Owner, then mode (chown clears setuid bits) of this directory itself."""
        self._writes()
        _fset(self.fd, mode, uid, gid)

    def mkdir(self, name: str, mode: int = 0o777) -> Dir:
        """Create ``name`` here (mode as ``mkdir``, umask applies) and open it."""
        self._writes()
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
        self._writes()
        fd, tmp = self._temp()
        try:
            _write_all(fd, data)
            _fset(fd, mode, uid, gid)
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
        for _ in range(100):
            name = ".fleet-" + os.urandom(6).hex() + ".tmp"
            try:
                flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | CLOEXEC
                return os.open(name, flags, 0o600, dir_fd=self.fd), name
            except FileExistsError:
                continue
        raise FileExistsError(f"no free temporary file name in {self.path}")

    def _rewrite(self, source: int, name: str, mode: int, uid: int, gid: int) -> None:
        """Copy the finished temp file over ``name`` without replacing its inode."""
        target = os.open(name, os.O_WRONLY | os.O_NOFOLLOW | CLOEXEC, dir_fd=self.fd)
        try:
            size = _copy(source, target)
            os.ftruncate(target, size)
            os.fsync(target)
            _fset(target, mode, uid, gid)
        finally:
            os.close(target)

    def backup(self, base: str, source: int, st: os.stat_result) -> str:
        """A copy of the open file ``source`` here, named ``BASE~`` (``BASE.1~``... if taken).

        The copy is created ``O_EXCL|O_NOFOLLOW`` with mode 0600 (a planted name is skipped,
        never followed or reused) and gets the source's owner, extended attributes (ACLs),
        mode and times through its descriptor after the content: at no moment can anyone
        read it whom the source does not let read it. Returns the entry's name.
        """
        self._writes()
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | CLOEXEC
        for counter in range(10000):
            entry = f"{base}~" if counter == 0 else f"{base}.{counter}~"
            try:
                fd = os.open(entry, flags, 0o600, dir_fd=self.fd)
                break
            except FileExistsError:
                continue
        else:
            raise FileExistsError(f"no free backup name for {self.join(base)}")
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


class Target:
    """A file found by :func:`locate`: its directory (open), directories still to create
    below that one, and its name. ``owner`` is who may own it when it was reached through
    a followed symlink (None: anyone); ``holder`` is then the directory of that symlink."""

    def __init__(self, parent: Dir, missing: list, name: str, owner: int | None, linked: bool,
                 holder: Dir | None = None) -> None:
        self.dir, self.missing, self.name = parent, missing, name
        self.owner, self.linked, self.holder = owner, linked, holder

    def __enter__(self) -> Target:
        return self

    def __exit__(self, *exc) -> None:
        self.dir.close()
        if self.holder is not None:
            self.holder.close()

    @property
    def entry_dir(self) -> Dir:
        """The directory the path's last entry is in (the symlink's, when one was followed)."""
        return self.holder or self.dir

    @property
    def path(self) -> str:
        return os.path.join(self.dir.path, *self.missing, self.name)

    def dir_stat(self) -> os.stat_result | None:
        """:attr:`entry_dir`, None while it is still to be created."""
        return None if self.missing else self.entry_dir.stat()

    def _open(self):
        if self.missing:
            return None, None
        try:
            fd = os.open(self.name, LEAF_FLAGS, dir_fd=self.dir.fd)
        except FileNotFoundError:
            return None, None
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise PathRefused(f"{self.path} became a symlink while fleet looked at it: refusing it") from None
            raise
        try:
            st = os.fstat(fd)
            self._vet(st)
        except BaseException:
            os.close(fd)
            raise
        return fd, st

    def _vet(self, st: os.stat_result) -> None:
        if stat_mod.S_ISDIR(st.st_mode):
            raise PathRefused(f"{self.path} is a directory")
        if not stat_mod.S_ISREG(st.st_mode):
            raise PathRefused(f"{self.path} is not a regular file: refusing to read or change it")
        if self.linked and st.st_uid != self.owner:
            raise PathRefused(f"{self.path}, reached through a symlink, belongs to {user_label(st.st_uid)}, "
                              f"not {user_label(self.owner)}: refusing it")
        if st.st_nlink > 1 and (self.owner is None or st.st_uid != self.owner):
            raise PathRefused(f"{self.path} has {st.st_nlink} hard links and belongs to {user_label(st.st_uid)}: "
                              "another name of it may be a system file, refusing to read or change it")

    def read(self) -> tuple:
        """``(content, stat)`` of the file, ``(None, None)`` when it does not exist."""
        fd, st = self._open()
        if fd is None:
            return None, None
        with os.fdopen(fd, "rb") as handle:
            return handle.read(), st

    def make_dirs(self, mode: int | None = None) -> None:
        """Create the missing directories (the last one with ``mode``, the others as
        ``mkdir -p``), each opened without following links before the next is made."""
        if not self.missing:
            return
        for index, name in enumerate(self.missing):
            last = index == len(self.missing) - 1
            child = self.dir.mkdir(name, 0o700 if last and mode is not None else 0o777)
            self.dir.close()
            self.dir = child
        self.missing = []
        if mode is not None:
            self.dir.set_attrs(mode)

    def replace(self, data: bytes, mode: int, uid: int = -1, gid: int = -1) -> None:
        """Write the file atomically. Through a followed symlink it is the file the link
        names that is replaced; the link stays."""
        if self.missing:
            self.make_dirs()
        fd, _st = self._open()  # vets what is there now: a regular file, owner, hard links
        if fd is not None:
            os.close(fd)
        self.dir.replace(self.name, data, mode, uid, gid)

    def set_attrs(self, mode: int | None, uid: int = -1, gid: int = -1) -> None:
        self.dir._writes()
        fd, _st = self._open()
        if fd is None:
            raise FileNotFoundError(errno.ENOENT, "No such file", self.path)
        try:
            _fset(fd, mode, uid, gid)
        finally:
            os.close(fd)


def locate(path: str, writable: bool, follow: bool = False, owner: int | None = None, guard: int = 0,
           hint: str = "") -> Target:
    """Open the directories on ``path`` (absolute) as the module docstring says.

    Stops at the first component that does not exist: the rest are ``missing`` directories
    (a symlink that leads nowhere is refused). ``hint`` is added to a refused symlink's
    message (how to opt in).
    """
    if not os.path.isabs(path):
        raise ModuleFailure(f"{path} is not an absolute path")
    parts = [p for p in path.split("/") if p not in ("", ".")]
    if not parts or parts[-1] == "..":
        raise ModuleFailure(f"{path} does not name a file")
    # entries: (name, guarded, link that must lead to what owner owns) - popped from the end
    pending: list = [(name, i >= len(parts) - guard, None) for i, name in enumerate(parts)][::-1]
    fd, shown, links, holder = os.open("/", DIR_FLAGS), "/", 0, None
    try:
        while True:
            name, guarded, via = pending.pop()
            last = not pending
            if name == "..":
                if last:
                    raise PathRefused(f"{shown} is a directory")
                fd, shown = _swap(fd, os.open("..", DIR_FLAGS, dir_fd=fd)), os.path.dirname(shown)
                _owned(fd, via, owner)
                continue
            where = os.path.join(shown, name)
            st = _lstat(fd, name)
            if st is None:
                rest = [name] + [entry[0] for entry in reversed(pending)]
                if via is not None and not last or any(e[2] for e in pending) or ".." in rest:
                    raise PathRefused(f"{where} does not exist (reached through a symlink): refusing to create it")
                if last:
                    _owned(fd, via, owner)
                return Target(Dir(fd, shown, writable), rest[:-1], rest[-1], owner, via is not None, holder)
            if stat_mod.S_ISLNK(st.st_mode):
                links += 1
                if links > MAX_LINKS:
                    raise PathRefused(f"{where}: too many levels of symbolic links")
                target = os.readlink(name, dir_fd=fd)
                via = _follow(fd, where, target, guarded, follow, owner, via, hint)
                if last and holder is None:
                    holder = Dir(os.dup(fd), shown, writable)
                tparts = [p for p in target.split("/") if p not in ("", ".")]
                if target.startswith("/"):
                    fd, shown = _swap(fd, os.open("/", DIR_FLAGS)), "/"
                if not tparts:  # a link to "/" or ".": this directory itself
                    if last:
                        raise PathRefused(f"{where} is a symlink to a directory")
                    _owned(fd, via, owner)
                    continue
                entries: list = [(p, False, None) for p in tparts[:-1]] + [(tparts[-1], False, via)]
                pending.extend(reversed(entries))
                continue
            if last:
                return Target(Dir(fd, shown, writable), [], name, owner, via is not None, holder)
            if not stat_mod.S_ISDIR(st.st_mode):
                raise PathRefused(f"{where} is not a directory")
            try:
                child = os.open(name, DIR_FLAGS, dir_fd=fd)
            except OSError as exc:
                if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                    raise PathRefused(f"{where} became a symlink while fleet looked at it: refusing it") from None
                raise
            fd, shown = _swap(fd, child), where
            _owned(fd, via, owner)
    except BaseException:
        os.close(fd)
        if holder is not None:
            holder.close()
        raise


def _follow(fd: int, where: str, target: str, guarded: bool, follow: bool, owner: int | None,
            via: str | None, hint: str) -> str | None:
    """May the symlink ``where`` be followed? Returns what must lead to an object of ``owner``."""
    placed_by_trusted = trusted(os.fstat(fd))
    if placed_by_trusted and (follow or not guarded):
        return via
    if follow:
        return via or f"{where} (a symlink to {target})"
    extra = f" ({hint})" if hint else ""
    raise PathRefused(f"{where} is a symlink to {target}: refusing to follow it{extra}")


def _owned(fd: int, via: str | None, owner: int | None) -> None:
    if via is None:
        return
    uid = os.fstat(fd).st_uid
    if owner is None or uid != owner:
        raise PathRefused(f"{via} leads to a directory of {user_label(uid)}, not {user_label(owner)}: "
                          "refusing to follow it")


def _lstat(fd: int, name: str) -> os.stat_result | None:
    try:
        return os.stat(name, dir_fd=fd, follow_symlinks=False)
    except FileNotFoundError:
        return None


def _swap(old: int, new: int) -> int:
    os.close(old)
    return new


def _fset(fd: int, mode: int | None, uid: int, gid: int) -> None:
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
