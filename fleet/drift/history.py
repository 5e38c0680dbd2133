"""``--state-dir DIR``: the reports of earlier ``fleet drift`` runs and the drift they knew.

Layout (one directory per playbook and inventory that a nightly job checks)::

    DIR/runs/<run id>.json   every run's full report (the ``--json`` document), newest kept
    DIR/known.json           per host, the drift known so far with its first_seen time
    DIR/.lock                held while a run reads and writes the directory

``known.json`` is what classifies drift as new/persisting/resolved; it keeps what an earlier
run knew about hosts the latest run could not observe, so an unreachable night does not turn
old drift into "new" drift the night after.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fleet.drift.model import Known
from fleet.errors import InputError, Location
from fleet.report.files import write_atomic

KNOWN_FORMAT = 1


class History:
    """The state directory of one drift job."""

    def __init__(self, directory: str | Path, keep: int = 30) -> None:
        self.dir = Path(directory)
        self.keep = max(1, keep)

    @property
    def runs_dir(self) -> Path:
        return self.dir / "runs"

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the directory's lock; a second run on the same directory fails at once."""
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            handle = open(self.dir / ".lock", "a+")  # noqa: SIM115 - held for the with block
        except OSError as exc:
            raise InputError(f"--state-dir {self.dir}: {exc.strerror or exc}") from None
        with handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise InputError(f"--state-dir {self.dir}: another fleet drift run is using it") from None
            yield

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

    def record(self, report: dict[str, Any], known: Known) -> Path:
        """Store ``report`` (with its ``drift`` section) and the updated ``known``; drop the
        oldest reports beyond ``keep``. Returns the stored report's path."""
        path = self.runs_dir / f"{report['drift']['run_id']}.json"
        write_atomic(path, json.dumps(report, indent=1, default=str) + "\n")
        write_atomic(self.dir / "known.json",
                         json.dumps({"format": KNOWN_FORMAT, "hosts": known}, indent=1, sort_keys=True) + "\n")
        for old in self.run_files()[:-self.keep]:
            old.unlink(missing_ok=True)
        return path

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
