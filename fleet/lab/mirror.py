"""Which Debian mirror to debootstrap from: ``FLEET_LAB_MIRROR``, else the one apt already uses."""

from __future__ import annotations

import os
import re
from pathlib import Path

from fleet.errors import FleetError

SOURCES = (Path("/etc/apt/sources.list"), Path("/etc/apt/sources.list.d"))


def _candidates() -> list[str]:
    """URIs of Debian main archives in apt's sources, in file order."""
    uris: list[str] = []
    files: list[Path] = []
    for source in SOURCES:
        if source.is_file():
            files.append(source)
        elif source.is_dir():
            files.extend(sorted(p for p in source.iterdir() if p.suffix in (".list", ".sources")))
    for path in files:
        try:
            text = path.read_text(errors="replace")
        except OSError:
            continue
        if path.suffix == ".sources":
            for stanza in re.split(r"\n\s*\n", text):
                if re.search(r"^Enabled:\s*no", stanza, re.M | re.I):
                    continue
                match = re.search(r"^URIs:\s*(.+)$", stanza, re.M)
                suites = re.search(r"^Suites:\s*(.+)$", stanza, re.M)
                if match and suites and "-security" not in suites.group(1).split()[0]:
                    uris.extend(match.group(1).split())
        else:
            for line in text.splitlines():
                fields = line.split("#", 1)[0].split()
                if len(fields) >= 3 and fields[0] == "deb":
                    uri = next(f for f in fields[1:] if not f.startswith("["))
                    uris.append(uri)
    return [u for u in uris if "security" not in u]


def debian_mirror() -> str:
    """The mirror URL for debootstrap; FleetError if none can be found."""
    explicit = os.environ.get("FLEET_LAB_MIRROR")
    if explicit:
        return explicit
    for uri in _candidates():
        if uri.startswith(("http://", "https://", "file:")):
            return uri.rstrip("/")
    raise FleetError("no Debian mirror found in /etc/apt/sources.list(.d): set FLEET_LAB_MIRROR")
