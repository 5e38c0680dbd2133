"""Which module or action a task entry names: the key that is not a task keyword, or
``action:``, checked against the installed modules with a did-you-mean for typos."""

from __future__ import annotations

import difflib
import string
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from fleet.errors import InputError, Location
from fleet.playbook.keywords import as_mapping, as_str, collection_loop, is_template, where
from fleet.playbook.kv import module_args
from fleet.registry import MODULE_ALIASES, short_name

#: Actions the controller runs itself; always known, whatever modules exist.
CONTROLLER_ACTIONS = frozenset({
    "debug", "assert", "fail", "set_fact", "meta", "include_tasks", "import_tasks",
    "include_role", "import_role", "include_vars", "validate_argument_spec", "pause", "raw",
    "group_by", "add_host", "wait_for_connection", "reboot",
})


def closest(name: str, candidates: Iterable[str]) -> str | None:
    """The candidate a typo most likely meant (``linefile`` -> ``lineinfile``), or None."""
    close = difflib.get_close_matches(short_name(name), sorted(set(candidates)), n=1)
    return close[0] if close else None


def _edits(word: str) -> set[str]:
    """Every string one edit away from ``word`` (for did-you-mean on module names)."""
    letters = string.ascii_lowercase + string.digits + "_"
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    return ({a + b[1:] for a, b in splits if b}
            | {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
            | {a + c + b[1:] for a, b in splits if b for c in letters}
            | {a + c + b for a, b in splits for c in letters})


class ForeignModules(Protocol):
    """Modules fleet lacks and runs through Ansible's own code (``fleet.bridge.Bridge``)."""

    def exists(self, name: str, collections: Sequence[str] = (), role: Path | None = None) -> bool:
        """Does ``name`` (with the task's ``collections``, in role ``role``) lead to one?"""
        ...

    def unknown(self, name: str, collections: Sequence[str] = (), role: Path | None = None,
                location: Location | None = None) -> Exception:
        """The error for a task naming ``name`` when no module of fleet's has that name."""
        ...

    def action_group(self, group: str, location: Location | None = None) -> frozenset[str]:
        """The modules (FQCNs) of a collection's action group ``ns.coll.NAME``; InputError when
        there is no such group."""
        ...


class ModuleResolver:
    """Resolves task entries to ``(module, args)`` against ``module_exists``, then ``foreign``.

    A module of fleet's is named by its short name (``ansible.builtin.file`` is ``file``);
    one of Ansible's keeps the name the task wrote, for the bridge to resolve with the task's
    ``collections``."""

    def __init__(self, module_exists: Callable[[str], bool], task_keywords: frozenset[str],
                 block_keywords: frozenset[str], module_names: Callable[[], Iterable[str]] | None = None,
                 foreign: ForeignModules | None = None) -> None:
        self.module_exists = module_exists
        self.task_keywords = task_keywords
        self.block_keywords = block_keywords
        self.module_names = module_names  # every installed module, for did-you-mean
        self.foreign = foreign
        self._where: tuple[Sequence[str], Path | None] = ((), None)  # the entry being resolved

    def native(self, module: str) -> bool:
        """Is ``module`` one of fleet's own (a module or a controller action)?"""
        return self._native(module)

    def group_members(self, group: str, loc: Location) -> frozenset[str]:
        """The modules of action group ``group`` (fully qualified), for ``module_defaults``."""
        if self.foreign is None:
            raise InputError(f"module_defaults: cannot resolve group/{group}: action groups are defined by "
                             "collections, read through Ansible (ansible-core)", loc)
        return self.foreign.action_group(group, loc)

    def _native(self, module: str) -> bool:
        return short_name(module) in CONTROLLER_ACTIONS or self.module_exists(short_name(module))

    def _known(self, module: str) -> bool:
        if self._native(module):
            return True
        return self.foreign is not None and self.foreign.exists(module, *self._where)

    def _name(self, written: str) -> str:
        """The name a task's module is kept by (see the class doc)."""
        return short_name(written) if self._native(written) else written

    def _unknown(self, name: str, loc: Location, what: str = "module") -> Exception:
        close = difflib.get_close_matches(
            name, sorted(CONTROLLER_ACTIONS | self.task_keywords | self.block_keywords), n=1, cutoff=0.75)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        short = short_name(name)
        if not hint and short.isidentifier() and len(short) <= 40:
            found = sorted(c for c in _edits(short) if c.isidentifier() and self.module_exists(c))
            hint = f" (did you mean {found[0]!r}?)" if found else ""
        if not hint and self.foreign is not None and what == "module":
            return self.foreign.unknown(name, self._where[0], self._where[1], loc)
        if not hint and self.module_names is not None:  # further off: as `fleet modules NAME` suggests
            guess = closest(name, [*self.module_names(), *MODULE_ALIASES, *CONTROLLER_ACTIONS])
            hint = f" (did you mean {guess!r}?)" if guess else ""
        return InputError(f"unknown {what} {name!r}{hint}", loc)

    def resolve(self, entry: Mapping[str, Any], loc: Location, collections: Sequence[str] = (),
                role: Path | None = None) -> tuple[str, dict[str, Any]]:
        """The module a task entry names and its arguments; InputError naming the entry.
        ``collections`` and ``role`` are where the task is, for Ansible's modules."""
        self._where = (tuple(collections), role)
        candidates = [key for key in entry if key not in self.task_keywords and not collection_loop(key)]
        if "action" in entry:
            if candidates:
                raise InputError(f"task has both 'action' and the module {candidates[0]!r}", loc)
            return self._action(entry["action"], loc)
        if not candidates:
            raise InputError("task has no module or action (keys: "
                             + ", ".join(map(str, entry)) + ")", loc)
        unknown = [key for key in candidates if not self._known(key)]
        if len(candidates) > 1:
            if unknown:
                raise self._unknown(unknown[0], loc, "keyword or module")
            raise InputError(f"task has more than one module: {candidates[0]!r} and "
                             f"{candidates[1]!r}", loc)
        if unknown:
            raise self._unknown(unknown[0], loc)
        module = self._name(candidates[0])
        return module, module_args(module, entry[candidates[0]], loc)

    def _action(self, value: Any, loc: Location) -> tuple[str, dict[str, Any]]:
        if isinstance(value, Mapping):
            args = as_mapping(value, "action", loc)
            if args.get("module") is None:
                raise InputError("action given as a mapping needs 'module'", where(value, loc))
            written = as_str(args.pop("module"), "action module", loc)
            if is_template(written):  # rendered per host when the task runs, as Ansible does
                return written.strip(), args
            if not self._known(written):
                raise self._unknown(written, loc)
            return self._name(written), args
        text = as_str(value, "action", loc).strip()
        if not text:
            raise InputError("action is empty", loc)
        parts = _split_action(text)
        if is_template(parts[0]):  # ``action: "{{ ansible_facts.pkg_mgr }}"``: rendered per host at run time
            return parts[0], module_args(parts[0], parts[1] if len(parts) > 1 else None, loc)
        if not self._known(parts[0]):
            raise self._unknown(parts[0], loc)
        module = self._name(parts[0])
        return module, module_args(module, parts[1] if len(parts) > 1 else None, loc)


def _split_action(text: str) -> list[str]:
    """``action`` text as its module name and the rest; a name written as a template keeps its
    spaces (``{{ ansible_facts.pkg_mgr }} name=x``), as Ansible's split_args keeps them."""
    depth, index = 0, 0
    while index < len(text):
        pair = text[index:index + 2]
        if pair in ("{{", "{%", "{#"):
            depth, index = depth + 1, index + 2
            continue
        if pair in ("}}", "%}", "#}") and depth:
            depth, index = depth - 1, index + 2
            continue
        if text[index].isspace() and not depth:
            return [text[:index], text[index:].strip()]
        index += 1
    return [text]
