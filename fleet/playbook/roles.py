"""Roles: finding them, reading their files, and expanding them (dependencies first).

A role is found, first match wins, in ``roles/`` beside the playbook, each configured role
path, the folder holding the role that depends on it, the playbook folder itself, then fleet's
built-in roles. A name with a ``/`` is a path relative to the playbook folder.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fleet.errors import InputError, Location
from fleet.playbook.keywords import (
    as_bool,
    as_list,
    as_mapping,
    as_str,
    no_template,
    parse_apply,
    parse_keywords,
    suggest,
    type_name,
    where,
)
from fleet.playbook.models import Handler, Item, RoleContext
from fleet.registry import builtin_dir
from fleet.vars import Layer
from fleet.yamlsrc import load_file

if TYPE_CHECKING:
    from fleet.playbook.tasks import Inherited, TaskFileLoader

#: Keywords on a role reference that apply to every task of the role; other keys are params.
ROLE_KEYWORDS = frozenset({
    "when", "tags", "become", "become_user", "remote_user", "become_method", "ignore_errors", "no_log",
    "check_mode", "diff", "any_errors_fatal", "environment", "delegate_to", "delegate_facts", "run_once",
    "throttle", "timeout", "module_defaults",
})

#: Options of ``include_role``/``import_role``.
ROLE_OPTIONS = frozenset({
    "name", "tasks_from", "vars_from", "defaults_from", "handlers_from", "allow_duplicates",
    "public", "rolespec_validate",
})

_EXTENSIONS = ("", ".yml", ".yaml", ".json")


@dataclass
class RoleRef:
    """A reference to a role: a ``roles:`` entry, a meta dependency or an import/include_role."""

    name: str
    location: Location
    params: dict[str, Any] = field(default_factory=dict)
    keywords: dict[str, Any] = field(default_factory=dict)  # raw ROLE_KEYWORDS values
    tasks_from: str | None = None
    handlers_from: str | None = None
    vars_from: str | None = None
    defaults_from: str | None = None
    allow_duplicates: bool | None = None


def parse_role_entry(entry: Any, loc: Location | None, what: str = "roles entry") -> RoleRef:
    """``- nginx`` or ``- role: nginx`` with params, ``vars:`` and keywords (when, tags...)."""
    if isinstance(entry, str):
        return RoleRef(no_template(entry, "role name", loc), loc or Location("?"))
    if not isinstance(entry, Mapping):
        raise InputError(f"{what} must be a role name or a mapping, got {type_name(entry)}", loc)
    loc = where(entry, loc) or Location("?")
    raw = entry.get("role", entry.get("name"))
    if raw is None:
        raise InputError(f"{what} has no 'role' (the role's name)", loc)
    ref = RoleRef(no_template(raw, "role name", loc), loc)
    for key, value in entry.items():
        if not isinstance(key, str):
            raise InputError(f"{what}: key {key!r} must be a string", loc)
        if key in ROLE_KEYWORDS:
            ref.keywords[key] = value
        elif key == "vars":
            ref.params.update(as_mapping(value, "vars", loc))
        elif key not in ("role", "name"):
            ref.params[key] = value
    return ref


def parse_role_options(args: Mapping[str, Any], loc: Location, module: str, *,
                       static: bool = True) -> RoleRef:
    """The arguments of ``import_role``/``include_role`` (``name``, ``tasks_from``...).

    Only a ``static`` reference (import_role, or include_role once rendered) must have a
    plain role name."""
    for key in args:
        if key == "apply" and module == "include_role":
            parse_apply(args["apply"], module, loc)  # kept as written: rendered when it runs
            continue
        if key == "apply":
            raise InputError(f"{module}: 'apply' is an option of include_role only (as in Ansible); set the "
                             "keywords on import_role itself", loc)
        if key not in ROLE_OPTIONS:
            raise InputError(f"{module} has no option {key!r}{suggest(key, ROLE_OPTIONS)}", loc)
    if args.get("name") is None:
        raise InputError(f"{module} needs the role's name (name: ...)", loc)
    name = args["name"]
    ref = RoleRef(no_template(name, "role name", loc) if static else as_str(name, "name", loc), loc)
    for key in ("tasks_from", "handlers_from", "vars_from", "defaults_from"):
        if args.get(key) is not None:
            setattr(ref, key, as_str(args[key], key, loc))
    if args.get("allow_duplicates") is not None:
        ref.allow_duplicates = as_bool(args["allow_duplicates"], "allow_duplicates", loc)
    return ref


@dataclass
class RoleSpec:
    """A role's files as read for one reference (``*_from`` pick which files)."""

    name: str
    path: Path
    defaults: Layer
    vars: Layer
    dependencies: list[RoleRef]
    allow_duplicates: bool
    tasks_file: Path | None
    handlers_file: Path | None
    # the argument spec of the entry point (tasks_from, else main): a validation task first
    argument_spec: ArgumentSpec | None = None


