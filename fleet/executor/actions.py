"""Controller-side actions and the preparation of module calls.

Actions run on the controller (``debug``, ``assert``, ``fail``, ``set_fact``,
``include_vars``, ``validate_argument_spec``; ``group_by`` and ``add_host`` in
:mod:`fleet.executor.inventoryactions`). ``template`` and ``copy`` with a local ``src`` are prepared here too: the
file is read (and rendered) on the controller and shipped to the agent's ``copy`` module.
Everything else goes to the agent as is, after validation against the module's Params.
"""

from __future__ import annotations

import base64
import json
import os
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import fleet.executor.inventoryactions as inventoryactions
import fleet.executor.reboot as reboot
from fleet.connection import ModuleCall
from fleet.errors import InputError, Location, TemplateError
from fleet.executor.argspec import validate_argument_spec
from fleet.executor.context import HostRuntime
from fleet.executor.files import LocalFiles
from fleet.executor.includevars import include_vars
from fleet.executor.script import script_args
from fleet.playbook import Task
from fleet.registry import ModuleRegistry
from fleet.templating import TEMPLATE_OPTIONS, confined, file_options, is_unsafe
from fleet.vars import Layer
from fleet.yamlsrc import VAULT_HEADERS

LOCAL_ACTIONS = frozenset({"debug", "assert", "fail", "set_fact", "include_vars", "validate_argument_spec",
                           "group_by", "add_host", "wait_for_connection", "reboot"})
# controller actions the task executor awaits (fleet.executor.awaited): pause waits, raw reaches
# the host through its transport
AWAITED = frozenset({"pause", "raw"})
# Ansible's BYPASS_HOST_LOOP actions: once per play, on its first host (their result stays there)
ONCE_PER_PLAY = frozenset({"pause", "add_host"})
SETS_VARS = frozenset({"set_fact", "include_vars"})  # their items change what the next item sees
CONTROL_ACTIONS = frozenset({"meta", "include_tasks", "import_tasks", "include_role", "import_role"})


@dataclass
class ActionContext:
    """What an action needs: the task, the host's view of variables, its rendered args."""

    task: Task
    host: str
    variables: Any  # fleet.vars.HostVars
    args: dict[str, Any]
    templar: Any  # fleet.templating.Templar
    registry: ModuleRegistry
    files: LocalFiles
    runtime: HostRuntime
    check: bool = False  # the task's modes, carried by each of its module calls
    diff: bool = False
    verbosity: int = 0  # the run's -v count (debug's verbosity threshold)
    play: Any = None  # fleet.executor.state.PlayState: add_host and group_by change its inventory

    @property
    def where(self) -> str:
        return f"task {self.task.display_name!r}"

    @property
    def location(self) -> Location:
        return self.task.location

    @property
    def within(self) -> tuple[Any, ...]:
        """Folders a file name computed from host data may resolve into: the task's role's,
        its own folder, the playbook's."""
        return (self.task.role.path if self.task.role else None, self.task.base_dir, self.files.playbook_dir)


def _result(status: str = "ok", msg: str = "", **data: Any) -> dict[str, Any]:
    return {"status": status, "changed": status == "changed", "msg": msg, "data": data}


def debug(ctx: ActionContext) -> dict[str, Any]:
    try:
        threshold = int(ctx.args.get("verbosity") or 0)
    except (TypeError, ValueError):
        raise InputError(f"{ctx.where}: debug: verbosity must be an integer, got {ctx.args['verbosity']!r:.40}",
                         ctx.location) from None
    if threshold > ctx.verbosity:  # as Ansible: shown from -v N on, skipped below
        return {"status": "skipped", "changed": False, "msg": "",
                "data": {"skipped_reason": "Verbosity threshold not met."}}
    if "var" in ctx.args:
        raw = ctx.args["var"]
        name = str(raw)
        try:  # a name that is host data is shown as text, never evaluated (as Ansible's unsafe)
            value = raw if is_unsafe(raw) else ctx.templar.evaluate(name, ctx.variables, ctx.location)
        except TemplateError as exc:  # as Ansible: an undefined var is shown, not a failure
            if "undefined" not in exc.message and "has no attribute" not in exc.message:
                raise
            value = "VARIABLE IS NOT DEFINED!"
        return _result(**{name: value})
    msg = ctx.args.get("msg", "Hello world!")
    text = msg if isinstance(msg, str) else json.dumps(msg, indent=4, sort_keys=True, default=str)
    return {"status": "ok", "changed": False, "msg": text, "data": {"msg": msg}}


