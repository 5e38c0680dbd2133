"""The local account databases as the user and group modules read them (/etc/passwd,
/etc/group, /etc/shadow) and what may be shown of a password hash."""

from __future__ import annotations

import re

REDACTED = "********"
NO_PASSWORD = ("", "!", "*", "!!", "!*", "*************")
_NOT_CRYPT = re.compile(r"[^a-zA-Z0-9./=]")
# Lengths of the last field of the hashes whose length Ansible checks: md5, sha256, sha512, yescrypt
_HASH_LENGTHS = {"1": 22, "5": 43, "6": 86, "y": 43}


def _entries(text: str, width: int) -> list:
    """Lines of at least ``width`` fields; NIS ``+``/``-`` lines and comments skipped."""
    rows = []
    for line in text.splitlines():
        fields = line.split(":")
        if len(fields) >= width and fields[0] and fields[0][0] not in "+-#":
            rows.append(fields)
    return rows


def parse_passwd(text: str) -> dict:
    """/etc/passwd as ``{name: {uid, gid, comment, home, shell}}`` (first entry wins)."""
    users: dict = {}
    for f in _entries(text, 7):
        if f[2].isdigit() and f[3].isdigit():
            users.setdefault(f[0], {"uid": int(f[2]), "gid": int(f[3]), "comment": f[4],
                                    "home": f[5], "shell": f[6]})
    return users


def parse_group(text: str) -> dict:
    """/etc/group as ``{name: {"gid": int, "members": [names]}}`` (first entry wins, as for
    getgrnam; malformed lines skipped)."""
    groups: dict = {}
    for f in _entries(text, 4):
        if f[2].isdigit():
            groups.setdefault(
                f[0], {"gid": int(f[2]), "members": [m for m in f[3].split(",") if m]}
            )
    return groups


def parse_shadow(text: str) -> dict:
    """/etc/shadow as ``{name: [fields]}`` (password hash, last change, min, max, warn,
    inactive, expire, reserved: the 8 fields after the name)."""
    return {f[0]: (f[1:] + [""] * 8)[:8] for f in _entries(text, 2)}


def password_token(stored: str | None, wanted: str | None) -> str:
    """What diffs show for the stored hash: never the hash itself."""
    if stored is None:
        return "(unreadable)"
    if wanted is not None and stored.lstrip("!") == wanted.lstrip("!"):
        return REDACTED
    return "(none)" if stored in NO_PASSWORD else "(another hash)"


def looks_unhashed(password: str) -> bool:
    """Ansible's test for a password that is probably clear text: not one of the no-password
    marks, and holding ``:*!``, no ``$`` fields, characters outside crypt's alphabet in the last
    field, or a last field of the wrong length for its method."""
    if password in ("*", "!", "*************"):
        return False
    if any(char in password for char in ":*!") or "$" not in password:
        return True
    fields = password.split("$")
    if len(fields) < 3:
        return True
    last = fields[-1]
    return bool(_NOT_CRYPT.search(last)) or _HASH_LENGTHS.get(fields[1], len(last)) != len(last)
