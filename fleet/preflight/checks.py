"""Checks that run before anything connects: bad input must fail the run with nothing applied.

For every task and handler: the module's literal parameters (unknown names, missing required
ones, wrong types), the syntax of every template, variables that are referenced but defined
nowhere (in no inventory, play, role, block, task, register or set_fact), ``notify`` names that
reach no handler, and the templates of ``template`` tasks with a literal ``src``.
"""

from __future__ import annotations

from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from pathlib import Path
from typing import Any

from fleet.errors import AnsibleOnlyValue, InputError, Location
from fleet.executor import CONTROL_ACTIONS, LOCAL, defaults_pending, find_file, handler_known, route
from fleet.playbook import Play, Playbook, Task, walk
from fleet.preflight.prescan import included_handlers, included_names
from fleet.registry import ModuleRegistry
from fleet.templating import TEMPLATE_OPTIONS, custom_delimiters, file_options, is_template

JINJA_GLOBALS = frozenset({
    "range", "lookup", "query", "q", "dict", "lipsum", "cycler", "joiner", "namespace", "now",
    "undef", "true", "false", "none", "True", "False", "None", "loop", "self", "varargs", "kwargs",
})
MAGIC = frozenset({
    "inventory_hostname", "inventory_hostname_short", "group_names", "groups", "hostvars",
    "ansible_play_hosts", "ansible_play_hosts_all", "ansible_play_batch", "play_hosts",
    "ansible_play_name", "playbook_dir", "role_name", "role_path", "ansible_check_mode",
    "ansible_diff_mode", "ansible_run_tags", "ansible_skip_tags", "ansible_version", "fleet_version",
    "omit", "ansible_facts", "ansible_loop", "ansible_loop_var", "ansible_index_var", "item",
    "template_path", "template_fullpath", "template_host", "template_uid", "template_run_date",
    "template_destpath", "ansible_managed", "environment", "inventory_dir", "inventory_file", "role_names",
    "ansible_verbosity", "ansible_forks", "ansible_limit", "ansible_inventory_sources", "ansible_playbook_python",
    "ansible_role_name",
})
TEMPLATE_FIELDS = ("args", "loop", "ignore_errors", "no_log", "retries", "delay", "environment")
EXPRESSION_FIELDS = ("when", "changed_when", "failed_when", "until")


def check_playbook(playbook: Playbook, registry: ModuleRegistry, templar: Any, inventory: Any,
                   extra_vars: dict[str, Any], bridge: Any = None) -> list[str]:
    """Raise InputError (file:line) for the first problem found; otherwise the warnings (file:line)
    for tasks that use a module or parameter Ansible has and fleet cannot run here: such a task
    fails on a host that reaches it, and a run whose hosts never reach it passes."""
    warnings: list[str] = []
    inventory_names = _inventory_var_names(inventory)
    earlier: set[str] = set()  # set_fact/register/include_vars names outlive their play
    dynamic = False  # an include_vars of unknown names: later references cannot be checked
    for play in playbook.plays:
        tasks = list(walk(play.tasks)) + list(play.handlers)
        names = _play_names(play, tasks)
        included = included_names(tasks, playbook.base_dir)  # what include_tasks/_role files define
        known = inventory_names | set(extra_vars) | names | (included or set()) | earlier | MAGIC | JINJA_GLOBALS
        earlier |= _runtime_names(tasks) | (included or set())
        # include_vars of unknown names, and Ansible's modules, whose facts (getent_passwd...)
        # are named by the module: later references cannot be checked
        # a templated loop_var or set_fact key names its variable only when the task runs
        dynamic = dynamic or included is None or any(t.loop_control.dynamic for t in tasks) or any(
            t.module == "set_fact" and any(is_template(str(k)) for k in t.args) for t in tasks) or any(
            t.module == "include_vars" and not t.args.get("name") for t in tasks) or any(
            t.module not in LOCAL and t.module not in CONTROL_ACTIONS and registry.find(t.module) is None
            for t in tasks)
        handlers = included_handlers(tasks, playbook.base_dir)  # None: some include_role is dynamic
        for task in tasks:
            check_task(task, play, registry, templar, known, check_names=not dynamic,
                       playbook_dir=playbook.base_dir, extra_handlers=handlers, bridge=bridge, warnings=warnings)
    return list(dict.fromkeys(warnings))


INVENTORY_CHANGES = frozenset({"group_by", "add_host", "include_tasks", "include_role"})
NO_HOSTS = "Specified hosts and/or --limit does not match any hosts"


