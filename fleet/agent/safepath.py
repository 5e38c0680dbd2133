"""Paths through directories others can write, opened without following what they planted.

A user owns their home: a symlink where fleet expects ``~/.ssh`` or ``authorized_keys``
would make a root agent chown ``/etc`` or copy ``/etc/shadow`` for them. :func:`locate`
opens every component of a path relative to its parent's descriptor with ``O_NOFOLLOW``:

* a symlink in a directory only root or this agent's own user can write was put there by
  them, and is followed, except on the last ``guard`` components of the path;
* any other symlink, and a guarded one, is refused by name. With ``follow`` it is followed,
  but only to a file or directory that ``owner`` (the user the task acts for) owns: what that
  user could change anyway. A guarded symlink in a trusted directory is followed as it is.

The file found is read, replaced, chowned and chmodded through descriptors (:mod:`dirfd`).
A file with several hard links is refused unless ``owner`` owns it (another name of it may
be a system file), and so is anything that is not a regular file (a FIFO would block).
"""

from __future__ import annotations

import errno
import os
import pwd
import stat as stat_mod

from fleet.agent.dirfd import CLOEXEC, DIR_FLAGS, Dir, fset
from fleet.agent.errors import ModuleFailure, PathRefused

LEAF_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | CLOEXEC  # a FIFO must not block
MAX_LINKS = 40  # as the kernel (ELOOP)


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
        self.dir.require_writable()
        fd, _st = self._open()
        if fd is None:
            raise FileNotFoundError(errno.ENOENT, "No such file", self.path)
        try:
            fset(fd, mode, uid, gid)
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
