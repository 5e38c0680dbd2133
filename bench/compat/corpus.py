"""The corpus: which roles and integration targets the harness runs, from ``corpus.toml``.

Each ``[[item]]`` names its source by repository, commit and path; the sources themselves are
downloaded outside the repository (:mod:`compat.sources`). Fields:

* ``name`` -- unique; also the role's name in the generated playbook unless ``role`` is given
* ``repo`` -- ``owner/name`` on GitHub; ``commit`` -- 40 hex digits
* ``path`` -- the role's or target's directory inside the repository (``""`` = its root)
* ``kind`` -- ``target`` (ansible-test layout: ``roles: [target]`` with its ``setup_*``
  dependencies beside it, ``aliases`` read) or ``role``
* ``ansible`` -- ``2.18`` or ``current`` (which ansible-playbook venv)
* ``role`` -- the role's name in the playbook (default ``name``, or the target's directory name)
* ``collection`` -- ``namespace.name`` when the repository is a collection: it is installed for
  ansible-playbook (``ANSIBLE_COLLECTIONS_PATH``) so its modules and roles resolve
* ``become`` -- run the play with ``become: true`` (default false; the hosts log in as root)
* ``gather_facts`` -- default true
* ``vars`` -- a table of play variables; ``notes`` -- free text shown in RESULTS.md
* ``as_role`` -- a target with a ``runme.sh`` is run through its ``tasks/main.yml`` anyway
  (ansible-test would run the script; without this it is skipped)
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

KINDS = ("target", "role")
ANSIBLE_VERSIONS = ("2.18", "current")
COMMIT = re.compile(r"^[0-9a-f]{40}$")
REPO = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*$")
FIELDS = {"name", "repo", "commit", "path", "kind", "ansible", "role", "collection", "become",
          "gather_facts", "vars", "notes", "as_role"}


class CorpusError(ValueError):
    """A corpus file that cannot be used; the message names the item."""


@dataclass(frozen=True)
class Item:
    """One role or integration target to run with both tools."""

    name: str
    repo: str
    commit: str
    path: str
    kind: str
    ansible: str
    role: str = ""
    collection: str = ""
    become: bool = False
    gather_facts: bool = True
    vars: dict[str, Any] = field(default_factory=dict)
    notes: str = ""
    as_role: bool = False

    @property
    def role_name(self) -> str:
        """The name the generated playbook gives the role."""
        if self.role:
            return self.role
        return Path(self.path).name if self.kind == "target" and self.path else self.name

    @property
    def roles_root(self) -> str:
        """The directory (in the repository) that is the roles path: a target's siblings are
        its ``setup_*`` dependencies; a role alone gets a roles path of its own."""
        return str(Path(self.path).parent) if self.kind == "target" else ""


def _item(raw: dict[str, Any], where: str) -> Item:
    unknown = set(raw) - FIELDS
    if unknown:
        raise CorpusError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    for required in ("name", "repo", "commit", "kind", "ansible"):
        if not isinstance(raw.get(required), str) or not raw[required]:
            raise CorpusError(f"{where}: '{required}' is required (a non-empty string)")
    if not REPO.match(raw["repo"]):
        raise CorpusError(f"{where}: repo {raw['repo']!r} is not owner/name")
    if not COMMIT.match(raw["commit"]):
        raise CorpusError(f"{where}: commit {raw['commit']!r} is not 40 lowercase hex digits")
    if raw["kind"] not in KINDS:
        raise CorpusError(f"{where}: kind {raw['kind']!r} is not one of {', '.join(KINDS)}")
    if str(raw["ansible"]) not in ANSIBLE_VERSIONS:
        raise CorpusError(f"{where}: ansible {raw['ansible']!r} is not one of {', '.join(ANSIBLE_VERSIONS)}")
    path = str(raw.get("path", "")).strip("/")
    if ".." in Path(path).parts:
        raise CorpusError(f"{where}: path {path!r} leaves the repository")
    if raw["kind"] == "target" and not path:
        raise CorpusError(f"{where}: a target needs its directory as path")
    if not isinstance(raw.get("vars", {}), dict):
        raise CorpusError(f"{where}: vars must be a table")
    return Item(name=raw["name"], repo=raw["repo"], commit=raw["commit"], path=path, kind=raw["kind"],
                ansible=str(raw["ansible"]), role=str(raw.get("role", "")),
                collection=str(raw.get("collection", "")), become=bool(raw.get("become", False)),
                gather_facts=bool(raw.get("gather_facts", True)), vars=dict(raw.get("vars", {})),
                notes=str(raw.get("notes", "")), as_role=bool(raw.get("as_role", False)))


def load(path: Path) -> list[Item]:
    """The items of a corpus file, in its order; CorpusError on any bad or duplicate item."""
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CorpusError(f"{path}: {exc}") from exc
    items = []
    seen: set[str] = set()
    for index, raw in enumerate(data.get("item", [])):
        item = _item(raw, f"{path}: item {index + 1} ({raw.get('name', '?')})")
        if item.name in seen:
            raise CorpusError(f"{path}: item name {item.name!r} appears twice")
        seen.add(item.name)
        items.append(item)
    return items


def select(items: list[Item], only: list[str] | None = None, kind: str | None = None) -> list[Item]:
    """Items whose name is in ``only`` (all when empty) and of ``kind`` (all when None)."""
    chosen = [i for i in items if (not only or i.name in only) and (kind is None or i.kind == kind)]
    missing = set(only or ()) - {i.name for i in items}
    if missing:
        raise CorpusError(f"not in the corpus: {', '.join(sorted(missing))}")
    return chosen
