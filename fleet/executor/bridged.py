"""Tasks of modules fleet lacks: Ansible's own module code through the agent (:mod:`fleet.bridge`).

A bridged task travels as a :class:`~fleet.connection.ModuleCall` carrying a
:class:`fleet.bridge.BridgedCall`, in the same request as native tasks (pipelining, loops: one
call per item). Its arguments are not validated on the controller: the module validates them
on the host, as in Ansible. Its result is shaped as Ansible's TaskExecutor shapes it and is
registered exactly as Ansible registers it; there is no re-observe after apply (the module's
word is taken, as Ansible takes it) and check mode is as good as the module's.
"""

from __future__ import annotations

from typing import Any

from fleet.bridge import Bridge, Resolution, TaskFlags, fleet_diff
from fleet.connection import ModuleCall
from fleet.errors import FleetError, InputError
from fleet.executor.outcome import Outcome
from fleet.playbook import Task
from fleet.result import TaskResult

# Host variables that change the _ansible_* arguments, as ActionBase reads them
ARG_VARS = ("ansible_remote_tmp", "ansible_shell_executable", "ansible_keep_remote_files")


def is_bridged(task: Task, registry: Any, local: Any) -> bool:
    """Does ``task`` run one of Ansible's modules (none of fleet's has its name)?"""
    return task.module not in local and registry.find(task.module) is None


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
