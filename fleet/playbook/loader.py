"""Loading a playbook file: its plays, ``import_playbook`` inlined, roles and tasks expanded."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from fleet.errors import InputError, Location
from fleet.playbook.keywords import (
    as_bool,
    as_conditions,
    as_list,
    as_mapping,
    as_number,
    as_str,
    as_tags,
    is_template,
    no_template,
    parse_keywords,
    suggest,
    type_name,
    where,
)
from fleet.playbook.models import Handler, Item, Play, Playbook, Task
from fleet.playbook.modulenames import ForeignModules
from fleet.playbook.prompts import parse_prompts
from fleet.playbook.roles import PlayRoles, expand_role, parse_role_entry
from fleet.playbook.tasks import Inherited, TaskFileLoader
from fleet.vars import Layer
from fleet.yamlsrc import load_file

PLAY_KEYWORDS = frozenset({
    "name", "hosts", "vars", "vars_files", "become", "become_user", "become_method",
    "gather_facts", "roles", "pre_tasks", "tasks", "post_tasks", "handlers", "serial",
    "max_fail_percentage", "any_errors_fatal", "strategy", "tags", "check_mode", "diff",
    "ignore_errors", "no_log", "environment", "order", "remote_user", "connection", "collections",
    "gather_subset", "gather_timeout", "fact_path", "throttle", "vars_prompt", "timeout",
    "module_defaults",
})
IMPORT_PLAYBOOK = ("import_playbook", "ansible.builtin.import_playbook",
                   "ansible.legacy.import_playbook")
IMPORT_PLAYBOOK_KEYWORDS = frozenset({"name", "vars", "tags", "when", *IMPORT_PLAYBOOK})
STRATEGIES = frozenset({"linear", "free"})


def load_playbook(path: Path, *, role_paths: Sequence[Path] = (),
                  module_exists: Callable[[str], bool], secrets: Any = None,
                  module_names: Callable[[], Iterable[str]] | None = None,
                  foreign: ForeignModules | None = None) -> Playbook:
    """Load ``path`` and everything it imports into a :class:`Playbook`.

    ``role_paths`` are searched for roles after ``roles/`` beside the playbook;
    ``module_exists(name)`` says whether a module is installed (controller actions such as
    ``debug`` or ``set_fact`` are always known) and ``module_names()`` lists them for
    did-you-mean hints; ``foreign`` knows the modules fleet runs through Ansible's own code
    (:mod:`fleet.bridge`). Bad input raises InputError with file:line.
    """
    path = Path(path)
    loader = TaskFileLoader(path.parent, role_paths=role_paths, module_exists=module_exists, secrets=secrets,
                            module_names=module_names, foreign=foreign)
    with loader.nesting_guard(Location(str(path))):
        plays = _PlaybookReader(loader).read(path, Inherited(), (), (), None)
    return Playbook(path=path, plays=plays)


def flush_handlers(location: Location, base_dir: Path) -> Task:
    """The ``meta: flush_handlers`` task Ansible runs implicitly between play sections."""
    return Task(module="meta", args={"_raw_params": "flush_handlers"}, location=location,
                base_dir=base_dir)


class _PlaybookReader:
    def __init__(self, loader: TaskFileLoader) -> None:
        self.loader = loader

    def read(self, path: Path, outer: Inherited, outer_vars: tuple[Layer, ...],
             stack: tuple[Path, ...], loc: Location | None) -> list[Play]:
        """The plays of playbook file ``path``; ``outer`` holds import_playbook keywords."""
        with self.loader.level(loc or Location(str(path), 1)):
            return self._read(path, outer, outer_vars, stack, loc)

    def _read(self, path: Path, outer: Inherited, outer_vars: tuple[Layer, ...],
              stack: tuple[Path, ...], loc: Location | None) -> list[Play]:
        resolved = [p.resolve() for p in stack]
        if path.resolve() in resolved:
            chain = stack[resolved.index(path.resolve()):] + (path,)
            raise InputError("import_playbook cycle: " + " -> ".join(map(str, chain)), loc)
        if not path.is_file():
            raise InputError(f"playbook not found: {path}", loc)
        data = load_file(path)
        file_loc = Location(str(path), 1)
        if data is None:
            raise InputError("the playbook is empty", file_loc)
        if not isinstance(data, list):
            raise InputError(f"a playbook must be a list of plays, got {type_name(data)}",
                             where(data, file_loc))
        list_loc = where(data, file_loc) or file_loc
        plays: list[Play] = []
        for entry in data:
            if not isinstance(entry, Mapping):
                raise InputError(f"each play must be a mapping, got {type_name(entry)}", list_loc)
            entry_loc = where(entry, list_loc) or list_loc
            if any(key in entry for key in IMPORT_PLAYBOOK):
                plays += self._import(entry, path, outer, outer_vars, stack + (path,), entry_loc)
            elif "include" in entry and "hosts" not in entry:
                raise InputError("'include' of playbooks was removed from Ansible; use "
                                 "import_playbook", entry_loc)
            else:
                plays.append(self._play(entry, path, outer, outer_vars, entry_loc))
        return plays

    def _import(self, entry: Mapping[str, Any], path: Path, outer: Inherited,
                outer_vars: tuple[Layer, ...], stack: tuple[Path, ...],
                loc: Location) -> list[Play]:
        for key in entry:
            if key == "hosts":
                raise InputError("a play cannot also be an import_playbook", loc)
            if key not in IMPORT_PLAYBOOK_KEYWORDS:
                raise InputError(f"{key!r} cannot be used with import_playbook"
                                 f"{suggest(str(key), IMPORT_PLAYBOOK_KEYWORDS)}", loc)
        raw = next(entry[key] for key in IMPORT_PLAYBOOK if key in entry)
        name = no_template(raw, "import_playbook", loc)
        target = Path(name) if Path(name).is_absolute() else path.parent / name
        keywords: dict[str, Any] = {}
        if entry.get("when") is not None:
            keywords["when"] = as_conditions(entry["when"], "when", loc)
        if entry.get("tags") is not None:
            keywords["tags"] = as_tags(entry["tags"], loc)
        if entry.get("vars") is not None:
            # Ansible merges import_playbook vars over each imported play's own vars
            layer = Layer("play vars", str(where(entry["vars"], loc)),
                          as_mapping(entry["vars"], "vars", loc))
            outer_vars = (layer, *outer_vars)
        return self.read(target, outer.extend(keywords), outer_vars, stack, loc)

    def _play(self, entry: Mapping[str, Any], path: Path, outer: Inherited,
              outer_vars: tuple[Layer, ...], loc: Location) -> Play:
        for key in entry:
            if key not in PLAY_KEYWORDS:
                raise InputError(f"unknown play keyword {key!r}"
                                 f"{suggest(str(key), PLAY_KEYWORDS)}", loc)
        if entry.get("hosts") is None:
            raise InputError("play has no 'hosts'", loc)
        keywords = parse_keywords(
            {key: value for key, value in entry.items() if key != "vars"}, loc)
        inherited = outer.extend(keywords)
        state = PlayRoles(path.parent)
        loader = self.loader

        def section(key: str, handlers: bool = False) -> list[Item]:
            return loader.parse_section(entry.get(key), key, path, inherited, state, loc,
                                        handlers=handlers)

        role_items: list[Item] = []
        roles_loc = where(entry.get("roles"), loc) or loc
        for ref_data in as_list(entry.get("roles"), "roles", loc):
            ref = parse_role_entry(ref_data, roles_loc)
            role_items += expand_role(loader, ref, inherited, state)
        pre_tasks = section("pre_tasks")
        tasks = section("tasks")
        post_tasks = section("post_tasks")
        own_handlers = [h for h in section("handlers", handlers=True) if isinstance(h, Handler)]

        play = Play(
            hosts=_hosts(entry["hosts"], loc),
            location=loc,
            name=as_str(entry["name"], "name", loc) if entry.get("name") is not None else "",
            tasks=[*pre_tasks, flush_handlers(loc, path.parent), *role_items, *tasks,
                   flush_handlers(loc, path.parent), *post_tasks, flush_handlers(loc, path.parent)],
            handlers=state.handlers + own_handlers,
            gather_facts=_flag(entry, "gather_facts", loc, None),
            gather_args={k: entry[k] for k in ("gather_subset", "gather_timeout", "fact_path") if entry.get(k) is not None},
            become=keywords.get("become"),
            become_user=keywords.get("become_user"),
            serial=_serial(entry.get("serial"), loc),
            max_fail_percentage=_percentage(entry.get("max_fail_percentage"), loc),
            any_errors_fatal=bool(keywords.get("any_errors_fatal", False)),
            strategy=_choice(entry, "strategy", STRATEGIES, "linear", loc),
            tags=inherited.tags,
            check_mode=keywords.get("check_mode"),
            diff=keywords.get("diff"),
            base_dir=path.parent,
            roles=list(state.contexts),
            remote_user=_opt_str(entry, "remote_user", loc),
            connection=_opt_str(entry, "connection", loc),
            environment=inherited.environment,
            vars_prompt=parse_prompts(entry.get("vars_prompt"), where(entry.get("vars_prompt"), loc) or loc),
        )
        _choice(entry, "order", frozenset({"inventory"}), "inventory", loc)
        play.vars_layers = _vars_layers(entry, path, state, outer_vars, loc, self.loader.secrets)
        return play


def _vars_layers(entry: Mapping[str, Any], path: Path, state: PlayRoles,
                 outer_vars: tuple[Layer, ...], loc: Location, secrets: Any = None) -> tuple[Layer, ...]:
    """Role defaults, play vars (then import_playbook vars), vars_files, role vars."""
    layers: list[Layer] = []
    for context in state.contexts:
        layers.append(context.defaults)
    if entry.get("vars") is not None:
        raw = entry["vars"]
        vars_loc = where(raw, loc) or loc
        values: dict[str, Any] = {}
        for part in raw if isinstance(raw, list) else [raw]:
            values.update(as_mapping(part, "play vars", vars_loc))
        layers.append(Layer("play vars", str(vars_loc), values))
    layers.extend(outer_vars)
    files = entry.get("vars_files")
    for item in [files] if isinstance(files, str) else as_list(files, "vars_files", loc):
        if isinstance(item, list):
            raise InputError("vars_files alternatives (a list inside vars_files) are not "
                             "supported", where(item, loc))
        name = no_template(item, "vars_files entry", where(files, loc))
        file = Path(name) if Path(name).is_absolute() else path.parent / name
        if not file.is_file():
            raise InputError(f"vars file not found: {file}", where(files, loc))
        data = as_mapping(load_file(file, secrets), f"vars file {file}", Location(str(file), 1))
        layers.append(Layer("play vars_files", str(file), data))
    for context in state.contexts:
        layers.append(context.vars)
    unique: list[Layer] = []
    seen: set[tuple[str, str]] = set()
    for layer in layers:
        if layer.kind.startswith("role ") and (layer.kind, layer.source) in seen:
            continue
        seen.add((layer.kind, layer.source))
        unique.append(layer)
    return tuple(unique)


def _hosts(value: Any, loc: Location) -> str:
    if isinstance(value, list):
        hosts = ",".join(as_str(item, "each host pattern", loc) for item in value)
    else:
        hosts = as_str(value, "hosts", loc)
    if not hosts.strip():
        raise InputError("hosts is empty", loc)
    return hosts


def _flag(entry: Mapping[str, Any], key: str, loc: Location, default: bool | None) -> bool | None:
    return as_bool(entry[key], key, loc) if entry.get(key) is not None else default


def _opt_str(entry: Mapping[str, Any], key: str, loc: Location) -> str | None:
    return as_str(entry[key], key, loc) if entry.get(key) is not None else None


def _choice(entry: Mapping[str, Any], key: str, choices: frozenset[str], default: str,
            loc: Location) -> str:
    if entry.get(key) is None:
        return default
    value = as_str(entry[key], key, loc)
    if value not in choices:
        raise InputError(f"{key} {value!r} is not supported (use "
                         + " or ".join(sorted(choices)) + f"){suggest(value, choices)}", loc)
    return value


def _serial(value: Any, loc: Location) -> list[Any]:
    """``serial``: a batch size, a percentage, or a list of them (batch sizes in turn)."""
    if value is None:
        return []
    batches: list[Any] = []
    for item in value if isinstance(value, list) else [value]:
        if isinstance(item, str) and (is_template(item) or item.strip().isdigit()):
            item = item.strip() if is_template(item) else int(item)
        if isinstance(item, int) and not isinstance(item, bool) and item >= 0:
            batches.append(item)
        elif isinstance(item, str) and not is_template(item):
            text = item.strip()
            try:
                percent = float(text[:-1]) if text.endswith("%") else -1.0
            except ValueError:
                percent = -1.0
            if not 0 < percent <= 100:
                raise InputError(f"serial must be a number of hosts or a percentage like '30%', "
                                 f"got {item!r}", where(value, loc))
            batches.append(text)
        elif isinstance(item, str):
            batches.append(item)
        else:
            raise InputError(f"serial must be a number of hosts or a percentage, got "
                             f"{type_name(item)}", where(value, loc))
    return batches


def _percentage(value: Any, loc: Location) -> float | None:
    if value is None:
        return None
    text = value.strip().rstrip("%") if isinstance(value, str) else value
    number = as_number(text, "max_fail_percentage", loc, template_ok=False)
    if not 0 <= number <= 100:
        raise InputError(f"max_fail_percentage must be between 0 and 100, got {value!r}", loc)
    return float(number)
