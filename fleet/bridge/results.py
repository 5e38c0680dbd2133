"""What a bridged module returned, shaped as Ansible shapes it.

The steps are ansible-core's: ``ActionBase._parse_returned_data`` (called on a stand-in: junk
around the JSON becomes Ansible's warning, no JSON becomes its "MODULE FAILURE" result with
``rc``/``module_stdout``/``module_stderr``), then ``_execute_module``'s clean-up (internal keys
removed with Ansible's warning, ``stdout_lines``/``stderr_lines``), then the TaskExecutor's
``failed``/``changed`` defaults. A module without check mode skips itself with Ansible's
message (``ansible.module_utils.basic`` does it on the host). ``register`` gets the result
without ``invocation`` and internal keys, as Ansible's strategy stores it; under ``no_log``
everything printed or written is Ansible's censored form. Values the module's argument spec
marks ``no_log`` are already masked by ``basic`` in ``invocation.module_args``.
"""

from __future__ import annotations

import copy
import inspect
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from fleet.bridge.core import AnsibleCore

CENSORED = "the output has been hidden due to the fact that 'no_log: true' was specified for this result"
# What Ansible's censored result keeps (ansible.executor.task_result._PRESERVE)
PRESERVE = ("attempts", "changed", "retries", "_ansible_no_log", "exception", "warnings", "deprecations")
INTERNAL_RESULT_KEYS = ("add_host", "add_group")


@dataclass
class Shaped:
    """One bridged task's result: ``result`` as Ansible's TaskExecutor holds it (what
    ``changed_when``/``failed_when`` see), fleet's ``status``, and the controller-side
    ``warnings`` Ansible would print (junk output, removed internal keys)."""

    result: dict[str, Any]
    status: str
    no_log: bool = False
    warnings: list[str] = field(default_factory=list)

    def registered(self) -> dict[str, Any]:
        """What ``register`` stores (no ``invocation``, no ``_ansible_*`` keys)."""
        clean = strip_internal(copy.deepcopy(self.result))
        clean.pop("invocation", None)
        return clean

    def shown(self) -> dict[str, Any]:
        """What may be printed or written (report, ``-v``): Ansible's censored result under no_log."""
        if self.no_log or self.result.get("_ansible_no_log"):
            kept = {key: self.result[key] for key in PRESERVE if key in self.result}
            kept["censored"] = CENSORED
            return strip_internal(kept)
        shown = strip_internal(copy.deepcopy(self.result))
        shown.pop("failed", None)
        shown.pop("skipped", None)
        return shown


class _ParseStandIn:
    """What ``ActionBase._parse_returned_data`` reads besides its arguments."""

    _used_interpreter = None

    def __init__(self, module: str) -> None:
        from types import SimpleNamespace

        self._task = SimpleNamespace(resolved_action=module, action=module)


def shape(core: AnsibleCore, agent_result: Mapping[str, Any], module: str, profile: str = "legacy",
          no_log: bool = False) -> Shaped:
    """Shape the agent's result of one bridged call (see the module doc)."""
    host = dict(agent_result.get("ansible") or {})
    warnings: list[str] = []
    if "stdout" in host or not agent_result.get("data"):
        data = _parse(core, host.get("stdout", ""), host.get("stderr", ""), host.get("rc"), module, profile,
                      warnings)
        if agent_result.get("msg", "").startswith("timed out") or "the Ansible module runner" in str(
                agent_result.get("msg", "")):
            data.update(failed=True, msg=agent_result["msg"])
    else:
        data = _parse(core, json.dumps(agent_result["data"]), host.get("stderr", ""), host.get("rc"), module,
                      profile, warnings)
    data.pop("_ansible_suppress_tmpdir_delete", None)
    results = data.get("results")
    if results is not None and (not isinstance(results, list)):
        data["ansible_module_results"] = data.pop("results")
        warnings.append("Found internal 'results' key in module return, renamed to 'ansible_module_results'.")
    for key in list(data):
        if (key.startswith("_ansible_") and key != "_ansible_parsed") or key in INTERNAL_RESULT_KEYS:
            warnings.append(f"Removed unexpected internal key in module return: {key} = {data[key]}")
            del data[key]
    for key in ("warnings", "deprecations"):
        if key in data and not data[key]:
            del data[key]
    for stream in ("stdout", "stderr"):
        if stream in data and f"{stream}_lines" not in data:
            data[f"{stream}_lines"] = (data.get(stream) or "").splitlines()
    if "failed" not in data:
        data["failed"] = "rc" in data and data["rc"] not in (0, "0")
    data.setdefault("changed", False)
    data["_ansible_no_log"] = bool(no_log)
    status = ("failed" if data["failed"] else "skipped" if data.get("skipped")
              else "changed" if data["changed"] else "ok")
    return Shaped(data, status, no_log, warnings)


