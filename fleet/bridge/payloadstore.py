"""Module payloads kept on the controller's disk between runs.

Building a payload is ansible-core's ``recursive_finder`` walking the module's imports: about
0.2-0.4 s of controller CPU per module, in every run. The store keeps each zip with the list of
files it was made of (the module and every ``module_utils`` file, with size and mtime) and the
paths that would have shadowed them had they existed (a ``module_utils`` folder earlier in
Ansible's search order). A kept zip is used only when all of that still holds; anything else
(a file edited, added earlier in the search order, another ansible-core, another fleet) builds
it again. A zip with a member fleet cannot trace to one file (a redirect shim ansible-core
generates) is not kept. The folder is the user's own (0700); one it does not own, or that
others may write, is not used: what is in it runs on the hosts.
"""

from __future__ import annotations

import hashlib
import importlib
import io
import json
import os
import zipfile
from pathlib import Path
from typing import Any

from fleet.bridge.cachedir import cache_root, private_folder, write_whole
from fleet.bridge.core import AnsibleCore
from fleet.bridge.payload import Payload
from fleet.bridge.resolve import Resolution

LIMIT = 256 * 1024 * 1024  # bytes of zips kept; the least recently used go first
GENERATED = ""  # the source of a member ansible-core makes up (an empty package __init__)
# Package files ansible-core writes itself, the same for every payload of one release
MADE_BY_CORE = ("ansible/__init__.py", "ansible/module_utils/__init__.py")


def default_folder() -> Path:
    """``ansible-payloads`` in fleet's cache folder (:func:`fleet.bridge.cachedir.cache_root`)."""
    return cache_root() / "ansible-payloads"


class PayloadStore:
    """Payloads on disk, each valid while the files it was built from are unchanged."""

    def __init__(self, core: AnsibleCore, folder: Path | None = None, limit: int = LIMIT) -> None:
        self.core = core
        self.folder = folder or default_folder()
        self.limit = limit
        self._usable: bool | None = None
        self._fingerprint = ""

    def usable(self) -> bool:
        """The folder exists (made 0700 if not) and is private to this user."""
        if self._usable is None:
            self._usable = private_folder(self.folder)
        return self._usable

    def load(self, module: Resolution) -> Payload | None:
        """The kept payload of ``module`` if everything it was built from is unchanged."""
        if not self.usable():
            return None
        base = self.folder / self._key(module)
        try:
            meta = json.loads(base.with_suffix(".json").read_text("utf-8"))
            if not all(_unchanged(entry) for entry in meta["sources"]):
                return None
            data = base.with_suffix(".zip").read_bytes()
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if hashlib.sha256(data).hexdigest() != meta.get("sha"):
            return None
        os.utime(base.with_suffix(".json"))  # recently used: kept longest
        return Payload(fqcn=module.fqcn, zip=data, sha=meta["sha"], module_fqn=meta["module_fqn"],
                       style=meta["style"], profile=meta["profile"], extensions=meta["extensions"], core=meta["core"])

    def save(self, module: Resolution, payload: Payload) -> bool:
        """Keep ``payload`` when every member traces to a file; True when kept."""
        if not self.usable():
            return False
        sources = self._sources(module, payload)
        if sources is None:
            return False
        meta = {"sha": payload.sha, "module_fqn": payload.module_fqn, "style": payload.style,
                "profile": payload.profile, "extensions": payload.extensions, "core": payload.core,
                "fqcn": module.fqcn, "path": module.path, "sources": sources}
        base = self.folder / self._key(module)
        try:
            write_whole(base.with_suffix(".zip"), payload.zip)
            write_whole(base.with_suffix(".json"), json.dumps(meta).encode("utf-8"))
        except OSError:
            return False
        self._prune()
        return True

    # -- what a payload is made of -----------------------------------------------------------------
    def _key(self, module: Resolution) -> str:
        if not self._fingerprint:
            ansible = Path(self.core.module("ansible").__file__ or "").parent
            own = Path(__file__).with_name("payload.py").read_bytes()
            self._fingerprint = json.dumps([self.core.version, str(ansible), hashlib.sha256(own).hexdigest()])
        text = json.dumps([self._fingerprint, module.fqcn, module.path, self._module_utils_paths()])
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:40]

    def _module_utils_paths(self) -> list[str]:
        """Where ansible-core looks for ``ansible.module_utils.*``, in its order."""
        loader = self.core.module("ansible.plugins.loader").module_utils_loader
        paths = [p for p in loader._get_paths(subdirs=False) if os.path.isdir(p)]
        paths.append(str(Path(self.core.module("ansible").__file__ or "").parent / "module_utils"))
        return list(dict.fromkeys(os.path.realpath(p) for p in paths))

    def _candidates(self, member: str, module: Resolution, payload: Payload) -> list[str]:
        """The files ``member`` of the zip may come from, in ansible-core's search order."""
        parts = member.split("/")
        if member in MADE_BY_CORE:
            return []
        if member == payload.module_fqn.replace(".", "/") + ".py":
            return [module.path]
        if parts[:2] == ["ansible", "module_utils"] and len(parts) > 2:
            return [os.path.join(folder, *parts[2:]) for folder in self._module_utils_paths()]
        if parts[0] == "ansible":
            return [os.path.join(Path(self.core.module("ansible").__file__ or "").parent, *parts[1:])]
        if parts[0] == "ansible_collections" and len(parts) > 3:
            try:
                package = importlib.import_module(".".join(parts[:3]))
            except ImportError:
                return []
            return [os.path.join(os.path.dirname(package.__file__ or ""), *parts[3:])]
        return []

    def _sources(self, module: Resolution, payload: Payload) -> list[dict[str, Any]] | None:
        """Each member's file (or that it was generated) and the files that would shadow it;
        None when a member's content is not its file's."""
        archive = zipfile.ZipFile(io.BytesIO(payload.zip))
        sources: list[dict[str, Any]] = []
        for member in archive.namelist():
            content = archive.read(member)
            candidates = self._candidates(member, module, payload)
            found = next((i for i, path in enumerate(candidates) if os.path.isfile(path)), None)
            if found is None:
                if content.strip() and member not in MADE_BY_CORE:
                    return None
                sources.append({"path": GENERATED, "absent": candidates})
                continue
            path = candidates[found]
            try:
                with open(path, "rb") as handle:
                    if handle.read() != content:
                        return None
                    info = os.fstat(handle.fileno())
            except OSError:
                return None
            sources.append({"path": path, "size": info.st_size, "mtime": info.st_mtime_ns,
                            "absent": candidates[:found]})
        return sources

    def _prune(self) -> None:
        zips = sorted(self.folder.glob("*.zip"), key=_used, reverse=True)
        total = 0
        for newest, path in enumerate(zips):
            try:
                total += path.stat().st_size
            except OSError:
                continue
            if total > self.limit and newest:
                path.unlink(missing_ok=True)
                path.with_suffix(".json").unlink(missing_ok=True)


def _unchanged(entry: dict[str, Any]) -> bool:
    """The file is as recorded and nothing earlier in the search order has appeared."""
    if any(os.path.exists(path) for path in entry.get("absent") or ()):
        return False
    if entry["path"] == GENERATED:
        return True
    try:
        info = os.stat(entry["path"])
    except OSError:
        return False
    return info.st_size == entry["size"] and info.st_mtime_ns == entry["mtime"]


def _used(path: Path) -> float:
    try:
        return path.with_suffix(".json").stat().st_mtime
    except OSError:
        return 0.0
