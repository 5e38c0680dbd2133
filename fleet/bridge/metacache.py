"""Collections' routing metadata (``meta/runtime.yml``, ansible-core's own
``ansible_builtin_runtime.yml``) parsed once per content, not in every run.

ansible-core reads it through ``_collection_finder._meta_yml_to_dict``, a hook it documents as
replaceable ("to allow other implementations to cache the output"). Parsing ansible.builtin's
routing alone takes ~80 ms of every run; the parsed dictionary kept with ``marshal`` (plain
strings, lists and dicts: BaseLoader makes every scalar a string) loads in ~2 ms. The key is
the content's sha256 and the ansible-core release.
"""

from __future__ import annotations

import contextlib
import hashlib
import marshal
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from fleet.bridge.cachedir import cache_root, private_folder, write_whole
from fleet.bridge.core import AnsibleCore

FINDER = "ansible.utils.collection_loader._collection_finder"


def install(core: AnsibleCore, folder: Path | None = None) -> bool:
    """Put the caching reader in ansible-core's hook (once per process); True when it is there."""
    finder = core.module(FINDER)
    original = getattr(finder, "_meta_yml_to_dict", None)
    if original is None:
        return False
    if getattr(original, "fleet_cached", False):
        return True
    where = folder or cache_root() / "collection-meta"
    if not private_folder(where):
        return False
    setattr(finder, "_meta_yml_to_dict", cached(original, where, core.version))  # noqa: B010 - ansible-core's hook
    return True


def cached(parse: Callable[[Any, Any], Mapping[str, Any]], folder: Path, version: str) -> Callable[[Any, Any], Any]:
    """``parse`` with its results kept in ``folder`` by content."""

    def meta_yml_to_dict(data: bytes | str, content_id: Any) -> Any:
        raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
        path = folder / hashlib.sha256(version.encode() + b"\0" + raw).hexdigest()[:40]
        try:
            kept = marshal.loads(path.read_bytes())
        except (OSError, EOFError, ValueError, TypeError):
            kept = None
        if isinstance(kept, dict):
            return kept
        result = parse(data, content_id)
        with contextlib.suppress(OSError, ValueError):  # ValueError: marshal cannot keep it
            write_whole(path, marshal.dumps(dict(result)))
        return result

    meta_yml_to_dict.fleet_cached = True  # type: ignore[attr-defined]
    meta_yml_to_dict.__wrapped__ = parse  # type: ignore[attr-defined]
    return meta_yml_to_dict