def _parse(core: AnsibleCore, stdout: str, stderr: str, rc: Any, module: str, profile: str,
           warnings: list[str]) -> dict[str, Any]:
    """``ActionBase._parse_returned_data`` of the installed ansible-core; its junk warnings
    collected here instead of printed."""
    filter_lines = core.module("ansible.module_utils.json_utils")._filter_non_json_lines
    try:
        stdout, junk = filter_lines(stdout, objects_only=True)
        warnings.extend(junk)
    except ValueError:
        pass  # no JSON: ansible-core's parse below gives its failure result
    action = core.module("ansible.plugins.action").ActionBase
    res = {"rc": rc, "stdout": stdout, "stderr": stderr}
    parse = action._parse_returned_data
    if "profile" in inspect.signature(parse).parameters:
        data = parse(_ParseStandIn(module), res, profile)
    else:
        data = parse(_ParseStandIn(module), res)
    if not isinstance(data, dict):  # 2.21+: a UnifiedTaskResult
        data = data.as_result_dict()
    event = getattr(data.get("exception"), "event", None)
    if event is not None and "msg" not in data and data.get("failed"):
        # 2.19+: an unhandled exception in the module, as the TaskExecutor words it
        data["msg"] = f"Task failed: Module failed: {event.msg}"
    return _native(core, data)


def _native(core: AnsibleCore, data: dict[str, Any]) -> dict[str, Any]:
    """Ansible's own types in a result (2.19's error summaries, tagged strings) as plain data."""
    if not core.profiles:
        return dict(data)
    native = core.module("ansible.utils.vars").transform_to_native_types
    return dict(native(data))


def strip_internal(data: Any) -> Any:
    """Remove every ``_ansible_*`` key, at any depth (Ansible's ``strip_internal_keys``)."""
    if isinstance(data, dict):
        for key in list(data):
            if isinstance(key, str) and key.startswith("_ansible_"):
                del data[key]
            else:
                strip_internal(data[key])
    elif isinstance(data, list):
        for item in data:
            strip_internal(item)
    return data


def fleet_diff(diff: Any) -> dict[str, Any] | None:
    """A module's ``diff`` (Ansible's before/after texts or mappings, or a list of them) in
    fleet's form, for ``--diff`` and drift: text as a unified diff, mappings field by field."""
    import difflib

    parts = diff if isinstance(diff, list) else [diff]
    out: list[dict[str, Any]] = []
    for part in parts:
        if not isinstance(part, dict) or ("before" not in part and "after" not in part):
            continue
        before, after = part.get("before", ""), part.get("after", "")
        if isinstance(before, dict) or isinstance(after, dict):
            before, after = dict(before or {}), dict(after or {})
            fields = sorted({str(k) for k in (*before, *after) if before.get(k) != after.get(k)})
            out.append({"fields": fields, "before": {k: before.get(k) for k in fields},
                        "after": {k: after.get(k) for k in fields}})
            continue
        name = str(part.get("after_header") or part.get("before_header") or "content")
        text = "".join(difflib.unified_diff(
            str(before or "").splitlines(keepends=True), str(after or "").splitlines(keepends=True),
            fromfile=str(part.get("before_header") or "before"), tofile=str(part.get("after_header") or "after")))
        if text:
            out.append({"fields": [name], "before": {}, "after": {}, "unified": {name: text}})
    if not out:
        return None
    return out[0] if len(out) == 1 else {"parts": out}
