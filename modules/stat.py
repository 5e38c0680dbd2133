"""Retrieve a file's status (type, mode, owner, size, times, checksum...). Changes nothing.

Behaves like ``ansible.builtin.stat``: returns ``stat`` with Ansible's keys: ``exists``;
when it exists also ``path``, ``mode`` (``0644``), ``isdir``/``isreg``/``islnk``/``ischr``/
``isblk``/``isfifo``/``issock``, ``uid``/``gid``/``pw_name``/``gr_name``, ``size``,
``inode``, ``dev``, ``nlink``, ``atime``/``mtime``/``ctime``, the permission flags
(``rusr``, ``wgrp``, ``xoth``, ``isuid``...), ``readable``/``writeable``/``executable``,
``blocks``, ``block_size``, ``device_type``; ``lnk_source`` (resolved) and ``lnk_target``
(as written) for a symlink; ``checksum`` of a readable regular file (``get_checksum``,
``checksum_algorithm``: sha1 by default); ``mimetype``/``charset`` from ``file(1)``
(``get_mime``; ``unknown`` without it) and ``attributes``/``attr_flags``/``version`` from
``lsattr`` (``get_attributes``). ``follow`` stats the target of a symlink.
"""

from __future__ import annotations

import contextlib
import grp
import hashlib
import os
import pwd
import shutil
import stat
from dataclasses import dataclass
from typing import Literal

from fleet.agent.contract import param
from fleet.agent.hostio import ModuleFailure, expand_path

ALIASES = {
    "dest": "path",
    "name": "path",
    "checksum": "checksum_algorithm",
    "checksum_algo": "checksum_algorithm",
    "mime": "get_mime",
    "mime_type": "get_mime",
    "mime-type": "get_mime",
    "attr": "get_attributes",
    "attributes": "get_attributes",
}

FLAGS = (
    ("wusr", stat.S_IWUSR),
    ("rusr", stat.S_IRUSR),
    ("xusr", stat.S_IXUSR),
    ("wgrp", stat.S_IWGRP),
    ("rgrp", stat.S_IRGRP),
    ("xgrp", stat.S_IXGRP),
    ("woth", stat.S_IWOTH),
    ("roth", stat.S_IROTH),
    ("xoth", stat.S_IXOTH),
    ("isuid", stat.S_ISUID),
    ("isgid", stat.S_ISGID),
)
# lsattr letters as Ansible names them (module_utils FILE_ATTRIBUTES)
ATTRIBUTE_NAMES = {
    "A": "noatime", "a": "append", "c": "compressed", "C": "nocow", "d": "nodump",
    "D": "dirsync", "e": "extents", "E": "encrypted", "h": "blocksize", "i": "immutable",
    "I": "indexed", "j": "journalled", "N": "inline", "s": "zero", "S": "synchronous",
    "t": "notail", "T": "blockroot", "u": "undelete", "X": "compressedraw",
    "Z": "compresseddirty",
}  # fmt: skip


@dataclass(frozen=True)
class Params:
    path: str = param("the path to look at")
    follow: bool = param("follow a symlink and describe its target", False)
    get_checksum: bool = param("return the file's checksum", True)
    checksum_algorithm: Literal["md5", "sha1", "sha224", "sha256", "sha384", "sha512"] = param(
        "hash used for the checksum", "sha1")
    get_mime: bool = param("return the MIME type and charset (file --mime)", True)
    get_attributes: bool = param("return the file's attributes (lsattr)", True)


def observe(p: Params, host) -> dict:
    path = expand_path(p.path)
    try:
        st = os.stat(path) if p.follow else os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return {"stat": {"exists": False}}
    except OSError as exc:
        raise ModuleFailure(exc.strerror or str(exc)) from None
    mode = st.st_mode
    out = {
        "exists": True,
        "path": path,
        "mode": f"{stat.S_IMODE(mode):04o}",
        "isdir": stat.S_ISDIR(mode),
        "ischr": stat.S_ISCHR(mode),
        "isblk": stat.S_ISBLK(mode),
        "isreg": stat.S_ISREG(mode),
        "isfifo": stat.S_ISFIFO(mode),
        "islnk": stat.S_ISLNK(mode),
        "issock": stat.S_ISSOCK(mode),
        "uid": st.st_uid,
        "gid": st.st_gid,
        "size": st.st_size,
        "inode": st.st_ino,
        "dev": st.st_dev,
        "nlink": st.st_nlink,
        "atime": st.st_atime,
        "mtime": st.st_mtime,
        "ctime": st.st_ctime,
        "blocks": st.st_blocks,
        "block_size": st.st_blksize,
        "device_type": st.st_rdev,
    }
    out.update({name: bool(mode & bit) for name, bit in FLAGS})
    for key, flag in (("readable", os.R_OK), ("writeable", os.W_OK), ("executable", os.X_OK)):
        out[key] = os.access(path, flag)
    if out["islnk"]:
        out["lnk_source"] = os.path.realpath(path)
        out["lnk_target"] = os.readlink(path)
    with contextlib.suppress(KeyError):
        out["pw_name"] = pwd.getpwuid(st.st_uid).pw_name
    with contextlib.suppress(KeyError):
        out["gr_name"] = grp.getgrgid(st.st_gid).gr_name
    if p.get_checksum and out["isreg"] and out["readable"]:
        out["checksum"] = _digest(path, p.checksum_algorithm)
    if p.get_mime:
        out.update(_mime(host, path))
    if p.get_attributes:
        out.update(_attributes(host, path))
    return {"stat": out}


def _digest(path: str, algorithm: str) -> str:
    digest = hashlib.new(algorithm)
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _mime(host, path: str) -> dict:
    found = {"mimetype": "unknown", "charset": "unknown"}
    binary = shutil.which("file")
    if binary:
        rc, out, _err = host.query([binary, "--mime-type", "--mime-encoding", path])
        if rc == 0 and ":" in out:
            mimetype, _sep, charset = out.rsplit(":", 1)[1].partition(";")
            found["mimetype"] = mimetype.strip()
            found["charset"] = charset.split("=")[-1].strip()
    return found


def _attributes(host, path: str) -> dict:
    found: dict = {"version": None, "attributes": [], "attr_flags": ""}
    binary = shutil.which("lsattr")
    if binary:
        rc, out, _err = host.query([binary, "-vd", path])
        fields = out.split()
        if rc == 0 and len(fields) >= 2:
            flags = fields[1].replace("-", "").strip()
            found["version"] = fields[0].strip()
            found["attr_flags"] = flags
            found["attributes"] = [ATTRIBUTE_NAMES[f] for f in flags if f in ATTRIBUTE_NAMES]
    return found