def assert_(ctx: ActionContext) -> dict[str, Any]:
    that = ctx.args.get("that")
    if that is None:
        raise InputError(f"{ctx.where}: assert needs 'that'", ctx.location)
    conditions = that if isinstance(that, list) else [that]
    for condition in conditions:
        if not ctx.templar.truth(condition, ctx.variables, ctx.location):
            msg = ctx.args.get("fail_msg", ctx.args.get("msg", "Assertion failed"))
            return _result("failed", str(msg), assertion=str(condition), evaluated_to=False)
    return _result(msg=str(ctx.args.get("success_msg", "All assertions passed")))


def fail(ctx: ActionContext) -> dict[str, Any]:
    return _result("failed", str(ctx.args.get("msg", "Failed as requested from task")))


def set_fact(ctx: ActionContext) -> dict[str, Any]:
    facts = {k: v for k, v in ctx.args.items() if k != "cacheable"}
    for name in facts:
        if not str(name).isidentifier():
            raise InputError(f"{ctx.where}: set_fact: {name!r} is not a valid variable name", ctx.location)
    ctx.runtime.set_facts.update(facts)
    if _truthy(ctx.args.get("cacheable")):  # kept in the fact cache (ansible.cfg's fact_caching)
        ctx.runtime.cacheable.update(facts)
    return _result(ansible_facts=facts)


def _awaited(ctx: ActionContext) -> dict[str, Any]:
    raise InputError(f"{ctx.where}: {ctx.task.module} is awaited, not called", ctx.location)


LOCAL: dict[str, Callable[[ActionContext], dict[str, Any]]] = {
    **{name: _awaited for name in sorted(AWAITED)},
    "debug": debug,
    "assert": assert_,
    "fail": fail,
    "set_fact": set_fact,
    "include_vars": include_vars,
    "validate_argument_spec": validate_argument_spec,
    "group_by": inventoryactions.group_by,
    "add_host": inventoryactions.add_host,
    "wait_for_connection": reboot.looped,  # run by fleet.executor.reboot when the task's turn comes
    "reboot": reboot.looped,
}


def module_calls(ctx: ActionContext) -> list[ModuleCall]:
    """The agent calls for a module task (template/copy read their local files here)."""
    module = ctx.task.module
    if module == "copy":  # Ansible's copy action's first checks, in its order and words
        if not ctx.args.get("src") and ctx.args.get("content") is None:
            raise InputError(f"{ctx.where}: src (or content) is required", ctx.location)
        if not ctx.args.get("dest"):
            raise InputError(f"{ctx.where}: dest is required", ctx.location)
    if module == "template":
        return [_template(ctx)]
    if module == "script":
        return [_call(ctx, "script", script_args(ctx, _read_b64, _truthy))]
    if module == "copy" and ctx.args.get("src") is not None and not _truthy(ctx.args.get("remote_src")):
        return _copy_local(ctx)
    return [_call(ctx, module, ctx.args)]


def _call(ctx: ActionContext, module: str, args: dict[str, Any]) -> ModuleCall:
    spec = ctx.registry.find(module)
    if spec is None:
        raise InputError(f"{ctx.where}: unknown module {module!r}", ctx.location)
    missing = sorted(name for name in spec.required if name not in spec.canonical(args, ctx.where, ctx.location))
    if missing:  # Ansible's words (tests assert on them): a task that omits one fails where it is reached
        raise InputError(f"missing required arguments: {', '.join(missing)}", ctx.location)
    params = spec.validate(args, ctx.where, ctx.location)
    return ModuleCall(spec.name, spec.source, spec.sha, params, spec.compiled_code, check=ctx.check, diff=ctx.diff,
                      sensitive=spec.connection_sensitive)


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "yes", "true", "on", "y")
    return bool(value)


TEMPLATE_ONLY = ("src", "output_encoding", *TEMPLATE_OPTIONS)


