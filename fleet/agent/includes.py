"""Following ``Include`` lines of a configuration the way its daemon reads it (sshd_config).

Patterns are globbed relative to a base directory (absolute ones as they are), matches read
in sorted order, and one file can be read "as if" it held candidate content (or were absent):
what a module needs to say which file wins a setting before it writes anything. Reads only.
"""

from __future__ import annotations

import fnmatch
import glob
import os
import shlex


def words(value: str) -> list:
    """An Include line's patterns (shell words; ``#`` starts a comment)."""
    try:
        return shlex.split(value, comments=True)
    except ValueError:  # unbalanced quotes: the daemon would refuse the line anyway
        return value.split()


def glob_covers(pattern: str, path: str, base: str) -> bool:
    """Whether glob ``pattern`` would match ``path`` (component by component, like glob(3))."""
    a, b = os.path.join(base, pattern).split("/"), path.split("/")
    return len(a) == len(b) and all(fnmatch.fnmatchcase(y, x) for x, y in zip(a, b))


def expand(pattern: str, path: str, present: bool, base: str) -> list:
    """Files an Include pattern names, in sorted order, as if ``path`` were (not) present."""
    found = sorted(glob.glob(os.path.join(base, pattern)))
    if glob_covers(pattern, path, base):
        found = sorted([f for f in found if f != path] + ([path] if present else []))
    return found


def records(host, main: str, path: str, content: bytes | None, base: str, split_line) -> list:
    """Every active ``(keyword, value, file, line)`` read from ``main``, in order, with
    ``path`` read as ``content`` (None: absent). ``split_line(line)`` gives ``(keyword in
    lower case or None, value)``; ``Match`` blocks (not ``Match all``) end at their file's end."""
    out: list = []

    def read(name: str, data, depth: int) -> None:
        if data is None or depth > 16:
            return
        conditional = False
        for n, line in enumerate(data.decode("utf-8", "replace").splitlines(), 1):
            key, value = split_line(line)
            if key == "match":
                conditional = value.strip().lower() != "all"
            elif key is None or conditional:
                continue
            elif key == "include":
                for pattern in words(value):
                    for f in expand(pattern, path, content is not None, base):
                        read(f, data_of(f), depth + 1)
            else:
                out.append((key, value, name, n))

    def data_of(f: str):
        return content if f == path else host.read_bytes(f) if os.path.isfile(f) else None

    read(main, data_of(main), 0)
    return out
