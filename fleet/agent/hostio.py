"""Host handles given to modules: a read-only one for observing, a writer for applying.

``HostReader`` can only look: reading files, stat, user/group lookups and commands the
module declares as queries. ``HostWriter`` adds writes, all atomic where the OS allows.
The agent hands ``observe`` a reader, so check mode cannot write by construction.
"""

from __future__ import annotations

import contextlib
import grp
import os
import pwd
import stat as stat_mod
import time

from fleet.agent import dirfd, safepath
from fleet.agent.commands import expand_path, run_command, substitute_path
from fleet.agent.errors import MissingUntilApplied, ModuleFailure, ReadOnlyHostError
from fleet.agent.modes import display_text, file_type, format_mode, resolve_mode, wanted_attrs

__all__ = ["HostReader", "HostWriter", "MissingUntilApplied", "ModuleFailure", "ReadOnlyHostError", "display_text", "expand_path",
           "format_mode", "resolve_mode", "wanted_attrs"]


class HostReader:
    """Read-only view of the target host. Every write method raises ReadOnlyHostError."""

    writable = False

    def __init__(self, umask: int | None = None) -> None:
        if umask is None:
            umask = os.umask(0o022)
            os.umask(umask)
        self.umask = umask
        self.deadline: float | None = None  # time.monotonic() by which commands must end
        # The call's start (wall clock): every observation of one call that compares with
        # "now" (apt's cache_valid_time) uses it, so the observation after apply agrees.
        self.started = time.time()

    # -- files ---------------------------------------------------------------------------
    def path_info(self, path: str, follow: bool = False) -> dict | None:
        """Type, mode, owner, group, size and link target of ``path``; None if absent."""
        try:
            st = os.stat(path) if follow else os.lstat(path)
        except FileNotFoundError:
            return None
        except NotADirectoryError:
            return None
        info = {
            "path": path,
            "state": file_type(st.st_mode),
            "mode": format_mode(st.st_mode),
            "uid": st.st_uid,
            "gid": st.st_gid,
            "owner": self.user_name(st.st_uid),
            "group": self.group_name(st.st_gid),
            "size": st.st_size,
            "mtime": st.st_mtime,
        }
        if info["state"] == "link":
            info["src"] = os.readlink(path)
        return info

    def exists(self, path: str) -> bool:
        return os.path.lexists(path)

    def read_bytes(self, path: str) -> bytes | None:
        try:
            with open(path, "rb") as handle:
                return handle.read()
        except FileNotFoundError:
            return None

    def read_head(self, path: str, size: int) -> bytes | None:
        """The first ``size`` bytes of ``path``; None when it cannot be read (absent, a
        directory, no permission)."""
        try:
            with open(path, "rb") as handle:
                return handle.read(size)
        except OSError:
            return None

    def read_text(self, path: str, default: str | None = None) -> str | None:
        data = self.read_bytes(path)
        if data is None:
            return default
        return data.decode("utf-8", errors="surrogateescape")

    def checksum(self, path: str) -> str | None:
        """SHA-1 of a regular file's content (Ansible's checksum), or None."""
        import hashlib

        digest = hashlib.sha1()
        try:
            with open(path, "rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
        except (FileNotFoundError, IsADirectoryError):
            return None
        return digest.hexdigest()

    def listdir(self, path: str) -> list[str]:
        try:
            return sorted(os.listdir(path))
        except FileNotFoundError:
            return []

    def locate(self, path: str, follow: bool = False, owner: int | None = None, guard: int = 0,
               hint: str = "") -> safepath.Target:
        """``path`` opened component by component without following a symlink someone other
        than root planted (see :mod:`fleet.agent.safepath`); writable only from a writer."""
        return safepath.locate(path, self.writable, follow, owner, guard, hint)

    # -- identities ----------------------------------------------------------------------
    def user_name(self, uid: int) -> str | None:
        try:
            return pwd.getpwuid(uid).pw_name
        except KeyError:
            return None

    def group_name(self, gid: int) -> str | None:
        try:
            return grp.getgrgid(gid).gr_name
        except KeyError:
            return None

    def uid_of(self, owner) -> int:
        """Numeric uid for a user name or number; ModuleFailure if unknown."""
        if isinstance(owner, int) or str(owner).isdigit():
            return int(owner)
        try:
            return pwd.getpwnam(owner).pw_uid
        except KeyError:
            raise ModuleFailure(f"user {owner!r} does not exist on the host") from None

    def gid_of(self, group) -> int:
        if isinstance(group, int) or str(group).isdigit():
            return int(group)
        try:
            return grp.getgrnam(group).gr_gid
        except KeyError:
            raise ModuleFailure(f"group {group!r} does not exist on the host") from None

    # -- commands ------------------------------------------------------------------------
    def query(self, argv, cwd: str | None = None, stdin: str | None = None, env=None):
        """Run a command that only reads state; returns ``(rc, stdout, stderr)`` as text."""
        return run_command(argv, cwd, stdin, env, False, self.deadline)

    # -- writes: refused -----------------------------------------------------------------
    def _refuse(self, *args, **kwargs):
        raise ReadOnlyHostError(
            "this host handle is read-only (observe and check mode never write)"
        )

    write_file = mkdir = chmod = chown = remove = symlink = hardlink = touch = run = _refuse
    set_attrs = set_times = backup = overwrite = rmdir = copy_tree = scratch_dir = temp_file = _refuse


class HostWriter(HostReader):
    """Host handle for ``apply`` and imperative modules: atomic writes and commands."""

    writable = True

    def write_file(
        self, path: str, data: bytes, mode=None, owner=None, group=None, validate=None
    ) -> None:
        """Replace ``path`` atomically: temp file in the same directory, then rename.

        A file that is a mount point (``/etc/hosts`` in a container: rename gives EBUSY) can
        only be rewritten in place; that is done from the finished, validated temp file.

        Mode/owner/group are set on the temp file before the rename. When they are not
        given, an existing file keeps its own; a new file gets ``0666 & ~umask``.
        ``validate`` (a command with ``%s``) runs on the finished temp file first; if it
        fails, ``path`` is left untouched and ModuleFailure says why.
        """
        directory = os.path.dirname(path) or "."
        old = self.path_info(path, follow=True)
        if mode is not None:
            bits = resolve_mode(mode, _oct(old["mode"]) if old else None, False)
        elif old:
            bits = _oct(old["mode"])
        else:
            bits = 0o666 & ~self.umask
        uid = self.uid_of(owner) if owner is not None else (old["uid"] if old else -1)
        gid = self.gid_of(group) if group is not None else (old["gid"] if old else -1)

        def check(tmp: str) -> None:
            rc, _out, err = run_command(substitute_path(validate, tmp), None, None, None, False, self.deadline)
            if rc != 0:
                raise ModuleFailure(f"failed to validate: rc:{rc} error:{err.rstrip()}")

        try:
            with dirfd.open_dir(directory, True) as parent:
                parent.replace(os.path.basename(path), data, bits, uid, gid, check if validate else None)
        except OSError as exc:  # e.g. a full disk: the old file is still intact
            raise ModuleFailure(f"cannot write {path}: {exc.strerror or exc}") from None

    def set_attrs(self, path: str, attrs: dict, follow: bool = True) -> None:
        """Apply the mode/owner/group fields of a ``wanted_attrs`` dict to ``path``."""
        owner = attrs.get("owner", attrs.get("uid"))
        group = attrs.get("group", attrs.get("gid"))
        if owner is not None or group is not None:
            self.chown(path, owner, group, follow=follow)  # before chmod: chown drops setuid
        if attrs.get("mode") is not None:
            self.chmod(path, attrs["mode"], follow=follow)

    def set_times(
        self, path: str, atime_ns: int | None, mtime_ns: int | None, follow: bool = True
    ) -> None:
        """Set access/modification times (nanoseconds); None keeps that time as it is."""
        st = os.stat(path) if follow else os.lstat(path)
        times = (
            st.st_atime_ns if atime_ns is None else atime_ns,
            st.st_mtime_ns if mtime_ns is None else mtime_ns,
        )
        os.utime(path, ns=times, follow_symlinks=follow)

    def backup(self, path: str) -> str:
        """Copy ``path`` to Ansible's ``PATH.PID.YYYY-MM-DD@HH:MM:SS~`` (metadata kept).

        The agent lives longer than one task, so a second backup within the same second
        gets a counter (``...@HH:MM:SS.1~``) instead of overwriting the first one. The copy
        is made private (0600, never through a symlink) and given the source's owner and
        mode through its descriptor (:meth:`fleet.agent.dirfd.Dir.backup`).
        Returns the backup's path, or ``""`` when ``path`` does not exist.
        """
        try:
            source = os.open(path, os.O_RDONLY | os.O_NONBLOCK | dirfd.CLOEXEC)
        except FileNotFoundError:
            return ""
        try:
            st = os.fstat(source)
            if not stat_mod.S_ISREG(st.st_mode):
                raise ModuleFailure(f"cannot back up {path}: not a regular file")
            directory, name = os.path.split(path)
            stamp = time.strftime("%Y-%m-%d@%H:%M:%S", time.localtime())
            with dirfd.open_dir(directory or ".", True) as parent:
                entry = parent.backup(f"{name}.{os.getpid()}.{stamp}", source, st)
        except OSError as exc:
            raise ModuleFailure(f"cannot back up {path}: {exc.strerror or exc}") from None
        finally:
            os.close(source)
        return os.path.join(directory, entry)

    def mkdir(self, path: str, mode=None) -> None:
        """Create ``path`` and missing parents (like ``mkdir -p``)."""
        os.makedirs(path, exist_ok=True)
        if mode is not None:
            self.chmod(path, mode)

    def chmod(self, path: str, mode, follow: bool = True) -> None:
        """Set ``mode`` (octal or symbolic) on ``path``; with ``follow=False`` a symlink is left
        alone (Linux cannot chmod one). The mode is read and set through one descriptor."""
        fd = _open_node(path, follow)
        if fd is not None:
            try:
                st = os.fstat(fd)
                os.fchmod(fd, resolve_mode(mode, stat_mod.S_IMODE(st.st_mode), stat_mod.S_ISDIR(st.st_mode)))
            finally:
                os.close(fd)
            return
        info = self.path_info(path, follow=follow)
        current = _oct(info["mode"]) if info else None
        bits = resolve_mode(mode, current, bool(info and info["state"] == "directory"))
        if not follow and info and info["state"] == "link":
            return
        os.chmod(path, bits)

    def chown(self, path: str, owner=None, group=None, follow: bool = True) -> None:
        """Set owner and/or group of ``path`` (through a descriptor where it can be opened)."""
        uid = self.uid_of(owner) if owner is not None else -1
        gid = self.gid_of(group) if group is not None else -1
        fd = _open_node(path, follow)
        if fd is not None:
            try:
                os.fchown(fd, uid, gid)
            finally:
                os.close(fd)
        elif follow:
            os.chown(path, uid, gid)
        else:
            os.lchown(path, uid, gid)

    def remove(self, path: str) -> None:
        """Remove a file, link or whole directory tree; absent is fine."""
        if os.path.isdir(path) and not os.path.islink(path):
            import shutil

            shutil.rmtree(path)
        elif os.path.lexists(path):
            os.unlink(path)

    def rmdir(self, path: str) -> None:
        """Remove the empty directory ``path`` (OSError if it is not empty)."""
        os.rmdir(path)

    def overwrite(self, path: str, data: bytes) -> None:
        """Write ``data`` into the existing file ``path`` in place: no temp file, no rename,
        never created. For kernel settings (``/proc/sys``), which only take a write; the
        kernel's refusal (EINVAL, EPERM...) is raised as the OSError it is."""
        fd = os.open(path, os.O_WRONLY | os.O_NOFOLLOW | dirfd.CLOEXEC)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)

    def copy_tree(self, src: str | None, dest: str, uid: int, gid: int, mode: int) -> None:
        """Create ``dest`` as a copy of the directory ``src`` (symlinks copied as links; an
        empty directory when ``src`` is None or missing), everything owned by ``uid:gid``
        (links themselves, never their targets), ``dest`` itself with ``mode``: a new home
        from ``/etc/skel``."""
        import shutil

        if src and os.path.isdir(src):
            shutil.copytree(src, dest, symlinks=True)
        else:
            os.mkdir(dest)
        for root, dirs, files in os.walk(dest):
            for name in [root] + [os.path.join(root, n) for n in dirs + files]:
                os.lchown(name, uid, gid)
        os.chmod(dest, mode)

    @contextlib.contextmanager
    def scratch_dir(self, prefix: str = "fleet-"):
        """A new private (0700) temporary directory, removed with its content afterwards:
        for candidate files a checker reads (``sshd -t``) before anything is replaced."""
        import shutil
        import tempfile

        path = tempfile.mkdtemp(prefix=prefix)
        try:
            yield path
        finally:
            shutil.rmtree(path, ignore_errors=True)

    @contextlib.contextmanager
    def temp_file(self, directory: str, data: bytes):
        """A new 0600 file holding ``data`` in ``directory`` under a name no one could claim
        in advance, removed afterwards: a candidate a checker reads beside its target (so
        relative includes resolve as they will)."""
        for _ in range(100):
            path = os.path.join(directory, ".fleet-" + os.urandom(6).hex() + ".tmp")
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | dirfd.CLOEXEC,
                             0o600)
                break
            except FileExistsError:
                continue
        else:
            raise ModuleFailure(f"no free temporary file name in {directory}")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            yield path
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)

    def symlink(self, src: str, dest: str) -> None:
        """Point ``dest`` at ``src``, replacing an existing link or file atomically."""
        tmp = _temp_name(dest)
        os.symlink(src, tmp)
        os.rename(tmp, dest)

    def hardlink(self, src: str, dest: str) -> None:
        tmp = _temp_name(dest)
        os.link(src, tmp)
        os.rename(tmp, dest)

    def touch(self, path: str, mode=None) -> None:
        """Create ``path`` if it is absent (never through a symlink planted meanwhile), then
        set its times to now."""
        if not os.path.lexists(path):
            try:
                flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | dirfd.CLOEXEC
                os.close(os.open(path, flags, 0o666))
            except FileExistsError:
                pass
        now = time.time()
        os.utime(path, (now, now))
        if mode is not None:
            self.chmod(path, mode)

    def run(
        self, argv, cwd: str | None = None, stdin: str | None = None, env=None, shell: bool = False
    ):
        """Run a command that may change the host; returns ``(rc, stdout, stderr)``."""
        return run_command(argv, cwd, stdin, env, shell, self.deadline)


def _oct(text: str) -> int:
    return int(text, 8)


def _temp_name(dest: str) -> str:
    """A name beside ``dest`` that no one can claim in advance (unlike one with the pid)."""
    return f"{dest}.fleet-{os.urandom(6).hex()}.tmp"


def _open_node(path: str, follow: bool) -> int | None:
    """A descriptor on the regular file or directory ``path`` names (not opening devices or
    FIFOs, nor a symlink unless ``follow``), or None to fall back to the path."""
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | dirfd.CLOEXEC | (0 if follow else os.O_NOFOLLOW)
    try:
        st = os.stat(path) if follow else os.lstat(path)
    except OSError:
        return None
    if not (stat_mod.S_ISREG(st.st_mode) or stat_mod.S_ISDIR(st.st_mode)):
        return None
    try:
        fd = os.open(path, flags)
    except OSError:  # no read permission (an agent that is not root), or swapped meanwhile
        return None
    opened = os.fstat(fd)
    if (opened.st_dev, opened.st_ino) != (st.st_dev, st.st_ino):
        os.close(fd)
        return None
    return fd
