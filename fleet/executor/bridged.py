"""Tasks of modules fleet lacks: Ansible's own module code through the agent (:mod:`fleet.bridge`).

A bridged task travels as a :class:`~fleet.connection.ModuleCall` carrying a
:class:`fleet.bridge.BridgedCall`, in the same request as native tasks (pipelining, loops: one
call per item). Its arguments are not validated on the controller: the module validates them
on the host, as in Ansible. Its result is shaped as Ansible's TaskExecutor shapes it and is
registered exactly as Ansible registers it; there is no re-observe after apply (the module's
word is taken, as Ansible takes it) and check mode is as good as the module's.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

from fleet.bridge import INSTALL, Bridge, Resolution, TaskFlags, fleet_diff
from fleet.connection import ModuleCall
from fleet.errors import AnsibleOnlyValue, FleetError, InputError
from fleet.executor.outcome import Outcome
from fleet.playbook import Task
from fleet.result import TaskResult

# Host variables that change the _ansible_* arguments, as ActionBase reads them
ARG_VARS = ("ansible_remote_tmp", "ansible_shell_executable", "ansible_keep_remote_files")


def is_bridged(task: Task, registry: Any, local: Any) -> bool:
    """Does ``task`` run one of Ansible's modules (none of fleet's has its name)?"""
    return task.module not in local and registry.find(task.module) is None


# Ansible's action plugins that hand a task to another module (ansible.builtin.package picks
# the host's package manager: apt on the hosts fleet manages; service picks systemd)
HANDED_TO = {"package": "ansible.legacy.apt", "service": "ansible.legacy.systemd_service",
             "systemd": "ansible.legacy.systemd_service", "systemd_service": "ansible.legacy.systemd_service"}


# Parameters Ansible removed that roles still write: an error where a host reaches the task, as
# in Ansible (which never looks at a task it skips), not at preflight like a typo
REMOVED = {
    ("command", "warn"): "removed from Ansible's command module in ansible-core 2.14",
    ("shell", "warn"): "removed from Ansible's shell module in ansible-core 2.14",
}


# Parameters of a sibling module that Ansible's action refuses in its own words (the shell action
# runs the command module, whose expand_argument_vars it refuses): a failure where reached
REFUSED = {
    ("shell", "expand_argument_vars"): "Unsupported parameters for (shell) module: expand_argument_vars",
}


@dataclass(frozen=True)
class Route:
    """How a task of one of fleet's native modules runs when it gives parameters that fleet's
    module lacks and Ansible's module of the same name documents (``extra``): through the
    bridge, as ``module`` (Ansible's own module code), or not at all -- then the task fails
    with ``failure``, on a host that reaches it only."""

    extra: tuple[str, ...] = ()
    module: Resolution | None = None
    failure: str = ""
    exact: bool = False  # the failure is Ansible's message, word for word (the task's msg)


def route(bridge: Bridge | None, task: Task, spec: Any) -> Route:
    """The :class:`Route` of a native task. An empty one when every parameter is fleet's, or
    when one is documented by no Ansible module either: validation then names the typo."""
    if not isinstance(task.args, dict):
        return Route()
    own = set(spec.field_names) | set(spec.aliases)
    extra = tuple(str(k) for k in task.args if str(k) not in own and not str(k).startswith("_"))
    if bridge is None:
        return Route()
    if not extra:
        why = ansible_only(task, spec)
        return _instead(bridge, task, (), f"fleet's module {task.module}: {why}") if why else Route()
    documented = bridge.ansible_options(task.module)
    if documented is None:
        return Route()
    unknown = [name for name in extra if name not in documented]
    if unknown and all((task.module, name) in REFUSED for name in unknown):
        return Route(extra, failure=REFUSED[(task.module, unknown[0])], exact=True)
    if unknown and all((task.module, name) in REMOVED for name in unknown):
        names = ", ".join(unknown)
        return Route(extra, failure=f"Unsupported parameters for (ansible.legacy.{task.module}) module: {names} "
                                    f"({REMOVED[(task.module, unknown[0])]})")
    if unknown:  # a typo: known to neither fleet's module nor Ansible's
        close = difflib.get_close_matches(unknown[0], sorted(own | documented), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise InputError(f"task {task.display_name!r}: module {task.module} has no parameter {unknown[0]!r}{hint}",
                         task.location)
    lacks = f"fleet's module {task.module} does not implement {', '.join(map(repr, extra))}"
    return _instead(bridge, task, extra, lacks)


def ansible_only(task: Task, spec: Any) -> str:
    """Why fleet's module cannot take the task's literal values though Ansible's module can
    (its ``AnsibleOnly`` failure: an apt name wildcard), or ""."""
    try:
        spec.check_static(task.args, lambda value: isinstance(value, str) and ("{{" in value or "{%" in value),
                          f"task {task.display_name!r}", task.location)
    except AnsibleOnlyValue as exc:
        return exc.reason
    except InputError:
        return ""  # validation names it
    return ""


def _instead(bridge: Bridge, task: Task, extra: tuple[str, ...], lacks: str) -> Route:
    """Ansible's module of the task's name, through the bridge, where fleet's cannot do it."""
    if not bridge.available:
        return Route(extra, failure=f"{lacks}; Ansible's module does, and fleet would run its code, but "
                                    f"ansible-core is not installed: install it with {INSTALL}")
    use = task.args.get("use") if task.module in ("package", "service") else None
    target = f"ansible.legacy.{use}" if isinstance(use, str) and use.isidentifier() and use != "auto" \
        else HANDED_TO.get(task.module)
    found = bridge.resolve(target) if target else bridge.ansible_module(task.module)
    if found is not None and found.runnable:
        return Route(extra, found)
    why = found.refused if found is not None else "Ansible has no module fleet could run instead"
    documents = f" (Ansible documents {'it' if len(extra) == 1 else 'them'})" if extra else ""
    return Route(extra, failure=f"{lacks}{documents}; fleet cannot run Ansible's instead: {why}")


class Routes:
    """How each task runs -- fleet's module, or Ansible's code through the bridge -- decided
    once per task (a play's tasks live as long as its executor)."""

    def __init__(self, bridge: Bridge | None, registry: Any, local: Any) -> None:
        self.bridge, self.registry, self.local = bridge, registry, local
        # by id, with the task itself held: an included file's tasks come and go, and a freed
        # task's id is reused by the next one (which then ran as another task's module)
        self._routes: dict[int, tuple[Task, Route]] = {}

    def route(self, task: Task) -> Route:
        """The :class:`Route` of a native task (empty for others)."""
        known = self._routes.get(id(task))
        if known is None or known[0] is not task:
            spec = self.registry.find(task.module) if task.module not in self.local else None
            known = self._routes[id(task)] = (task, route(self.bridge, task, spec) if spec is not None else Route())
        return known[1]

    def bridged(self, task: Task) -> bool:
        """Does the task run Ansible's module code: a module fleet lacks, or one of fleet's given
        parameters only Ansible's module of that name has?"""
        return is_bridged(task, self.registry, self.local) or self.route(task).module is not None

    def module(self, task: Task) -> Resolution:
        """The bridged task's module; InputError (file:line) when it cannot run."""
        return self.route(task).module or resolve(self.bridge, task)

    def runnable(self, task: Task) -> Resolution | None:
        """The bridged task's module, or None (a native task, or a module that cannot run: the
        task fails when a host reaches it, not before)."""
        if not self.bridged(task):
            return None
        try:
            return self.module(task)
        except FleetError:
            return None


def resolve(bridge: Bridge | None, task: Task) -> Resolution:
    """The task's module, runnable; InputError (file:line) otherwise."""
    if bridge is None:
        raise InputError(f"task {task.display_name!r}: unknown module {task.module!r}", task.location)
    found = bridge.resolve(task.module, task.collections, task.role.path if task.role else None, task.location)
    if not found.runnable:
        raise bridge.unknown(task.module, task.collections, task.role.path if task.role else None, task.location)
    return found


def loop_registered(registered: dict[str, Any]) -> dict[str, Any]:
    """A loop's registered result as Ansible's TaskExecutor makes it: ``failed`` only when true."""
    if not registered.get("failed"):
        registered.pop("failed", None)
    return registered


def mark(result: TaskResult, bridge: Bridge, module: Resolution) -> None:
    """Say in the result how the task runs: Ansible's code, which module, which ansible-core."""
    result.via = "ansible"
    result.fqcn = module.fqcn
    result.ansible_core = bridge.version


def calls(bridge: Bridge, task: Task, module: Resolution, args: dict[str, Any], variables: Any,
          check: bool, diff: bool, no_log: bool, verbosity: int,
          env: dict[str, str] | None = None) -> list[ModuleCall]:
    """The one agent call of a task (or a loop item) of ``module``; ``env``: the task's rendered
    ``environment``, the module process's (as Ansible's env prefix gives it)."""
    host_vars = {name: variables[name] for name in ARG_VARS if name in variables}
    flags = TaskFlags(check=check, diff=diff, no_log=no_log, verbosity=verbosity)
    try:
        bridged = bridge.call(module, args, flags, host_vars, env)
    except FleetError as exc:
        raise InputError(f"task {task.display_name!r}: {exc.message}", task.location) from None
    payload = bridged.payload
    return [ModuleCall(module.fqcn, "", payload.sha, {}, check=check, diff=diff, bridged=bridged)]


def outcome(bridge: Bridge, module: Resolution, results: list[dict[str, Any]], no_log: bool,
            item: bool = False) -> Outcome:
    """The agent's result of one bridged call as an :class:`Outcome` whose registered form is
    exactly what Ansible registers (a loop ``item`` keeps its ``invocation``, as there)."""
    if len(results) != 1:
        return Outcome("failed", msg=f"module {module.fqcn}: expected one result, got {len(results)}")
    shaped = bridge.shape(results[0], module, bridge.profile(module), no_log)
    data = shaped.registered()
    if item and "invocation" in shaped.result:
        data["invocation"] = shaped.result["invocation"]
    msg = str(data["msg"]) if isinstance(data.get("msg"), str) else ""
    warnings = list(shaped.warnings) + [str(w) for w in data.get("warnings") or []]
    for entry in data.get("deprecations") or []:
        text = entry.get("msg") if isinstance(entry, dict) else entry
        version = f" (removed in version {entry['version']})" if isinstance(entry, dict) and entry.get("version") else ""
        warnings.append(f"[DEPRECATION] {text}{version}")
    exception = data.get("exception") if isinstance(data.get("exception"), str) else None
    if "module_stdout" in data and shaped.status == "failed":  # Ansible's MODULE FAILURE, in one line
        out = str(data.get("module_stdout") or "").strip()
        said = f"it printed {out[:120]!r}" if out else "it printed nothing"
        msg = (f"module {module.fqcn} returned no JSON result ({said}; exit status {data.get('rc')}"
               f"{'; ' + _last(data.get('module_stderr')) if _last(data.get('module_stderr')) else ''})")
    elif shaped.status == "failed" and not msg:
        msg = f"module {module.fqcn} failed"
    done = Outcome(shaped.status, bool(data.get("changed")), msg, data, fleet_diff(data.get("diff")), warnings,
                   exception)
    done.exact = True
    return done


def _last(text: Any) -> str:
    """The last non-empty line of a module's stderr (a traceback's error), shortened."""
    lines = [line.strip() for line in str(text or "").splitlines() if line.strip()]
    return lines[-1][:200] if lines else ""
