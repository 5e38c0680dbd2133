"""``--json PATH``: the run report as JSON, written atomically (``-`` = stdout)."""

from __future__ import annotations

import json
import sys
from typing import Any

from fleet.report.files import write_atomic

REPORT_MODE = 0o600  # a report may quote file contents that are private on the host (--diff)


def write_json(data: dict[str, Any], path: str, mode: int | None = REPORT_MODE) -> None:
    """Write ``data`` to ``path`` (temp file + rename), or to stdout for ``-``.

    ``mode``: the file's exact permissions (see ``write_atomic``), 0600 unless told."""
    text = json.dumps(data, indent=2, sort_keys=False, default=str) + "\n"
    if path == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    write_atomic(path, text, mode)