def _template(ctx: ActionContext) -> ModuleCall:
    spec = ctx.registry.find("template")
    if spec is None:
        raise InputError(f"{ctx.where}: the template module is missing", ctx.location)
    params = spec.validate(ctx.args, ctx.where, ctx.location)
    options = file_options(params, ctx.where, ctx.location)
    confined(ctx.args.get("src"), "template src", ctx.location, ctx.within)
    path = ctx.files.find(str(params["src"]), ctx.task, "templates")
    try:
        text = ctx.files.read_bytes(path).decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read template {path}: {exc}", ctx.location) from None
    template_vars = ctx.variables.push(Layer("task vars", "template", final=True, values={
        "template_path": str(path),
        "template_fullpath": str(path),
        "template_host": os.uname().nodename,
        "template_uid": str(os.getuid()),
        "template_run_date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "template_destpath": params["dest"],
        # Ansible's default DEFAULT_MANAGED_STR; a variable of that name wins (ansible-core 2.19+)
        **({} if "ansible_managed" in ctx.variables else {"ansible_managed": "Ansible managed"}),
    }))
    content = ctx.templar.render_file(text, template_vars, Location(str(path)), options=options)
    copy_args = {k: v for k, v in params.items() if k not in TEMPLATE_ONLY and v is not None}
    if copy_args.get("mode") == "preserve":  # as Ansible: the template file's own mode
        copy_args["mode"] = f"0{stat.S_IMODE(path.stat().st_mode):03o}"
    encoding = params.get("output_encoding") or "utf-8"
    if encoding.replace("-", "").lower() == "utf8":
        copy_args["content"] = content
    else:
        try:
            data = content.encode(encoding)
        except (LookupError, UnicodeEncodeError) as exc:
            raise InputError(f"{ctx.where}: output_encoding {encoding!r}: {exc}", ctx.location) from None
        copy_args["content_b64"] = base64.b64encode(data).decode("ascii")
    return _call(ctx, "copy", copy_args)


def _copy_local(ctx: ActionContext) -> list[ModuleCall]:
    confined(ctx.args["src"], "copy src", ctx.location, ctx.within)
    src = str(ctx.args["src"])
    path = ctx.files.find(src, ctx.task, "files")
    base = {k: v for k, v in ctx.args.items()
            if k not in ("src", "remote_src", "local_follow", "directory_mode", "decrypt")}
    decrypt = _truthy(ctx.args.get("decrypt", True))
    preserve = base.get("mode") == "preserve"  # as Ansible's copy action: each source file's own mode
    if path.is_file():
        # src rides along so the copy module can name the file when dest is a directory
        return [_call(ctx, "copy", dict(base, src=path.name, content_b64=_read_b64(path, ctx, decrypt),
                                        **_mode_of(path, preserve)))]
    # A directory: like Ansible, "dir/" copies its contents, "dir" copies the directory itself.
    dest = str(base.pop("dest")).rstrip("/")
    root = dest if src.endswith("/") else f"{dest}/{path.name}"
    calls = [_call(ctx, "file", {"path": root, "state": "directory",
                                 **({"mode": ctx.args["directory_mode"]} if ctx.args.get("directory_mode") else {})})]
    for current, dirnames, filenames in sorted(os.walk(path)):
        dirnames.sort()
        rel = os.path.relpath(current, path)
        target_dir = root if rel == "." else f"{root}/{rel}"
        if rel != ".":
            calls.append(_call(ctx, "file", {"path": target_dir, "state": "directory"}))
        for filename in sorted(filenames):
            content = _read_b64(Path(current) / filename, ctx, decrypt)
            calls.append(_call(ctx, "copy", dict(base, dest=f"{target_dir}/{filename}", content_b64=content,
                                                 **_mode_of(Path(current) / filename, preserve))))
    return calls


def _mode_of(path: Path, preserve: bool) -> dict[str, str]:
    """``mode`` for a copy of ``path`` under ``mode: preserve`` (its own mode), else nothing."""
    return {"mode": f"0{stat.S_IMODE(path.stat().st_mode):03o}"} if preserve else {}


def _read_b64(path: Path, ctx: ActionContext, decrypt: bool = True) -> str:
    """The file's bytes in base64; a vault-encrypted file decrypted unless ``decrypt`` is off
    (as Ansible's copy action: its ``decrypt`` defaults to yes)."""
    try:
        data = ctx.files.read_bytes(path)
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc}", ctx.location) from None
    if decrypt and data.lstrip().startswith(tuple(h.encode() for h in VAULT_HEADERS)):
        data = ctx.templar.secrets.decrypt(data.decode("ascii", "replace"), Location(str(path)),
                                           document=True).encode("utf-8")
    return base64.b64encode(data).decode("ascii")
