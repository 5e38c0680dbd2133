"""Checking and normalising playbook keyword values; every bad value is an InputError at file:line."""

from __future__ import annotations

import contextlib
import difflib
import math
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from fleet.errors import InputError, Location
from fleet.playbook.models import LoopControl
from fleet.playbook.moduledefaults import normalize
from fleet.yamlsrc import location_of

_TRUE = frozenset({"yes", "y", "true", "on", "1"})
_FALSE = frozenset({"no", "n", "false", "off", "0"})


def is_template(value: Any) -> bool:
    """Whether ``value`` is a string holding a Jinja2 expression or statement."""
    return isinstance(value, str) and ("{{" in value or "{%" in value)


def suggest(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest choice, or an empty string."""
    close = difflib.get_close_matches(str(word), sorted(set(choices)), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def where(value: Any, default: Location | None) -> Location | None:
    """The location of a loaded mapping/list value, else ``default``."""
    return location_of(value, default)


def type_name(value: Any) -> str:
    """A YAML-ish name for the type of ``value`` in messages."""
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return f"the boolean {value}"
    if isinstance(value, int | float):
        return f"the number {value}"
    return f"the string {value!r}"


def as_mapping(value: Any, what: str, loc: Location | None) -> dict[str, Any]:
    """A mapping with string keys (None → ``{}``); anything else is an error."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InputError(f"{what} must be a mapping, got {type_name(value)}", where(value, loc))
    for key in value:
        if not isinstance(key, str):
            raise InputError(f"{what}: key {key!r} must be a string", where(value, loc))
    return dict(value)


def as_list(value: Any, what: str, loc: Location | None) -> list[Any]:
    """A list (None → ``[]``); anything else is an error."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise InputError(f"{what} must be a list, got {type_name(value)}", where(value, loc))
    return list(value)


def as_bool(value: Any, what: str, loc: Location | None) -> bool:
    """Ansible's booleans: true/false, yes/no, on/off, 1/0."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise InputError(f"{what} must be a boolean (true/false, yes/no), got {type_name(value)}",
                     where(value, loc))


def as_bool_or_template(value: Any, what: str, loc: Location | None) -> bool | str:
    """A boolean, or a template string rendered per host by the executor."""
    if is_template(value):
        return str(value)
    return as_bool(value, what, loc)


def as_str(value: Any, what: str, loc: Location | None) -> str:
    """A string; numbers are accepted and converted as YAML users expect."""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise InputError(f"{what} must be a string, got {type_name(value)}", where(value, loc))


def as_str_list(value: Any, what: str, loc: Location | None) -> list[str]:
    """A string or a list of strings (``notify``, ``listen``)."""
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    return [as_str(item, what, where(value, loc)) for item in items]


def as_conditions(value: Any, what: str, loc: Location | None) -> list[Any]:
    """``when``-like keywords: a string, a boolean or a list of them, as a list."""
    items = value if isinstance(value, list) else [value]
    for item in items:
        if isinstance(item, Mapping | list) or item is None:
            raise InputError(f"{what} must be a condition or a list of conditions, "
                             f"got {type_name(item)}", where(value, loc))
    return list(items)


def as_tags(value: Any, loc: Location | None) -> frozenset[str]:
    """``tags``: a comma-separated string or a list of strings."""
    if value is None:
        return frozenset()
    if isinstance(value, list):
        return frozenset(as_str(item, "each tag", where(value, loc)) for item in value)
    text = as_str(value, "tags", loc)
    return frozenset(part.strip() for part in text.split(",") if part.strip())


def as_number(value: Any, what: str, loc: Location | None, *, template_ok: bool = True) -> Any:
    """An int/float, a numeric string, or (if allowed) a template string. Not NaN or infinite
    (``.inf``, ``"nan"``, a number too big for a float): the executor computes with it."""
    number: Any = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str):
        if template_ok and is_template(value):
            return value
        try:
            number = int(value)
        except ValueError:
            with contextlib.suppress(ValueError):
                number = float(value)
    if number is None:
        raise InputError(f"{what} must be a number, got {type_name(value)}", where(value, loc))
    if isinstance(number, float) and not math.isfinite(number) or abs(number) > _LARGEST:
        shown = value if not isinstance(value, str) or len(value) < 40 else value[:40] + "..."
        raise InputError(f"{what} must be a finite number, got {shown!r}", where(value, loc))
    return number


_LARGEST = 10**15  # far past any count, delay or percentage; int() of it still fits a float


def as_environment(value: Any, loc: Location | None) -> tuple[Any, ...]:
    """``environment``: a mapping, a template that renders to one, or a list of those, kept in
    order (later entries win, keys are merged per host when the task runs, as Ansible does).
    Anything else (a number, a plain string, a list of strings) is an error naming file:line."""
    items = value if isinstance(value, list) else [value]
    entries: list[Any] = []
    for item in items:
        if item is None:
            continue
        if isinstance(item, str) and is_template(item):
            entries.append(item)
            continue
        if not isinstance(item, Mapping):
            raise InputError(f"environment must be a mapping of variable names to values (or a "
                             f"template giving one), got {type_name(item)}", where(item, where(value, loc)))
        mapping = as_mapping(item, "environment", where(item, where(value, loc)))
        for name in mapping:
            if is_template(name) or "=" in name or "\0" in name or not name:
                raise InputError(f"environment: {name!r} is not a variable name (names are not "
                                 f"templated)", where(item, where(value, loc)))
        if mapping:
            entries.append(mapping)
    return tuple(entries)


