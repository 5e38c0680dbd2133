"""Task lists: tasks, blocks and handlers, with ``import_tasks``/``import_role`` inlined and the
keywords of plays, roles, blocks and imports pushed down onto every task (Ansible's rules)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from fleet.errors import InputError, Location
from fleet.playbook.keywords import (
    APPLY_KEYWORDS,
    INHERITED_SCALARS,
    LOOP_KINDS,
    as_collections,
    as_list,
    as_loop_control,
    as_mapping,
    as_number,
    as_register,
    as_str,
    as_str_list,
    collection_loop,
    loop_of,
    no_template,
    optional_conditions,
    optional_flag,
    parse_apply,
    parse_keywords,
    suggest,
    type_name,
    where,
)
from fleet.playbook.kv import check_module_args
from fleet.playbook.models import Block, Handler, Item, RoleContext, Task
from fleet.playbook.moduledefaults import NOT_ACTIONS, merged, with_defaults
from fleet.playbook.modulenames import ForeignModules, ModuleResolver
from fleet.playbook.roles import (
    ROLE_KEYWORDS,
    PlayRoles,
    RoleFinder,
    expand_role,
    parse_role_options,
)
from fleet.registry import short_name
from fleet.vars import Layer
from fleet.yamlsrc import load_file

TASK_KEYWORDS = frozenset({
    "name", "when", "loop_control", "register", "notify", "tags", "become", "become_user", "remote_user",
    "become_method", "ignore_errors", "ignore_unreachable", "changed_when", "failed_when",
    "no_log", "retries", "delay", "until", "vars", "check_mode", "diff", "run_once",
    "any_errors_fatal", "environment", "args", "action", "listen", "collections", "delegate_to",
    "delegate_facts", "local_action", "throttle", "timeout", "module_defaults", "async", "poll", *LOOP_KINDS,
})
BLOCK_KEYWORDS = APPLY_KEYWORDS | {"block", "rescue", "always", "name"}
#: How deeply playbooks, task files and roles may be read one inside the other.
MAX_NESTING = 50
#: Keywords allowed on import_tasks/import_role: they apply to every imported task.
IMPORT_KEYWORDS = BLOCK_KEYWORDS - {"block", "rescue", "always"} | {"args", "action"}
#: Ansible's DEFAULT_POLL_INTERVAL: seconds between two looks at an async task's job.
DEFAULT_POLL = 15
NOT_SUPPORTED = {
    **{key: f"the {key} keyword is not supported" for key in (
        "connection", "port",
        "debugger", "become_flags", "become_exe")},
}


@dataclass(frozen=True)
class Inherited:
    """The keywords a task inherits from its play, roles, blocks and static imports.

    ``None`` means "not set above"; ``when`` conditions are outermost first.
    """

    when: tuple[Any, ...] = ()
    tags: frozenset[str] = frozenset()
    become: bool | None = None
    become_user: str | None = None
    remote_user: str | None = None
    ignore_errors: Any = None
    no_log: Any = None
    check_mode: bool | None = None
    diff: bool | None = None
    any_errors_fatal: bool | None = None
    delegate_to: str | None = None
    delegate_facts: bool | None = None
    run_once: bool | None = None
    throttle: Any = None
    notify: list[str] | None = None
    environment: tuple[Any, ...] = ()  # outermost first: Ansible's order of merging
    vars_layers: tuple[Layer, ...] = ()
    collections: tuple[str, ...] = ()  # the nearest ``collections`` keyword above
    timeout: Any = None
    module_defaults: tuple[dict[str, Any], ...] = ()  # levels, outermost first (fleet.playbook.moduledefaults)

    def extend(self, keywords: Mapping[str, Any], layer: Layer | None = None) -> Inherited:
        """What children see under a level that set ``keywords`` (from parse_keywords)."""
        scalars = {key: keywords[key] for key in INHERITED_SCALARS if key in keywords}
        return replace(
            self,
            when=self.when + tuple(keywords.get("when", ())),
            tags=self.tags | keywords.get("tags", frozenset()),
            environment=self.environment + tuple(keywords.get("environment", ())),
            module_defaults=self.module_defaults + tuple(keywords.get("module_defaults", ())),
            vars_layers=self.vars_layers + ((layer,) if layer is not None else ()),
            collections=keywords.get("collections", self.collections),
            **scalars,
        )


@dataclass(frozen=True)
class _Scope:
    """Where a task list is being read."""

    file: Path
    role: RoleContext | None
    inherited: Inherited
    state: PlayRoles
    handlers: bool = False
    stack: tuple[Path, ...] = ()  # task files being read, outermost first (import cycles)


class TaskFileLoader:
    """Reads task files and roles into model objects; one instance per playbook run.

    ``load_playbook`` uses it at load time; the executor uses :meth:`load_tasks` and
    :meth:`load_role` for ``include_tasks`` and ``include_role`` at run time.
    """

    def __init__(self, playbook_dir: Path, *, role_paths: Sequence[Path] = (),
                 module_exists: Callable[[str], bool], secrets: Any = None,
                 module_names: Callable[[], Iterable[str]] | None = None,
                 foreign: ForeignModules | None = None) -> None:
        self.playbook_dir = Path(playbook_dir)
        self.module_exists = module_exists
        self.secrets = secrets  # fleet.secrets.Secrets for vault-encrypted vars files
        self.roles = RoleFinder(self.playbook_dir, role_paths, secrets)
        self.modules = ModuleResolver(module_exists, TASK_KEYWORDS, BLOCK_KEYWORDS, module_names, foreign)
        self.innermost: Location | None = None  # the entry being read, for nesting_guard
        self.depth = 0  # playbook files, task files and roles being read, one inside the other

    @contextlib.contextmanager
    def level(self, loc: Location) -> Iterator[None]:
        """One more file or role read inside the others; at most :data:`MAX_NESTING`, so a
        long chain of imports is an InputError at ``loc`` before Python's recursion limit."""
        if self.depth >= MAX_NESTING:
            raise InputError(f"imports nested more than {MAX_NESTING} levels deep (playbooks, task "
                             "files and roles, each importing the next)", loc)
        self.depth += 1
        try:
            yield
        finally:
            self.depth -= 1

    @contextlib.contextmanager
    def nesting_guard(self, fallback: Location | None) -> Iterator[None]:
        """A RecursionError while loading -- blocks, import_tasks, import_role or role
        dependencies chained a few hundred levels deep -- becomes an InputError at the innermost
        entry being read."""
        self.innermost = None
        try:
            yield
        except RecursionError:
            raise InputError("nested too deeply to load: blocks, import_tasks, import_role, "
                             "import_playbook and role dependencies chain at most about a hundred "
                             "levels", self.innermost or fallback) from None

    # -- public, run time -------------------------------------------------------------------

    def load_tasks(self, path: Path, inherited: Inherited | None, role: RoleContext | None, *,
                   base_dir: Path | None = None, location: Location | None = None,
                   handlers: bool = False, apply: Any = None) -> list[Item]:
        """The tasks of file ``path`` (``include_tasks``), each inheriting ``inherited`` and the
        keywords of the include's ``apply`` (as a block around them, as in Ansible).

        A relative ``path`` is looked up like Ansible does when ``base_dir`` (the including
        task's ``base_dir``) is given: the role's ``tasks/``, ``base_dir``, the playbook folder.
        """
        path = Path(path)
        if not path.is_absolute() and base_dir is not None:
            path = self.resolve_tasks_file(str(path), Path(base_dir), role, location)
        scope = _Scope(path, role, _applied(inherited, apply, "include_tasks", location), PlayRoles(self.playbook_dir),
                       handlers)
        with self.nesting_guard(location or Location(str(path))):
            return self._read(path, scope, location)

    def load_role(self, name: str, params: Mapping[str, Any], location: Location, *,
                  inherited: Inherited | None = None, parent: RoleContext | None = None,
                  apply: Any = None) -> tuple[RoleContext, list[Item], list[Handler]]:
        """Role ``name`` for ``include_role``: its context, tasks (dependencies' first) and
        handlers. ``params`` are the include_role options (tasks_from, vars_from...)."""
        options = {key: value for key, value in params.items() if key != "name"}
        ref = parse_role_options({"name": name, **options}, location, "include_role")
        state = PlayRoles(self.playbook_dir)
        with self.nesting_guard(location):
            items = expand_role(self, ref, _applied(inherited, apply, "include_role", location), state, dedupe=False,
                                parent=parent.path if parent is not None else None)
        return state.contexts[-1], items, state.handlers

    # -- used by the play loader and by roles --------------------------------------------------

    def parse_section(self, data: Any, what: str, file: Path, inherited: Inherited,
                      state: PlayRoles, loc: Location, *, handlers: bool = False) -> list[Item]:
        """A play's ``tasks``/``pre_tasks``/``post_tasks``/``handlers`` list."""
        return self._list(data, what, _Scope(file, None, inherited, state, handlers), loc)

    def read_role_file(self, path: Path, role: RoleContext, inherited: Inherited,
                       state: PlayRoles, *, handlers: bool = False) -> list[Item]:
        """A role's tasks or handlers file."""
        return self._read(path, _Scope(path, role, inherited, state, handlers), None)

    def read_role_entries(self, entries: list[Any], file: Path, role: RoleContext, inherited: Inherited,
                          state: PlayRoles) -> list[Item]:
        """Tasks made for a role rather than read from its files (the argument spec check)."""
        return self._list(entries, f"the tasks made from {file}", _Scope(file, role, inherited, state, False),
                          Location(str(file), 1))

    def resolve_tasks_file(self, name: str, base_dir: Path, role: RoleContext | None,
                           loc: Location | None) -> Path:
        """Find an included task file: role ``tasks/``, then ``base_dir``, then the playbook dir."""
        path = Path(name)
        candidates = [path] if path.is_absolute() else [
            *([role.path / "tasks" / path] if role is not None else []),
            base_dir / path, self.playbook_dir / path]
        for candidate in candidates:
            if candidate.is_file():
                return candidate
        raise InputError(f"task file {name!r} not found; looked in: "
                         + ", ".join(str(c) for c in dict.fromkeys(candidates)), loc)

    # -- reading ---------------------------------------------------------------------------------

    def _read(self, path: Path, scope: _Scope, loc: Location | None) -> list[Item]:
        resolved = [p.resolve() for p in scope.stack]
        if path.resolve() in resolved:
            chain = scope.stack[resolved.index(path.resolve()):] + (path,)
            raise InputError("import cycle: " + " -> ".join(map(str, chain)), loc)
        if not path.is_file():
            raise InputError(f"task file not found: {path}", loc)
        data = load_file(path)
        if data is None:
            return []
        scope = replace(scope, file=path, stack=scope.stack + (path,))
        return self._list(data, f"the task file {path}", scope, Location(str(path), 1))

    def _list(self, data: Any, what: str, scope: _Scope, loc: Location) -> list[Item]:
        list_loc = where(data, loc) or loc
        items: list[Item] = []
        for entry in as_list(data, what, loc):
            items += self._entry(entry, scope, list_loc)
        return items

    def _entry(self, entry: Any, scope: _Scope, list_loc: Location) -> list[Item]:
        kind = "handler" if scope.handlers else "task"
        if not isinstance(entry, Mapping):
            raise InputError(f"each {kind} must be a mapping, got {type_name(entry)}", list_loc)
        loc = where(entry, list_loc) or list_loc
        self.innermost = loc
        if not entry:
            raise InputError(f"empty {kind}", loc)
        for key in entry:
            if not isinstance(key, str):
                raise InputError(f"{kind} key {key!r} must be a string", loc)
        if "block" in entry:
            return self._block(entry, scope, loc)
        for key in ("rescue", "always"):
            if key in entry:
                raise InputError(f"'{key}' without 'block'", loc)
        return self._task(entry, scope, loc)

    def _block(self, entry: Mapping[str, Any], scope: _Scope, loc: Location) -> list[Item]:
        for key in entry:
            if key in LOOP_KINDS or key.startswith("with_"):
                raise InputError(f"a block cannot loop ({key!r}); put the loop on its tasks "
                                 "or loop over include_tasks", loc)
            if key in NOT_SUPPORTED:
                raise InputError(NOT_SUPPORTED[key], loc)
            if key not in BLOCK_KEYWORDS:
                raise InputError(f"{key!r} is not a block keyword"
                                 f"{suggest(key, BLOCK_KEYWORDS)}", loc)
        keywords = parse_keywords(entry, loc)
        layer = Layer("block vars", str(loc), keywords["vars"]) if "vars" in keywords else None
        inner = replace(scope, inherited=scope.inherited.extend(keywords, layer))
        body = self._list(entry["block"], "block", inner, loc)
        rescue = self._list(entry.get("rescue"), "rescue", inner, loc)
        always = self._list(entry.get("always"), "always", inner, loc)
        if scope.handlers:
            if rescue or always:
                raise InputError("rescue/always are not supported in handlers", loc)
            return body
        name = as_str(entry["name"], "name", loc) if entry.get("name") is not None else None
        return [Block(body, loc, rescue, always, name)]

    def _task(self, entry: Mapping[str, Any], scope: _Scope, loc: Location) -> list[Item]:
        for key in entry:
            if key in NOT_SUPPORTED:
                raise InputError(NOT_SUPPORTED[key], loc)
            if key == "include":
                raise InputError("'include' was removed from Ansible; use include_tasks "
                                 "(dynamic) or import_tasks (static)", loc)
            if key.startswith("with_") and key not in LOOP_KINDS and not collection_loop(key):
                raise InputError(f"{key} is not supported; use loop (with a filter or lookup)",
                                 loc)
            if key == "listen" and not scope.handlers:
                raise InputError("'listen' is only valid on handlers", loc)
        collections = (as_collections(entry["collections"], loc) if entry.get("collections") is not None
                       else scope.inherited.collections)
        if "local_action" in entry:  # Ansible: the action, delegated to localhost
            if "action" in entry:
                raise InputError("action and local_action are mutually exclusive", loc)
            entry = {("action" if key == "local_action" else key): value for key, value in entry.items()}
            entry["delegate_to"] = "localhost"
        module, args = self.modules.resolve(entry, loc, collections, scope.role.path if scope.role else None)
        if entry.get("args") is not None:
            args = {**as_mapping(entry["args"], "args", loc), **args}
        args = check_module_args(module, args, loc)
        if module in ("include_tasks", "include_role"):
            for key in ("delegate_to", "delegate_facts"):
                if key in entry:  # as Ansible: not a keyword of includes (put it on a block or the tasks)
                    raise InputError(f"{key!r} is not a valid keyword of {module}", loc)
        if module == "import_tasks":
            return self._import_tasks(entry, args, scope, loc)
        if module == "import_role":
            return self._import_role(entry, args, scope, loc)
        return [self._build(entry, module, args, scope, loc)]

    # -- module and arguments --------------------------------------------------------------------

    # -- static imports --------------------------------------------------------------------------

    @staticmethod
    def _check_import(entry: Mapping[str, Any], module: str, loc: Location) -> None:
        for key in entry:
            if key in IMPORT_KEYWORDS or short_name(key) == module:
                continue
            dynamic = module.replace("import_", "include_")
            if key in LOOP_KINDS:
                raise InputError(f"{module} cannot loop ({key!r}); use {dynamic}", loc)
            raise InputError(f"{key!r} cannot be used with {module}, which is inlined at load "
                             f"time; use {dynamic}", loc)

    def _import_tasks(self, entry: Mapping[str, Any], args: dict[str, Any], scope: _Scope,
                      loc: Location) -> list[Item]:
        self._check_import(entry, "import_tasks", loc)
        name = no_template(args["file"], "the import_tasks file name", loc,
                           "; use include_tasks for a file known only at run time")
        path = self.resolve_tasks_file(name, scope.file.parent, scope.role, loc)
        keywords = parse_keywords(entry, loc)
        layer = Layer("block vars", str(loc), keywords["vars"]) if "vars" in keywords else None
        with self.level(loc):
            return self._read(path, replace(scope, inherited=scope.inherited.extend(keywords, layer)),
                              loc)

    def _import_role(self, entry: Mapping[str, Any], args: dict[str, Any], scope: _Scope,
                     loc: Location) -> list[Item]:
        if scope.handlers:
            raise InputError("import_role cannot be used in handlers", loc)
        self._check_import(entry, "import_role", loc)
        ref = parse_role_options(args, loc, "import_role")
        ref.keywords = {key: value for key, value in entry.items() if key in ROLE_KEYWORDS}
        ref.params.update(as_mapping(entry.get("vars"), "vars", loc))
        return expand_role(self, ref, scope.inherited, scope.state, dedupe=False,
                           parent=scope.role.path if scope.role is not None else None)

    # -- building a task -------------------------------------------------------------------------

    def _build(self, entry: Mapping[str, Any], module: str, args: dict[str, Any], scope: _Scope,
               loc: Location) -> Task:
        if module in ("include_tasks", "include_role") and entry.get("environment") is not None:
            # as in Ansible, which refuses it on TaskInclude and IncludeRole
            raise InputError(f"'environment' cannot be used with {module}; put it on a block "
                             f"around the {module} (its tasks inherit it)", loc)
        for key in ("async", "poll"):
            if module in ("include_tasks", "include_role") and key in entry:  # not keywords of Ansible's includes
                raise InputError(f"{key!r} cannot be used with {module}", loc)
        keywords = parse_keywords(entry, loc)
        above = scope.inherited

        def pick(key: str, default: Any = None) -> Any:
            if key in keywords:
                return keywords[key]
            value = getattr(above, key)
            return default if value is None else value

        layers = above.vars_layers
        if "vars" in keywords:
            layers += (Layer("task vars", str(loc), keywords["vars"]),)
        defaults = merged(above.module_defaults + keywords.get("module_defaults", ()))
        late: list[Any] = []
        if defaults and module not in NOT_ACTIONS:
            args, late = with_defaults(module, args, defaults, self.modules.native(module),
                                       keywords.get("collections", above.collections),
                                       lambda group: self.modules.group_members(group, loc))
        loop, loop_kind = loop_of(entry, loc)
        until = optional_conditions(entry, "until", loc)
        retries = entry.get("retries")
        cls = Handler if scope.handlers else Task
        task = cls(
            module=module, args=args, location=loc,
            name=as_str(entry["name"], "name", loc) if entry.get("name") is not None else None,
            when=list(above.when) + keywords.get("when", []),
            loop=loop, loop_kind=loop_kind,
            loop_control=as_loop_control(entry.get("loop_control"), loc),
            register=as_register(entry.get("register"), loc),
            notify=as_str_list(entry["notify"], "notify", loc) if entry.get("notify") is not None
            else list(above.notify or ()),
            tags=above.tags | keywords.get("tags", frozenset()),
            become=pick("become"), become_user=pick("become_user"), remote_user=pick("remote_user"),
            ignore_errors=pick("ignore_errors", False),
            ignore_unreachable=optional_flag(entry, "ignore_unreachable", loc),
            changed_when=optional_conditions(entry, "changed_when", loc),
            failed_when=optional_conditions(entry, "failed_when", loc),
            no_log=pick("no_log", False),
            retries=(as_number(retries, "retries", loc) if retries is not None
                     else 3 if until is not None else None),
            delay=as_number(entry["delay"], "delay", loc) if entry.get("delay") is not None else 5,
            until=until,
            check_mode=pick("check_mode"), diff=pick("diff"),
            run_once=pick("run_once", False),
            any_errors_fatal=pick("any_errors_fatal"),
            delegate_to=pick("delegate_to"), delegate_facts=pick("delegate_facts"),
            throttle=pick("throttle"),
            vars_layers=layers, role=scope.role, base_dir=scope.file.parent,
            listen=as_str_list(entry.get("listen"), "listen", loc),
            environment=above.environment + tuple(keywords.get("environment", ())),
            collections=keywords.get("collections", above.collections),
            timeout=pick("timeout"), module_defaults=defaults, late_defaults=late,
            async_val=as_number(entry["async"], "async", loc) if entry.get("async") is not None else 0,
            poll=as_number(entry["poll"], "poll", loc) if entry.get("poll") is not None else DEFAULT_POLL,
        )
        if module in ("include_tasks", "include_role"):
            # an include's own when/tags/vars concern the include itself; the rest is inherited
            passed = {key: keywords[key] for key in (*INHERITED_SCALARS, "module_defaults") if key in keywords}
            task.inherited = above.extend(passed)
        return task


def _applied(inherited: Inherited | None, apply: Any, module: str, location: Location | None) -> Inherited:
    """``inherited`` plus an include's ``apply:`` keywords, a block around the included tasks."""
    if not apply:
        return inherited or Inherited()
    keywords = parse_apply(apply, module, location)
    layer = Layer("block vars", str(location), keywords["vars"]) if "vars" in keywords else None
    return (inherited or Inherited()).extend(keywords, layer)
