"""What a tool left on a host: every path under the host's root, its type, mode, owner, content.

Two tools applied to fresh hosts must leave the same trees. Each host works under its own
directory, whose absolute path appears in file contents and link targets, so the root's path
is replaced by ``{root}`` before comparing: hosts of different tools compare equal when they
differ only by where their root is.
"""

from __future__ import annotations

import difflib
import grp
import hashlib
import pwd
import stat
from dataclasses import dataclass
from pathlib import Path

ROOT_TOKEN = "{root}"


@dataclass(frozen=True)
class Entry:
    """One path: ``kind`` (dir, file, link, other), permission bits, owner:group, content."""

    kind: str
    mode: str
    owner: str
    content: str  # text with the root replaced, a digest for binary files, a link's target

    def describe(self) -> str:
        return f"{self.kind} {self.mode} {self.owner}"


def _name(table, ident: int) -> str:
    try:
        return table(ident)[0]
    except KeyError:
        return str(ident)


def _content(path: Path, st, root: str) -> tuple[str, str]:
    if stat.S_ISLNK(st.st_mode):
        return "link", str(path.readlink()).replace(root, ROOT_TOKEN)
    if stat.S_ISDIR(st.st_mode):
        return "dir", ""
    if not stat.S_ISREG(st.st_mode):
        return "other", ""
    data = path.read_bytes()
    try:
        return "file", data.decode().replace(root, ROOT_TOKEN)
    except UnicodeDecodeError:
        return "file", "sha256:" + hashlib.sha256(data).hexdigest()


def snapshot(root: Path) -> dict[str, Entry]:
    """Every path under ``root`` (relative, sorted), described by an :class:`Entry`."""
    found = {}
    for path in sorted(root.rglob("*")):
        st = path.lstat()
        kind, content = _content(path, st, str(root))
        owner = f"{_name(pwd.getpwuid, st.st_uid)}:{_name(grp.getgrgid, st.st_gid)}"
        found[str(path.relative_to(root))] = Entry(kind, oct(stat.S_IMODE(st.st_mode)), owner, content)
    return found


def differences(reference: dict[str, Entry], other: dict[str, Entry], ref_name: str, other_name: str,
                max_diff_lines: int = 12) -> list[str]:
    """Human-readable differences between two snapshots (empty when they are the same)."""
    found = []
    for path in sorted(reference.keys() - other.keys()):
        found.append(f"{path}: only with {ref_name}")
    for path in sorted(other.keys() - reference.keys()):
        found.append(f"{path}: only with {other_name}")
    for path in sorted(reference.keys() & other.keys()):
        a, b = reference[path], other[path]
        if a.describe() != b.describe():
            found.append(f"{path}: {a.describe()} with {ref_name}, {b.describe()} with {other_name}")
        if a.content != b.content:
            diff = list(difflib.unified_diff(a.content.splitlines(), b.content.splitlines(), ref_name,
                                             other_name, lineterm="", n=1))
            shown = "\n    ".join(diff[:max_diff_lines] + (["..."] if len(diff) > max_diff_lines else []))
            found.append(f"{path}: contents differ\n    {shown}")
    return found