def as_module_defaults(value: Any, loc: Location | None) -> tuple[dict[str, Any], ...]:
    """The keyword's levels: a mapping or a list of mappings whose keys are static module or
    ``group/NAME`` names; each value a mapping of arguments or a template giving one."""
    if value is None:
        return ()
    levels: list[dict[str, Any]] = []
    for entry in value if isinstance(value, list) else [value]:
        here = where(entry, where(value, loc))
        if not isinstance(entry, Mapping):
            raise InputError("module_defaults must be a mapping (or a list of mappings) of module or group/NAME "
                             f"names to their default arguments, got {type_name(entry)}", here)
        level: dict[str, Any] = {}
        for key, args in entry.items():
            if not isinstance(key, str) or not key or is_template(key):
                raise InputError(f"module_defaults: {key!r} is not a module or group name (the keys are static; "
                                 "only the values may be templates)", here)
            if args is not None and not isinstance(args, Mapping) and not is_template(args):
                raise InputError(f"module_defaults: the defaults of {key} must be a mapping of arguments (or a "
                                 f"template giving one), got {type_name(args)}", here)
            level[key if key.startswith("group/") else normalize(key)] = {} if args is None else args
        levels.append(level)
    return tuple(levels)


def check_become_method(value: Any, loc: Location | None) -> None:
    """Only ``sudo`` is supported as a become method."""
    method = as_str(value, "become_method", loc)
    if method != "sudo":
        raise InputError(f"become_method {method!r} is not supported (only 'sudo')", loc)


def no_template(value: Any, what: str, loc: Location | None, hint: str = "") -> str:
    """A plain string that must be known at load time (file names of imports, role names)."""
    text = as_str(value, what, loc)
    if is_template(text):
        raise InputError(f"{what} cannot be a template ({text!r}){hint}", loc)
    return text


#: Keywords a block, role, import or play passes down to the tasks under it (besides vars).
INHERITED_SCALARS = ("become", "become_user", "remote_user", "ignore_errors", "no_log", "check_mode", "diff",
                     "any_errors_fatal", "delegate_to", "delegate_facts", "run_once", "throttle", "notify", "timeout")


#: Keywords a block sets for its tasks; ``apply:`` of include_tasks/include_role takes them too.
APPLY_KEYWORDS = frozenset({
    "when", "tags", "become", "become_user", "become_method", "ignore_errors", "no_log", "vars", "check_mode",
    "diff", "any_errors_fatal", "environment", "collections", "delegate_to", "delegate_facts", "run_once",
    "throttle", "notify", "timeout", "module_defaults", "remote_user",
})


def parse_apply(value: Any, module: str, loc: Location | None) -> dict[str, Any]:
    """``apply:`` of include_tasks/include_role: block keywords for every included task (Ansible
    makes them the included tasks' parent block), checked and normalised."""
    if not isinstance(value, Mapping):
        raise InputError(f"{module}: apply must be a mapping of block keywords, got {type(value).__name__}", loc)
    for key in value:
        if key not in APPLY_KEYWORDS:
            raise InputError(f"{module}: {key!r} is not a keyword apply can set{suggest(str(key), APPLY_KEYWORDS)}",
                             loc)
    return parse_keywords(value, loc)


def parse_keywords(data: Mapping[str, Any], loc: Location | None) -> dict[str, Any]:
    """The inheritable keywords present in ``data`` (when, tags, become..., environment, vars),
    checked and normalised. A keyword given as empty (``when:``) counts as absent."""
    out: dict[str, Any] = {}
    present = {key: value for key, value in data.items() if value is not None}
    if "when" in present:
        out["when"] = as_conditions(present["when"], "when", loc)
    if "tags" in present:
        out["tags"] = as_tags(present["tags"], loc)
    if "become_method" in present:
        check_become_method(present["become_method"], loc)
    for key in ("check_mode", "diff", "any_errors_fatal", "delegate_facts", "run_once"):
        if key in present:
            out[key] = as_bool(present[key], key, loc)
    for key in ("become", "ignore_errors", "no_log"):  # become: "{{ x }}" is rendered per host
        if key in present:
            out[key] = as_bool_or_template(present[key], key, loc)
    if "become_user" in present:
        out["become_user"] = as_str(present["become_user"], "become_user", loc)
    if "remote_user" in present:  # the login user (a template rendered per host); ansible_user wins
        out["remote_user"] = as_str(present["remote_user"], "remote_user", loc)
    if "delegate_to" in present:  # a host name, or a template rendered per host (and item)
        out["delegate_to"] = as_str(present["delegate_to"], "delegate_to", loc)
    if "environment" in present:
        out["environment"] = as_environment(present["environment"], loc)
    if "notify" in present:  # a block's: its tasks without their own notify notify these (Ansible)
        out["notify"] = as_str_list(present["notify"], "notify", loc)
    if "throttle" in present:  # how many hosts run the task at once (0: forks decide), or a template
        out["throttle"] = as_number(present["throttle"], "throttle", loc)
    if "timeout" in present:  # seconds the task's action may take (0: no limit), or a template
        out["timeout"] = as_number(present["timeout"], "timeout", loc)
    if "module_defaults" in present:
        out["module_defaults"] = as_module_defaults(present["module_defaults"], loc)
    if "vars" in present:
        out["vars"] = as_mapping(present["vars"], "vars", loc)
    if "collections" in present:
        out["collections"] = as_collections(present["collections"], loc)
    return out