@dataclass(frozen=True)
class ArgumentSpec:
    """A role entry point's argument spec (Ansible's ``argument_specs``), and where it is."""

    entry_point: str
    spec: Mapping[str, Any]
    file: Path


@dataclass
class PlayRoles:
    """The roles one play (or one run-time ``include_role``) has loaded so far."""

    base_dir: Path  # folder of the playbook file, where ``roles/`` is searched first
    contexts: list[RoleContext] = field(default_factory=list)
    handlers: list[Handler] = field(default_factory=list)
    seen: dict[str, RoleContext] = field(default_factory=dict)
    handler_files: set[Path] = field(default_factory=set)


def _find_file(directory: Path, stem: str) -> Path | None:
    for ext in _EXTENSIONS:
        candidate = directory / f"{stem}{ext}"
        if candidate.is_file():
            return candidate
    return None


class RoleFinder:
    """Locates roles and reads their defaults, vars, meta and task/handler file names."""

    def __init__(self, playbook_dir: Path, role_paths: Sequence[Path] = (), secrets: Any = None) -> None:
        self.playbook_dir = Path(playbook_dir)
        self.role_paths = [Path(p) for p in role_paths]
        self.secrets = secrets  # fleet.secrets.Secrets for vault-encrypted vars/defaults files

    def search_dirs(self, base_dir: Path, parent: Path | None = None) -> list[Path]:
        """Where a plain role name is looked for, in order."""
        dirs = [base_dir / "roles", self.playbook_dir / "roles", *self.role_paths]
        if parent is not None:
            dirs.append(parent.parent)
        dirs += [base_dir, builtin_dir("roles")]
        unique: list[Path] = []
        for d in dirs:
            if d not in unique:
                unique.append(d)
        return unique

    def find(self, name: str, loc: Location, base_dir: Path, parent: Path | None = None) -> Path:
        """The folder of role ``name``; InputError listing the folders searched if none."""
        if "/" in name:
            path = Path(name) if Path(name).is_absolute() else base_dir / name
            if path.is_dir():
                return path
            raise InputError(f"role {name!r} not found: {path} is not a directory", loc)
        searched = self.search_dirs(base_dir, parent)
        for directory in searched:
            if (directory / name).is_dir():
                return directory / name
        raise InputError(f"role {name!r} not found; searched: "
                         + ", ".join(str(d) for d in searched), loc)

    def load(self, ref: RoleRef, base_dir: Path, parent: Path | None = None) -> RoleSpec:
        """Read the role ``ref`` points at."""
        path = self.find(ref.name, ref.location, base_dir, parent)
        meta, meta_loc = self._meta(path)
        deps = [parse_role_entry(dep, where(meta.get("dependencies"), meta_loc), "dependency")
                for dep in as_list(meta.get("dependencies"), "dependencies", meta_loc)]
        allow = meta.get("allow_duplicates")
        return RoleSpec(
            name=Path(ref.name).name,
            path=path,
            defaults=self._vars(path, "defaults", ref.defaults_from, "role defaults", ref.location),
            vars=self._vars(path, "vars", ref.vars_from, "role vars", ref.location),
            dependencies=deps,
            allow_duplicates=False if allow is None else as_bool(allow, "allow_duplicates", meta_loc),
            tasks_file=self._file(path, "tasks", ref.tasks_from, ref.location),
            handlers_file=self._file(path, "handlers", ref.handlers_from, ref.location),
            argument_spec=self._argument_spec(path, meta, meta_loc, ref.tasks_from or "main"),
        )

    @staticmethod
    def _argument_spec(path: Path, meta: Mapping[str, Any], meta_loc: Location,
                       entry_point: str) -> ArgumentSpec | None:
        """As Ansible: ``meta/argument_specs.yml`` when there is one, else ``argument_specs``
        in ``meta/main.yml`` (never both merged); the entry point's spec, if any."""
        found = _find_file(path / "meta", "argument_specs")
        if found is not None:
            data = load_file(found)
            loc = where(data, Location(str(found), 1)) or Location(str(found), 1)
            specs = as_mapping(data, f"argument specs {found}", loc).get("argument_specs") if data else None
            file = found
        else:
            specs, file = meta.get("argument_specs"), Path(meta_loc.path)
        if not specs:
            return None
        spec = as_mapping(specs, "argument_specs", where(specs, meta_loc) or meta_loc).get(entry_point)
        if not spec:
            return None
        return ArgumentSpec(entry_point, as_mapping(spec, f"argument_specs.{entry_point}",
                                                    where(spec, meta_loc) or meta_loc), file)

    @staticmethod
    def _meta(path: Path) -> tuple[Mapping[str, Any], Location]:
        found = _find_file(path / "meta", "main")
        if found is None:
            return {}, Location(str(path / "meta" / "main.yml"))
        data = load_file(found)
        loc = where(data, Location(str(found), 1)) or Location(str(found), 1)
        return as_mapping(data, f"role meta {found}", loc), loc

    @staticmethod
    def _file(path: Path, kind: str, name: str | None, loc: Location) -> Path | None:
        found = _find_file(path / kind, name or "main")
        if found is None and name is not None:
            raise InputError(f"{kind}_from: no file {name!r} in {path / kind}", loc)
        return found

    def _vars(self, path: Path, kind: str, name: str | None, layer: str, loc: Location) -> Layer:
        stem = name or "main"
        found = _find_file(path / kind, stem)
        if found is not None:
            files = [found]
            source = found
        elif (path / kind / stem).is_dir():
            source = path / kind / stem
            files = sorted(p for p in source.rglob("*")
                           if p.is_file() and p.suffix in (".yml", ".yaml", ".json"))
        elif name is not None:
            raise InputError(f"{kind}_from: no file {name!r} in {path / kind}", loc)
        else:
            return Layer(layer, str(path / kind / "main.yml"), {})
        values: dict[str, Any] = {}
        for file in files:
            values.update(as_mapping(load_file(file, self.secrets), f"{kind} file {file}",
                                     Location(str(file), 1)))
        return Layer(layer, str(source), values)


