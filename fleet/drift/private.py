"""Who may read what ``fleet drift`` writes: a private state directory, report modes.

The drift of a host can quote files that are private there (before/after of a 0600 file), so
everything is private to the user running ``fleet drift`` unless asked otherwise, as OpenSSH
keeps ``~/.ssh``:

- the state directory and its ``runs/`` are 0700 and owned by that user; one that others can
  read (an older fleet made them 0755) is made 0700 with a warning, one owned by another user
  is refused;
- the state files (run reports, ``known.json``, the digest key, the lock) are 0600, and older
  looser ones are made 0600;
- the reports (``--json/--junit/--prom/--html``) are 0600 unless ``--report-mode`` opens them:
  ``--report-mode 0640`` for all, ``--report-mode prom=0644`` for one (node-exporter reads the
  metrics as another user). Modes wider than 0644 are refused: nobody else may write a report.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path

from fleet.errors import InputError

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600
REPORT_FORMATS = ("json", "junit", "prom", "html")
MAX_REPORT_MODE = 0o644


def parse_report_modes(values: Iterable[str]) -> dict[str, int]:
    """``--report-mode`` values (``MODE`` for every report, ``FORMAT=MODE`` for one; later ones
    win) as a mode per report format, 0600 where none is given."""
    modes = dict.fromkeys(REPORT_FORMATS, PRIVATE_FILE)
    for value in values:
        name, _, text = value.rpartition("=")
        if name and name not in REPORT_FORMATS:
            raise InputError(f"--report-mode {value}: unknown report {name!r} "
                             f"(one of {', '.join(REPORT_FORMATS)})")
        digits = text.removeprefix("0o")
        if not 1 <= len(digits) <= 4 or digits.strip("01234567"):
            raise InputError(f"--report-mode {value}: {text!r} is not an octal mode like 0640")
        mode = int(digits, 8)
        if mode & ~MAX_REPORT_MODE:
            raise InputError(f"--report-mode {value}: {mode:04o} gives more than 0644 "
                             "(no one but the owner may write a report, and it is not a program)")
        for key in [name] if name else REPORT_FORMATS:
            modes[key] = mode
    return modes


def private_dir(path: Path, label: str) -> list[str]:
    """Create ``path`` (0700) or check the existing one: a directory owned by this user, made
    0700 if others could read it (a warning says so). ``InputError`` names ``label`` otherwise."""
    try:
        path.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
        info = path.stat()
    except OSError as exc:
        raise InputError(f"{label}: {exc.strerror or exc}") from None
    if not stat.S_ISDIR(info.st_mode):
        raise InputError(f"{label}: not a directory")
    if info.st_uid != os.geteuid():
        raise InputError(f"{label} belongs to uid {info.st_uid}, not to the user running fleet drift "
                         f"(uid {os.geteuid()}): the drift state must be that user's own")
    mode = stat.S_IMODE(info.st_mode)
    if not mode & 0o077:
        return []
    try:
        os.chmod(path, PRIVATE_DIR)
    except OSError as exc:
        raise InputError(f"{label} is {mode:04o} (others can read it) and cannot be made 0700: "
                         f"{exc.strerror or exc}") from None
    return [f"{label} was {mode:04o} (others could read it): now 0700"]


def private_files(paths: Iterable[Path]) -> int:
    """Make the regular files among ``paths`` 0600 where they are looser; how many were."""
    tightened = 0
    for path in paths:
        try:
            info = path.lstat()
        except FileNotFoundError:
            continue
        if stat.S_ISREG(info.st_mode) and stat.S_IMODE(info.st_mode) & 0o077:
            try:
                os.chmod(path, PRIVATE_FILE)
            except OSError as exc:
                raise InputError(f"{path} is readable by others and cannot be made 0600: "
                                 f"{exc.strerror or exc}") from None
            tightened += 1
    return tightened