def as_collections(value: Any, loc: Location | None) -> tuple[str, ...]:
    """``collections``: the collections whose modules short names may name (``ns.coll``)."""
    names = value if isinstance(value, list) else [value]
    out = []
    for name in names:
        text = as_str(name, "collections entry", loc)
        if text.count(".") != 1 or not all(part.isidentifier() for part in text.split(".")):
            raise InputError(f"collections: {text!r} is not a collection name (namespace.collection)", loc)
        out.append(text)
    return tuple(out)


#: Loop keywords and the ``Task.loop_kind`` each gives.
LOOP_KINDS = {"loop": "loop", "with_items": "items", "with_list": "list", "with_dict": "dict",
              "with_fileglob": "fileglob",
              # every other with_<lookup>: the executor runs lookup <lookup> over the rendered terms
              **{f"with_{name}": name for name in (
                  "first_found", "together", "sequence", "subelements", "nested", "cartesian", "flattened",
                  "indexed_items", "lines", "inventory_hostnames", "random_choice", "file", "template", "env",
                  "varnames", "vars", "pipe", "password", "ini", "csvfile")}}
LOOP_CONTROL_KEYS = frozenset({"loop_var", "index_var", "label", "pause", "extended"})


def optional_flag(entry: Mapping[str, Any], key: str, loc: Location) -> bool:
    """``entry[key]`` as a boolean, False when absent."""
    return as_bool(entry[key], key, loc) if entry.get(key) is not None else False


def optional_conditions(entry: Mapping[str, Any], key: str, loc: Location) -> list[Any] | None:
    """``changed_when``/``failed_when``/``until`` as a list, None when absent."""
    return as_conditions(entry[key], key, loc) if entry.get(key) is not None else None


def as_register(value: Any, loc: Location) -> str | None:
    """``register``: a variable name."""
    if value is None:
        return None
    name = as_str(value, "register", loc)
    if not name.isidentifier():
        raise InputError(f"register: {name!r} is not a valid variable name", loc)
    return name


def collection_loop(key: Any) -> bool:
    """``with_<FQCN>`` (``with_community.general.collection_version``): a collection's lookup
    as a loop, found through the Ansible bridge when the task runs."""
    if not isinstance(key, str) or not key.startswith("with_"):
        return False
    parts = key[5:].split(".")
    return len(parts) >= 3 and all(part.isidentifier() for part in parts)


def loop_of(entry: Mapping[str, Any], loc: Location) -> tuple[Any, str]:
    """The raw loop value and its kind (``loop``, ``items``, ``dict``..., a lookup's name)."""
    found = [key for key in LOOP_KINDS if key in entry] + [key for key in entry if collection_loop(key)]
    if len(found) > 1:
        raise InputError(f"task has both {found[0]!r} and {found[1]!r}; use one loop", loc)
    if not found:
        return None, "loop"
    if entry[found[0]] is None:
        raise InputError(f"{found[0]} is empty", loc)
    return entry[found[0]], LOOP_KINDS.get(found[0]) or found[0][5:]


def as_loop_control(value: Any, loc: Location) -> LoopControl:
    """``loop_control`` with its options checked."""
    data = as_mapping(value, "loop_control", loc)
    loc = where(value, loc) or loc
    for key in data:
        if key not in LOOP_CONTROL_KEYS:
            raise InputError(f"loop_control has no option {key!r}"
                             f"{suggest(key, LOOP_CONTROL_KEYS)}", loc)
    control = LoopControl()
    if data.get("loop_var") is not None:
        control = replace(control, loop_var=as_str(data["loop_var"], "loop_var", loc))
        if not control.loop_var.isidentifier() and not is_template(control.loop_var):
            raise InputError(f"loop_var {control.loop_var!r} is not a valid variable name", loc)
    if data.get("index_var") is not None:
        index_var = as_str(data["index_var"], "index_var", loc)
        if not index_var.isidentifier() and not is_template(index_var):
            raise InputError(f"index_var {index_var!r} is not a valid variable name", loc)
        control = replace(control, index_var=index_var)
    if data.get("label") is not None:
        control = replace(control, label=as_str(data["label"], "label", loc))
    if data.get("pause") is not None:
        control = replace(control, pause=float(as_number(data["pause"], "pause", loc,
                                                         template_ok=False)))
    if data.get("extended") is not None:
        control = replace(control, extended=as_bool_or_template(data["extended"], "extended", loc))
    return control
