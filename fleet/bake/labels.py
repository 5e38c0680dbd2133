"""Labels a baked image carries: what was applied, from what, by which fleet, when."""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from fleet import __version__

PREFIX = "fleet.bake"
CREATED = "org.opencontainers.image.created"
BASE_NAME = "org.opencontainers.image.base.name"


def rfc3339(moment: datetime.datetime | None = None) -> str:
    """UTC time as RFC 3339 (``2026-11-28T11:40:02Z``), as OCI's ``created`` annotation wants."""
    moment = moment or datetime.datetime.now(datetime.UTC)
    return moment.astimezone(datetime.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tree_sha256(directories: Iterable[Path]) -> str:
    """One digest over every file of the given directories (relative path + content, sorted)."""
    digest = hashlib.sha256()
    for directory in directories:
        for path in sorted(p for p in directory.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
            digest.update(f"{directory.name}/{path.relative_to(directory)}\0".encode())
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def vars_sha256(extra_vars: Mapping[str, Any]) -> str:
    """A digest of the ``-e`` variables (their values may be secret: never stored as such)."""
    return hashlib.sha256(json.dumps(extra_vars, sort_keys=True, default=str).encode()).hexdigest()


def bake_labels(*, roles: Mapping[str, Path], playbook: Path | None, playbook_label: str | None,
                extra_vars: Mapping[str, Any], base: str | None = None, base_id: str | None = None,
                created: str | None = None) -> dict[str, str]:
    """The labels of one bake. ``roles`` maps applied role names to their directories."""
    labels = {
        f"{PREFIX}.roles": ",".join(roles),
        f"{PREFIX}.roles.sha256": tree_sha256(roles.values()),
        f"{PREFIX}.vars.sha256": vars_sha256(extra_vars),
        "fleet.version": __version__,
        CREATED: created or rfc3339(),
    }
    if playbook is not None:
        labels[f"{PREFIX}.playbook"] = playbook_label or str(playbook)
        labels[f"{PREFIX}.playbook.sha256"] = file_sha256(playbook)
    if base:
        labels[f"{PREFIX}.from"] = base
        labels[BASE_NAME] = base
    if base_id:
        labels[f"{PREFIX}.from.id"] = base_id  # the image ID (a manifest digest may not exist locally)
    return labels
