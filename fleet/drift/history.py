"""``--state-dir DIR``: the reports of earlier ``fleet drift`` runs and the drift they knew.

Layout (one directory per playbook and inventory that a nightly job checks)::

    DIR/runs/<run id>.json   every run's report (the ``--json`` document), newest kept; its
                             before/after values only with --diff (fleet.drift.stored)
    DIR/known.json           per host, the drift known so far: fields, digest, first_seen
    DIR/digest.key           the random key of the drift digests
    DIR/.lock                held while a run reads and writes the directory

``known.json`` is what classifies drift as new/persisting/resolved; it keeps what an earlier
run knew about hosts the latest run could not observe, so an unreachable night does not turn
old drift into "new" drift the night after. The directory is private (``fleet.drift.private``):
0700, files 0600, owned by the user running fleet drift.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fleet.drift.model import Digest, Known
from fleet.drift.private import PRIVATE_DIR, PRIVATE_FILE, private_dir, private_files
from fleet.drift.stored import VALUES_OMITTED, drift_digest, for_state, holds_values, without_values
from fleet.errors import InputError, Location
from fleet.report import write_atomic

KNOWN_FORMAT = 1
KEY_SIZE = 32


class History:
    """The state directory of one drift job."""

    def __init__(self, directory: str | Path, keep: int = 30) -> None:
        self.dir = Path(directory)
        self.keep = max(1, keep)
        self.warnings: list[str] = []  # what locked() had to tighten, for the run's output

    @property
    def runs_dir(self) -> Path:
        return self.dir / "runs"

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the directory's lock (a second run on the same directory fails at once), after
        making the directory private: created 0700, or checked and tightened (``warnings``)."""
        label = f"--state-dir {self.dir}"
        self.warnings = private_dir(self.dir, label)
        try:
            fd = os.open(self.dir / ".lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC,
                         PRIVATE_FILE)
        except OSError as exc:
            raise InputError(f"{label}: {exc.strerror or exc}") from None
        with os.fdopen(fd, "r+") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise InputError(f"{label}: another fleet drift run is using it") from None
            if self.runs_dir.exists():
                self.warnings += private_dir(self.runs_dir, f"{label}: runs/")
            loose = private_files([self.dir / ".lock", self.dir / "known.json", self.dir / "digest.key",
                                   *self.run_files()])
            if loose:
                self.warnings.append(f"{label}: {loose} state file(s) others could read: now 0600")
            yield

    def digest(self) -> Digest:
        """The digest of drift values in this directory (``fleet.drift.stored.drift_digest``
        under the directory's key, made on first use)."""
        path = self.dir / "digest.key"
        try:
            key = bytes.fromhex(path.read_text(encoding="ascii").strip())
        except FileNotFoundError:
            key = secrets.token_bytes(KEY_SIZE)
            write_atomic(path, key.hex() + "\n", PRIVATE_FILE)
        except (OSError, ValueError) as exc:
            raise InputError(f"cannot read the drift digest key: {getattr(exc, 'strerror', None) or exc} "
                             "(delete it to make a new one: known drift is then reported as new once)",
                             Location(str(path))) from None
        if len(key) != KEY_SIZE:
            raise InputError("not a drift digest key (delete it to make a new one: known drift is "
                             "then reported as new once)", Location(str(path)))
        return lambda item: drift_digest(key, item)

    def known(self) -> Known:
        """The drift known so far (empty for a new directory)."""
        path = self.dir / "known.json"
        data = self._read(path)
        if data is None:
            return {}
        hosts = data.get("hosts") if isinstance(data, dict) else None
        if data.get("format") != KNOWN_FORMAT or not isinstance(hosts, dict):
            raise InputError("not a fleet drift state file (unknown format)", Location(str(path)))
        return hosts

    def run_files(self) -> list[Path]:
        """The stored run reports, oldest first."""
        if not self.runs_dir.is_dir():
            return []
        return sorted(p for p in self.runs_dir.glob("*.json") if not p.name.startswith("."))

    def latest(self) -> dict[str, Any] | None:
        """The newest stored run report, or None."""
        files = self.run_files()
        return self._read(files[-1]) if files else None

    def record(self, report: dict[str, Any], known: Known, keep_values: bool = False) -> Path:
        """Store ``report`` (with its ``drift`` section; its before/after values only with
        ``keep_values``) and the updated ``known``, all 0600; drop the oldest reports beyond
        ``keep``. Without ``keep_values``, reports an earlier fleet stored with every value
        lose their values too. Returns the stored report's path."""
        for directory in (self.dir, self.runs_dir):
            directory.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
        path = self.runs_dir / f"{report['drift']['run_id']}.json"
        write_atomic(path, json.dumps(for_state(report, keep_values), indent=1, default=str) + "\n",
                     PRIVATE_FILE)
        write_atomic(self.dir / "known.json",
                     json.dumps({"format": KNOWN_FORMAT, "hosts": known}, indent=1, sort_keys=True) + "\n",
                     PRIVATE_FILE)
        files = self.run_files()
        for old in files[:-self.keep]:
            old.unlink(missing_ok=True)
        if not keep_values:
            self._scrub_old(files[-self.keep:])
        return path

    def _scrub_old(self, files: list[Path]) -> None:
        """Rewrite the stored reports that still hold every value (older fleets) without them."""
        for file in files:
            try:
                if f'"{VALUES_OMITTED}"'.encode() in file.read_bytes():
                    continue  # stored by this fleet: as --diff said
            except FileNotFoundError:
                continue
            data = self._read(file)
            if holds_values(data):
                write_atomic(file, json.dumps(without_values(data), indent=1, default=str) + "\n",
                             PRIVATE_FILE)

    @staticmethod
    def _read(path: Path) -> Any:
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise InputError(f"cannot read {path}: {exc.strerror or exc}") from None
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(f"not valid JSON: {exc.msg}", Location(str(path), exc.lineno)) from None
