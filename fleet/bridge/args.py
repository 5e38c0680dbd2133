"""The ``_ansible_*`` arguments a module gets, set by the installed ansible-core's own
``ActionBase._update_module_args`` (called on a stand-in for the action plugin), so each
release's set (2.18's ``_ansible_string_conversion_action``, 2.19's ``_ansible_tracebacks_for``,
...) comes from its own code. fleet then puts in what is fleet's to say: its verbosity, and a
module never gets a temporary directory made for it (as with Ansible's pipelining, it makes one
under ``remote_tmp`` only when it needs one, and removes it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from fleet.bridge.core import AnsibleCore
from fleet.bridge.payload import PayloadError


@dataclass(frozen=True)
class TaskFlags:
    """What a task says about how its module runs."""

    check: bool = False
    diff: bool = False
    no_log: bool = False
    verbosity: int = 0
    ignore_unknown_opts: bool = False


class _ActionStandIn:
    """The attributes ``ActionBase._update_module_args`` reads, for one task."""

    _supports_check_mode = True  # a module without check mode skips itself (basic does it)

    def __init__(self, flags: TaskFlags, task_vars: Mapping[str, Any], shell: str) -> None:
        self._task = SimpleNamespace(check_mode=flags.check, no_log=flags.no_log, diff=flags.diff)
        self._connection = SimpleNamespace(socket_path=None, _shell=SimpleNamespace(tmpdir=None))
        self._play_context = SimpleNamespace(executable=shell)
        self._vars = task_vars

    def get_shell_option(self, option: str, default: Any = None) -> Any:
        return self._vars.get(f"ansible_{option}", default)

    def _is_become_unprivileged(self) -> bool:
        return False


def module_args(core: AnsibleCore, module_name: str, args: Mapping[str, Any], flags: TaskFlags,
                task_vars: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """``args`` with the ``_ansible_*`` arguments ansible-core would add for ``module_name``."""
    task_vars = dict(task_vars or {})
    constants = core.module("ansible.constants")
    action = core.module("ansible.plugins.action").ActionBase
    shell = str(task_vars.get("ansible_shell_executable") or constants.DEFAULT_EXECUTABLE)
    result = dict(args)
    try:
        action._update_module_args(_ActionStandIn(flags, task_vars, shell), module_name, result, task_vars,
                                   ignore_unknown_opts=flags.ignore_unknown_opts)
    except (AttributeError, TypeError) as exc:
        raise PayloadError(f"ansible-core {core.version} sets its module arguments in a way fleet does not "
                           f"know ({exc})") from exc
    result["_ansible_verbosity"] = flags.verbosity
    result["_ansible_tmpdir"] = None
    return result
