"""File modes and contents as modules compare them: types, octal and symbolic modes, the
attributes a task asks for, and content as diffable text. Pure functions, no host access."""

from __future__ import annotations

import re
import stat as stat_mod

from fleet.agent.errors import ModuleFailure

_TYPES = (
    (stat_mod.S_ISLNK, "link"),
    (stat_mod.S_ISREG, "file"),
    (stat_mod.S_ISDIR, "directory"),
    (stat_mod.S_ISSOCK, "socket"),
    (stat_mod.S_ISFIFO, "fifo"),
    (stat_mod.S_ISCHR, "chardev"),
    (stat_mod.S_ISBLK, "blockdev"),
)


def file_type(mode: int) -> str:
    for test, name in _TYPES:
        if test(mode):
            return name
    return "other"


def format_mode(mode: int) -> str:
    """Permission bits as Ansible prints them: a four-digit octal string such as ``0644``."""
    return f"{stat_mod.S_IMODE(mode):04o}"


_SYMBOLIC = re.compile(r"^([ugoa]*)([-+=])([rwxXstugo]*)$")


def resolve_mode(spec, current: int | None, is_dir: bool) -> int:
    """Turn an Ansible ``mode`` (int, octal string or symbolic ``u=rw,g+x``) into bits."""
    if isinstance(spec, int):
        return spec & 0o7777
    text = str(spec).strip()
    if re.match(r"^0*[0-7]{1,4}$", text):
        return int(text, 8) & 0o7777
    mode = current & 0o7777 if current is not None else 0
    for clause in text.split(","):
        match = _SYMBOLIC.match(clause.strip())
        if not match:
            raise ModuleFailure(f"mode must be octal or symbolic (u=rw,g+x), got {spec!r}")
        who, op, perms = match.groups()
        who = who or "a"
        if "a" in who:
            who = "ugo"
        bits = 0
        for user in who:
            bits |= _perm_bits(user, perms, mode, is_dir)
        if op == "+":
            mode |= bits
        elif op == "-":
            mode &= ~bits
        else:
            mask = 0
            for user in who:
                mask |= {"u": 0o4700, "g": 0o2070, "o": 0o1007}[user]
            mode = (mode & ~mask) | bits
    return mode


def _perm_bits(user: str, perms: str, mode: int, is_dir: bool) -> int:
    shift = {"u": 6, "g": 3, "o": 0}[user]
    bits = 0
    for perm in perms:
        if perm in "ugo":
            bits |= ((mode >> {"u": 6, "g": 3, "o": 0}[perm]) & 7) << shift
        elif perm == "r":
            bits |= 4 << shift
        elif perm == "w":
            bits |= 2 << shift
        elif perm == "x" or (perm == "X" and (is_dir or mode & 0o111)):
            bits |= 1 << shift
        elif perm == "s" and user in "ug":
            bits |= 0o4000 if user == "u" else 0o2000
        elif perm == "t":
            bits |= 0o1000
    return bits


def display_text(data: bytes | None) -> str | None:
    """File content as diffable, JSON-safe text; None when the file is absent.

    UTF-8 text is returned as is (so comparing it is comparing the bytes). Anything else
    (invalid UTF-8 or a NUL byte) becomes a one-line marker naming its size and SHA-1, so a
    binary file can still be compared exactly and shown in a diff without breaking JSON.
    """
    if data is None:
        return None
    if b"\x00" not in data:
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            pass
    import hashlib

    return f"(binary content: {len(data)} bytes, sha1 {hashlib.sha1(data).hexdigest()})\n"


def wanted_attrs(mode, owner, group, info: dict | None, is_dir: bool, umask: int) -> dict:
    """The ``mode``/``owner``/``group`` fields a task asks for, in ``path_info`` terms.

    ``mode`` becomes a four-digit octal string (symbolic modes resolve against the current
    mode, or against ``0666``/``0777 & ~umask`` for a path still to be created); a numeric
    owner or group is compared as ``uid``/``gid``, a name as ``owner``/``group``.
    """
    want: dict = {}
    if mode is not None and mode != "":
        default = (0o777 if is_dir else 0o666) & ~umask
        base = int(info["mode"], 8) if info is not None else default
        want["mode"] = f"{resolve_mode(mode, base, is_dir):04o}"
    for value, name_key, id_key in ((owner, "owner", "uid"), (group, "group", "gid")):
        if value is None or value == "":
            continue
        if isinstance(value, int) or str(value).isdigit():
            want[id_key] = int(value)
        else:
            want[name_key] = str(value)
    return want
