"""``module_defaults``: default arguments per module (or action group), as Ansible applies them.

Ansible keeps the keyword as a list of mappings, outermost level first (play, role, block, task);
they are merged key by key (a nearer level's ``shell:`` replaces an outer ``shell:`` whole), then
the task's arguments are built as: the defaults of every ``group/NAME`` holding the module, then
the module's own defaults, then the task's own arguments (``module_common.
get_action_args_with_defaults``). Keys are static; values are templated per host. A module is
named short, as ``ansible.builtin.X``/``ansible.legacy.X`` (all one), or by a collection's FQCN;
``group/NAME`` is a collection's ``action_groups`` entry (``meta/runtime.yml``), NAME without a
collection meaning ``ansible.builtin`` (which defines none).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from fleet.errors import InputError, Location

#: Prefixes that name ansible-core's own modules (``module_defaults`` keys resolve through them).
BUILTIN = ("ansible.builtin.", "ansible.legacy.")
#: Collections whose modules fleet implements under their short names (see fleet.registry).
NATIVE_COLLECTIONS = ("ansible.posix.", "community.general.", "fleet.")
#: Tasks module_defaults never apply to (Ansible's TaskExecutor does not run them as actions).
NOT_ACTIONS = frozenset({"include_tasks", "import_tasks", "include_role", "import_role", "meta"})


def normalize(name: str) -> str:
    """A module key as fleet compares it: ``ansible.builtin.X`` and ``ansible.legacy.X`` are ``X``."""
    for prefix in BUILTIN:
        if name.startswith(prefix):
            return name[len(prefix):]
    return name


def group_name(key: str) -> str | None:
    """``group/NAME``'s fully qualified group (``ns.coll.NAME``), or None for a module key."""
    if not key.startswith("group/"):
        return None
    name = key[len("group/"):]
    return name if name.count(".") >= 2 else f"ansible.builtin.{name}"


def merged(levels: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The levels merged as Ansible merges them: key by key, the nearest level winning."""
    out: dict[str, Any] = {}
    for level in levels:
        out.update(level)
    return out


def task_names(module: str, native: bool, collections: Sequence[str] = ()) -> frozenset[str]:
    """The normalized keys that name a task's module: fleet's module ``X`` answers to ``X`` and to
    the collections fleet implements it for; one of Ansible's to the name written and, for a
    short name, to the FQCN in each of the task's ``collections``."""
    if native:
        return frozenset({module, *(prefix + module for prefix in NATIVE_COLLECTIONS)})
    name = normalize(module)
    return frozenset({name, *(f"{c}.{name}" for c in collections if "." not in name)})


def applicable(defaults: Mapping[str, Any], names: frozenset[str],
               members: Callable[[str], frozenset[str]]) -> list[Any]:
    """The default values that apply to a module answering to ``names``, in the order they are
    laid under the task's arguments: each group holding it (in the keyword's order), then its
    own. ``members(group)``: the normalized module names of a fully qualified group."""
    values = []
    for key, value in defaults.items():
        group = group_name(key)
        if group is not None and names & members(group):
            values.append(value)
    own = [value for key, value in defaults.items() if key in names]
    return values + own[-1:]


def with_defaults(module: str, args: Mapping[str, Any], defaults: Mapping[str, Any], native: bool,
                  collections: Sequence[str], members: Callable[[str], Iterable[str]]) -> tuple[dict[str, Any], list[Any]]:
    """A task's arguments over its module's defaults known at load time, and the defaults given
    as templates (see :func:`fold`); ``members(group)``: a group's module FQCNs."""
    names = task_names(module, native, collections)
    return fold(applicable(defaults, names, lambda group: frozenset(normalize(n) for n in members(group))), args)


def fold(values: Sequence[Any], args: Mapping[str, Any]) -> tuple[dict[str, Any], list[Any]]:
    """``args`` over the default ``values`` when all are mappings (known at load time); else
    ``args`` as they are and every value, to be rendered and laid under them when the task runs
    (so that their order still decides)."""
    if all(isinstance(value, Mapping) for value in values):
        base: dict[str, Any] = {}
        for value in values:
            base.update(value)
        return {**base, **args}, []
    return dict(args), list(values)


def lay_under(rendered: Sequence[Any], args: Mapping[str, Any], loc: Location | None) -> dict[str, Any]:
    """The task's rendered ``args`` over rendered default values (later ones winning)."""
    out: dict[str, Any] = {}
    for value in rendered:
        if not isinstance(value, Mapping):
            raise InputError(f"module_defaults: a template gave {type(value).__name__}, not a mapping of "
                             "arguments", loc)
        out.update(value)
    out.update(args)
    return out
