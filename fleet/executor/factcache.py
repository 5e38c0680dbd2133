"""Facts kept between runs (``fact_caching = jsonfile``) and Ansible's ``gathering`` policy.

The files are Ansible's: one JSON file per host in ``fact_caching_connection``, named
``<fact_caching_prefix><host>``, holding the host's facts by their ``ansible_`` names plus
``_ansible_facts_gathered`` and the ``cacheable`` set_fact values (ansible-core ≤ 2.18). ansible-core
2.19 writes ``<prefix>s1_<host>`` with the same data as a JSON string under ``__payload__``
(values may carry its tags); fleet reads both, the newer first, and writes both, so either
Ansible reads what fleet wrote. Files are written 0600 (atomically), the directory is made 0700.
A file older than ``fact_caching_timeout`` seconds (0: never expires) is ignored, as in Ansible.
Facts read from the cache are host data, as freshly gathered ones (``HostRuntime.update_facts``).
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fleet.errors import FleetError

GATHERED = "_ansible_facts_gathered"
PAYLOAD = "__payload__"
SCHEMA_PREFIX = "s1_"  # ansible-core 2.19's cache schema id


@dataclass(frozen=True)
class FactCache:
    """A ``jsonfile`` fact cache directory."""

    directory: Path
    timeout: int = 86400
    prefix: str = ""

    def _files(self, host: str) -> tuple[Path, Path]:
        return (self.directory / f"{self.prefix}{host}", self.directory / f"{self.prefix}{SCHEMA_PREFIX}{host}")

    def load(self, host: str) -> dict[str, Any] | None:
        """The cached facts of ``host`` (None: none, or expired, or unreadable)."""
        found = []
        for path in self._files(host):
            try:
                found.append((path.stat().st_mtime, path))
            except OSError:
                continue
        for mtime, path in sorted(found, reverse=True):
            if self.timeout and time.time() - mtime > self.timeout:
                continue
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                if isinstance(data, dict) and isinstance(data.get(PAYLOAD), str):
                    data = _untag(json.loads(data[PAYLOAD]))
            except (OSError, ValueError):
                continue
            if isinstance(data, dict):
                return data
        return None

    def save(self, host: str, facts: dict[str, Any]) -> None:
        """Write ``host``'s facts in both of Ansible's layouts (0600, atomically)."""
        try:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise FleetError(f"fact cache {self.directory}: {exc.strerror or exc}") from None
        plain = json.dumps(facts, sort_keys=True, indent=4, default=str)
        payload = json.dumps({PAYLOAD: json.dumps(facts, default=str)})
        for path, text in zip(self._files(host), (plain, payload), strict=True):
            _write_private(path, text)

    def delete(self, host: str) -> None:
        """Forget ``host`` (``meta: clear_facts``)."""
        for path in self._files(host):
            path.unlink(missing_ok=True)


def _write_private(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=".fleet-", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise FleetError(f"fact cache {path}: {exc.strerror or exc}") from None


def _untag(value: Any) -> Any:
    """ansible-core 2.19's tagged values (``{"value": ..., "tags": [...], "__ansible_type": ...}``)."""
    if isinstance(value, dict):
        if "__ansible_type" in value:
            return _untag(value.get("value"))
        return {k: _untag(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_untag(v) for v in value]
    return value


def cache_from_config(config: Any) -> FactCache | None:
    """The cache an ansible.cfg asks for (``fact_caching = jsonfile``), else None (memory)."""
    plugin = str(config.get("fact_caching") or "memory").rsplit(".", 1)[-1]
    if plugin == "memory":
        return None
    if plugin != "jsonfile":
        raise FleetError(f"fact_caching = {config.get('fact_caching')} ({config.origin('fact_caching')}): "
                         f"fleet supports the jsonfile and memory caches")
    directory = config.get("fact_caching_connection")
    if not directory:
        raise FleetError(f"fact_caching = jsonfile needs fact_caching_connection (a directory) "
                         f"({config.origin('fact_caching')})")
    return FactCache(Path(directory), int(config.get("fact_caching_timeout")), config.get("fact_caching_prefix") or "")


def should_gather(play_setting: bool | None, gathering: str, gathered_before: bool) -> bool:
    """Ansible's rule: ``implicit`` gathers unless the play says ``gather_facts: false``;
    ``explicit`` only when it says ``true``; ``smart`` as implicit, but not for a host whose
    facts were gathered already (this run, or a cache that has not expired)."""
    if gathering == "explicit":
        return play_setting is True
    if play_setting is False:
        return False
    return not (gathering == "smart" and gathered_before)


def to_cache(facts: dict[str, Any], cacheable: dict[str, Any], gathered: bool) -> dict[str, Any]:
    """What a host's cache file holds: its facts (``ansible_`` names), cacheable set_facts."""
    data: dict[str, Any] = {k: v for k, v in facts.items() if k != "ansible_facts"}
    data.update(cacheable)
    if gathered:
        data[GATHERED] = True
    return data


def restore(runtime: Any, data: dict[str, Any]) -> None:
    """Put cached facts back on a host's runtime (:class:`~fleet.executor.context.HostRuntime`),
    as host data: ``ansible_*`` keys as gathered facts, other keys (cacheable set_facts) by their
    own names, both also under ``ansible_facts``."""
    from fleet.templating import wrap

    runtime.gathered = bool(data.get(GATHERED)) or runtime.gathered
    facts = {k: v for k, v in data.items() if k.startswith("ansible_") and k != "ansible_facts"}
    runtime.update_facts(facts)
    for key, value in data.items():
        if not key.startswith(("ansible_", "_ansible_")):
            runtime.facts[key] = wrap(value)
            runtime.facts["ansible_facts"][key] = runtime.facts[key]
            runtime.cacheable[key] = value