def check_hosts(playbook: Playbook, inventory: Any, limit: str | Sequence[str] | None, templar: Any,
                adhoc: bool = False) -> list[str]:
    """As Ansible: InputError when ``--limit`` leaves no host to run on (for an ad-hoc run:
    when the pattern and the limit together select none); the warnings for pattern and limit
    parts that name no group or host ("Could not match supplied host pattern, ignoring: X"),
    and for an ad-hoc pattern that selects nothing ("No hosts matched, nothing to do")."""
    patterns = [play.hosts for play in playbook.plays if not _is_template(templar, play.hosts)]
    if limit is not None:
        selected = inventory.select(patterns[0] if adhoc and patterns else "all", limit)
        if not selected:
            raise InputError(NO_HOSTS + _unmatched_hint(inventory, limit))
    # after a play that may change the inventory (group_by, add_host), a pattern is only
    # known to match nothing when its play starts: the play runner warns then, as Ansible
    known = []
    for play in playbook.plays:
        if not _is_template(templar, play.hosts):
            known.append(play.hosts)
        if changes_inventory(play):
            break
    warnings = [f"Could not match supplied host pattern, ignoring: {part}"
                for pattern in dict.fromkeys(known) for part in inventory.unmatched(pattern)]
    if limit is not None:
        warnings += [f"Could not match supplied host pattern, ignoring: {part}"
                     for part in inventory.unmatched("all", limit)]
    if adhoc and patterns and not inventory.select(patterns[0], limit):
        warnings.append("No hosts matched, nothing to do")
    return list(dict.fromkeys(warnings))


def changes_inventory(play: Play) -> bool:
    """May the play add hosts or groups (``group_by``, ``add_host``, or an include that may hold them)?"""
    return any(task.module in INVENTORY_CHANGES or task.dynamic_module
               for task in walk([*play.tasks, *play.handlers]))


def _unmatched_hint(inventory: Any, limit: str | Sequence[str]) -> str:
    parts = inventory.unmatched("all", limit)
    return f" (no group or host is called {', '.join(repr(p) for p in parts[:5])})" if parts else ""


def _inventory_var_names(inventory: Any) -> set[str]:
    names: set[str] = set()
    for host in inventory.hosts:
        for layer in inventory.host_layers(host):
            names.update(layer.values)
    return names


def _play_names(play: Play, tasks: list[Task]) -> set[str]:
    names: set[str] = set()
    for layer in play.vars_layers:
        names.update(layer.values)
    for role in play.roles:
        for layer in (role.defaults, role.vars, role.params):
            names.update(layer.values)
    names.update(_runtime_names(tasks))
    for task in tasks:
        if not task.loop_control.dynamic:
            names.add(task.loop_control.loop_var)
        if task.loop_control.index_var and not task.loop_control.dynamic:
            names.add(task.loop_control.index_var)
        for layer in task.vars_layers:
            names.update(layer.values)
        if task.role is not None:
            for layer in (task.role.defaults, task.role.vars, task.role.params):
                names.update(layer.values)
    return names


def _runtime_names(tasks: list[Task]) -> set[str]:
    """Names that tasks define for the rest of the run: register, set_fact, add_host, include_vars name."""
    names: set[str] = set()
    for task in tasks:
        if task.register:
            names.add(task.register)
        if task.module in ("set_fact", "add_host"):  # add_host: the new host's variables
            names.update(str(k) for k in task.args if k != "_raw_params")
        if task.module == "include_vars" and task.args.get("name"):
            names.add(str(task.args["name"]))
    return names


def check_loop(task: Task, where: str) -> None:
    """InputError for a literal loop value that cannot be looped over (``loop: 42``), as the
    run would find only when the task's turn comes, after earlier tasks changed hosts."""
    value, kind = task.loop, task.loop_kind
    if value is None or (isinstance(value, str) and is_template(value)):
        return
    if kind == "loop" and not isinstance(value, list):
        raise InputError(f"{where}: loop needs a list, got {_kind(value)} {value!r:.60}", task.location)
    if kind == "dict" and not isinstance(value, dict):
        raise InputError(f"{where}: with_dict needs a mapping, got {_kind(value)} {value!r:.60}", task.location)
    if kind == "fileglob" and not isinstance(value, (str, list)):
        raise InputError(f"{where}: with_fileglob needs a pattern or a list of patterns, got "
                         f"{_kind(value)} {value!r:.60}", task.location)


def _kind(value: Any) -> str:
    names = {bool: "a boolean", int: "a number", float: "a number", str: "a string", dict: "a mapping",
             list: "a list"}
    return next((name for kind, name in names.items() if isinstance(value, kind)), type(value).__name__)