def _identity(spec: RoleSpec, ref: RoleRef) -> str:
    """Ansible runs a role once per play for the same role, params and ``*_from`` files."""
    return json.dumps([str(spec.path.resolve()), ref.params, ref.tasks_from, ref.vars_from,
                       ref.defaults_from, ref.handlers_from], sort_keys=True, default=repr)


def expand_role(loader: TaskFileLoader, ref: RoleRef, inherited: Inherited, state: PlayRoles, *,
                dedupe: bool = True, chain: tuple[Path, ...] = (),
                parent: Path | None = None) -> list[Item]:
    """The tasks of role ``ref`` preceded by those of its dependencies (depth first).

    The role's RoleContext is appended to ``state.contexts`` after its dependencies', and its
    handlers to ``state.handlers``. With ``dedupe``, a role already loaded in this play with the
    same params is skipped unless ``allow_duplicates`` is set.
    """
    with loader.level(ref.location):
        return _expand_role(loader, ref, inherited, state, dedupe, chain, parent)


def _expand_role(loader: TaskFileLoader, ref: RoleRef, inherited: Inherited, state: PlayRoles,
                 dedupe: bool, chain: tuple[Path, ...], parent: Path | None) -> list[Item]:
    spec = loader.roles.load(ref, state.base_dir, parent)
    resolved = spec.path.resolve()
    if resolved in chain:
        names = [p.name for p in chain[chain.index(resolved):]] + [resolved.name]
        raise InputError("role dependency cycle: " + " -> ".join(names), ref.location)
    key = _identity(spec, ref)
    allow = spec.allow_duplicates if ref.allow_duplicates is None else ref.allow_duplicates
    if dedupe and not allow and key in state.seen:
        return []
    inherited = inherited.extend(parse_keywords(ref.keywords, ref.location))
    items: list[Item] = []
    for dep in spec.dependencies:
        items += expand_role(loader, dep, inherited, state, chain=chain + (resolved,),
                             parent=spec.path)
    context = RoleContext(spec.name, spec.path, spec.defaults, spec.vars,
                          Layer("role params", str(ref.location), dict(ref.params)))
    state.seen.setdefault(key, context)
    state.contexts.append(context)
    if spec.argument_spec is not None:
        items += loader.read_role_entries([_validation_task(spec, spec.argument_spec, ref)], spec.argument_spec.file,
                                          context, inherited, state)
    if spec.tasks_file is not None:
        items += loader.read_role_file(spec.tasks_file, context, inherited, state)
    if spec.handlers_file is not None and spec.handlers_file.resolve() not in state.handler_files:
        state.handler_files.add(spec.handlers_file.resolve())
        handlers = loader.read_role_file(spec.handlers_file, context, inherited, state,
                                         handlers=True)
        state.handlers += [h for h in handlers if isinstance(h, Handler)]
    return items


def _validation_task(spec: RoleSpec, argument_spec: ArgumentSpec, ref: RoleRef) -> dict[str, Any]:
    """The task Ansible puts before a role's tasks when its entry point has an argument spec."""
    name = f"Validating arguments against arg spec '{argument_spec.entry_point}'"
    if "short_description" in argument_spec.spec:
        name += f" - {argument_spec.spec['short_description']}"
    return {
        "name": name,
        "validate_argument_spec": {
            "argument_spec": argument_spec.spec.get("options") or {},
            "provided_arguments": dict(ref.params),
            "validate_args_context": {"type": "role", "name": spec.name,
                                      "argument_spec_name": argument_spec.entry_point, "path": str(spec.path)},
        },
        "tags": ["always"],
    }