def check_task(task: Task, play: Play, registry: ModuleRegistry, templar: Any, known: set[str],
               check_names: bool, playbook_dir: Path, extra_handlers: AbstractSet[str] | None = frozenset(),
               bridge: Any = None, warnings: list[str] | None = None) -> None:
    where = f"task {task.display_name!r}"
    later = "; the task fails on a host that reaches it, and only there"
    check_loop(task, where)
    control = task.loop_control
    for value in (control.loop_var, control.index_var, control.extended):
        if isinstance(value, str):
            templar.check_syntax(value, task.location)
    # a task that ignores its errors may mean to meet an undefined variable (tests of the error
    # itself): as in Ansible, it fails where it runs, and the play goes on
    check_names = check_names and not _expects_failure(task)
    for field in TEMPLATE_FIELDS:
        templar.check_syntax(getattr(task, field), task.location)
        if check_names:
            _check_names(templar.referenced_names(getattr(task, field)), known, task, where)
    for field in EXPRESSION_FIELDS:
        templar.check_expression(getattr(task, field), task.location)
        if check_names:
            _check_names(templar.referenced_names(getattr(task, field), bare=True), known, task, where)
    for name in task.notify:  # templated names and dynamic include_role handlers: known at run time
        if _is_template(templar, name) or extra_handlers is None or name in extra_handlers:
            continue
        if not handler_known(play, name):
            raise InputError(f"{where}: notify {name!r} matches no handler in this play", task.location)
    if task.module in LOCAL or task.module in CONTROL_ACTIONS:
        return
    if task.dynamic_module:  # the module is known per host when the task runs (fleet.executor.dynamic)
        templar.check_syntax(task.module, task.location)
        return
    spec = registry.find(task.module)
    if spec is None and bridge is not None:
        # one of Ansible's modules (fleet.bridge.Bridge): it must resolve to one that can run;
        # its arguments are the module's to check, on the host, as in Ansible
        # (a module Ansible has that fleet cannot run -- an action plugin, PowerShell, no
        # ansible-core -- is a warning here and a failure where a host reaches the task)
        role = task.role.path if task.role else None
        why = bridge.deferred(task.module, task.collections, role, task.location)
        if why:
            _warn(warnings, f"{task.location}: {where}: {why}{later}")
            return
        bridge.payload(bridge.resolve(task.module, task.collections, role, task.location), task.location)
        return
    if spec is None:
        raise InputError(f"{where}: unknown module {task.module!r}", task.location)
    if _is_template(templar, task.args) or defaults_pending(task):
        return  # arguments known on the host's turn only
    try:
        _check_params(task, spec, templar, bridge, where, later, warnings)
    except InputError as exc:
        if not _expects_failure(task) or isinstance(exc, AnsibleOnlyValue):
            raise
        # a task that ignores its errors, with parameters its module refuses (Ansible's targets
        # test the failure): as in Ansible, it fails where a host reaches it, and only there
        _warn(warnings, f"{task.location}: {exc.message}{later}")
        return
    if task.module == "template":
        _check_template_file(task, templar, known, check_names, playbook_dir)


def _expects_failure(task: Task) -> bool:
    """Does the task ignore its errors, literally (``ignore_errors: yes``)?"""
    flag = task.ignore_errors
    return flag is True or (isinstance(flag, str) and flag.strip().lower() in ("yes", "true", "on", "1"))


def _check_params(task: Task, spec: Any, templar: Any, bridge: Any, where: str, later: str,
                  warnings: list[str] | None) -> None:
    """The literal parameters of a task of fleet's module ``spec``: InputError for what its
    module refuses, a warning for what only Ansible's module of that name can do."""
    how = route(bridge, task, spec)  # parameters fleet's module lacks and Ansible's documents
    if how.failure:
        _warn(warnings, f"{task.location}: {where}: {how.failure}{later}")
    # fleet's own rules still hold for the parameters fleet knows (a clear-text user password),
    # also when Ansible's module code runs the task and checks the rest on the host
    args = {k: v for k, v in task.args.items() if k not in how.extra}
    if how.module is not None and any(name not in spec.canonical(args, where, task.location) for name in spec.required):
        return  # what fleet's module requires, Ansible's may not (package's state): its code decides
    try:
        # the rules between parameters are the module's that runs: Ansible's has others (apt: deb)
        spec.check_static(args, lambda v: _is_template(templar, v), where, task.location, between=how.module is None)
    except AnsibleOnlyValue:
        if how.module is None and not how.failure:
            raise


def _warn(warnings: list[str] | None, text: str) -> None:
    if warnings is not None:
        warnings.append(text)


def _check_template_file(task: Task, templar: Any, known: set[str], check_names: bool, playbook_dir: Path) -> None:
    src = task.args.get("src")
    if not isinstance(src, str) or _is_template(templar, src):
        return
    if any(_is_template(templar, task.args.get(name)) for name in TEMPLATE_OPTIONS):
        return  # how the file parses is known once the task's options render
    options = file_options(task.args, f"task {task.display_name!r}", task.location)
    path = find_file(src, task, playbook_dir, "templates")
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read template {path}: {exc}", task.location) from None
    templar.check_file_syntax(text, Location(str(path)), options=options)
    if check_names and not custom_delimiters(options):
        _check_names(templar.referenced_names(text), known, task, f"template {path}")


def _check_names(names: set[str], known: set[str], task: Task, where: str) -> None:
    missing = sorted(n for n in names if n not in known and not n.startswith("ansible_"))
    if missing:
        raise InputError(f"{where}: undefined variable {missing[0]!r} (defined in no inventory, play, "
                         f"role, vars file, register or set_fact)", task.location)


def _is_template(templar: Any, value: Any) -> bool:
    return isinstance(value, str) and is_template(value)
