"""The ``async``/``poll`` keywords and ``async_status`` on the controller, as Ansible's
TaskExecutor (``_poll_async_result``) and its ``async_status`` action behave.

``async: N`` marks the task's calls as jobs: the agent starts each detached and answers with its
id (fleet.agent.asyncjob). ``poll: 0`` keeps that answer as the task's result; ``poll: M``
looks at the job every M seconds (an ``async_status`` call) until it finished or N seconds of
polls went by, then removes its job file; the task's result is the job's (the module's result
with ``ansible_job_id``, ``started``, ``finished``, ``results_file``...), or Ansible's
"async task did not complete within the requested time" failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections.abc import Awaitable, Callable
from typing import Any

from fleet.connection import ModuleCall
from fleet.errors import InputError
from fleet.executor.defaults import ModuleFailed
from fleet.executor.hoststate import Interrupted
from fleet.executor.outcome import Outcome
from fleet.executor.plan import Unreachable
from fleet.playbook import Task

#: Where job files are unless ``ansible_async_dir`` says (Ansible's shell option default).
DEFAULT_DIR = "~/.ansible_async"
_DIR_TEMPLATE = "{{ ansible_async_dir | default('" + DEFAULT_DIR + "') }}"

#: Ansible's actions that run on its controller and refuse ``async`` (their ActionModule does not
#: say ``_supports_async``); the others (a plain module, command/shell, package, service...) run as jobs.
NO_ASYNC = frozenset({
    "add_host", "assemble", "assert", "async_status", "copy", "debug", "fail", "fetch", "group_by",
    "include_vars", "pause", "raw", "reboot", "script", "set_fact", "set_stats", "template", "unarchive",
    "validate_argument_spec", "wait_for_connection",
})

Send = Callable[[list[ModuleCall]], Awaitable[list[dict[str, Any]]]]


def is_async(task: Task) -> bool:
    """Does the task say ``async`` (a template counts: it is decided per host)?"""
    return task.async_val not in (None, "", 0, 0.0)


def _whole(templar: Any, value: Any, what: str, task: Task, variables: Any) -> int:
    rendered = templar.render(value, variables, task.location)
    try:
        return int(float(rendered)) if not isinstance(rendered, bool) else int(rendered)
    except (TypeError, ValueError):
        raise InputError(f"task {task.display_name!r}: {what} must be a number of seconds, got {rendered!r:.60}",
                         task.location) from None


def refuse(task: Task) -> None:
    """Fail the task as Ansible's action does when it says ``async`` and cannot run as a job."""
    if is_async(task) and task.module in NO_ASYNC:
        raise ModuleFailed(f"This action ({task.module}) does not support async.")


def prepared(templar: Any, task: Task, variables: Any, calls: list[ModuleCall],
             bridged: Callable[[Task], bool]) -> list[ModuleCall]:
    """The task's calls as jobs (``async``), or an ``async_status`` call told where job files are
    (``bridged``: is the task's module one of Ansible's?)."""
    if not is_async(task) and task.module != "async_status":
        return calls
    refuse(task)
    directory = str(templar.render(_DIR_TEMPLATE, variables, task.location))
    if task.module == "async_status" and not bridged(task):
        if "async_dir" in task.args:
            return calls
        return [dataclasses.replace(call, params={**call.params, "async_dir": directory}) for call in calls]
    limit = _whole(templar, task.async_val, "async", task, variables)
    if limit <= 0:
        return calls
    poll = _whole(templar, task.poll, "poll", task, variables)
    job = {"limit": limit, "dir": directory, "poll": poll}
    return [dataclasses.replace(call, job=job) for call in calls]


def outcome(results: list[dict[str, Any]], item: bool = False) -> Outcome:
    """A job's result (or a launch's, or async_status's) as the task's outcome: Ansible's
    fields as they are (an Ansible module's ``invocation`` only on a loop's item, as Ansible
    registers it), the task's status from them."""
    if len(results) != 1 or not results[0].get("data"):
        return Outcome.from_agent(results)  # the agent could not start it (no job directory)
    data = dict(results[0]["data"])
    if not item:
        data.pop("invocation", None)
    changed = bool(data.get("changed"))
    if data.get("failed"):
        status = "failed"
    elif data.get("skipped"):
        status = "skipped"
    else:
        status = "changed" if changed else "ok"
    msg = data.get("msg") if isinstance(data.get("msg"), str) else ""
    done = Outcome(status, changed, msg or "", data, warnings=[str(w) for w in data.get("warnings") or []])
    done.exact = True
    return done


def finished(results: list[dict[str, Any]]) -> bool:
    """Is this the result of a job that finished (not its launch, nor a poll that gave up)?"""
    data = results[0].get("data") or {} if len(results) == 1 else {}
    return bool(data.get("finished")) and "async_result" not in data


def as_printed(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A finished job of one of Ansible's modules as the bridge's agent result of the module's
    printed output, for the bridge to shape as Ansible's controller reads async_status's."""
    return [{"status": results[0].get("status"), "changed": bool(results[0].get("changed")), "msg": "",
             "data": results[0]["data"], "ansible": {"rc": 0, "stderr": ""}}]


def status_call(registry: Any, launch: ModuleCall, jid: str, mode: str) -> ModuleCall:
    """The ``async_status`` call that looks at (or cleans up) the job ``launch`` started."""
    spec = registry.find("async_status")
    if spec is None:
        raise InputError("the async_status module is missing: async tasks cannot be polled")
    job = launch.job or {}
    return ModuleCall(spec.name, spec.source, spec.sha, {"jid": jid, "mode": mode, "async_dir": job.get("dir")},
                      spec.compiled_code, check=launch.check, env=launch.env)


async def wait(send: Send, registry: Any, calls: list[ModuleCall], answer: list[dict[str, Any]]
               ) -> list[dict[str, Any]]:
    """With ``poll`` > 0: the job's final result in place of the launch's ``answer``, polled as
    Ansible polls (sleep, look, ``async`` seconds of polls at most); a lost host during the
    polls counts as a poll, and is the task's end only once the time is used up."""
    job = calls[0].job if calls else None
    if not job or int(job.get("poll") or 0) <= 0 or len(answer) != 1:
        return answer
    launched = answer[0].get("data") or {}
    if answer[0].get("status") in ("failed", "skipped") or "ansible_job_id" not in launched:
        return answer
    jid, limit, poll = str(launched["ansible_job_id"]), int(job["limit"]), int(job["poll"])
    left: float = limit
    look = status_call(registry, calls[0], jid, "status")
    last: dict[str, Any] = {}
    while left > 0:
        await asyncio.sleep(poll)
        left -= poll
        tried = time.monotonic()
        try:
            seen = await send([look])
        except Interrupted:  # the job was started: say so, and where to find it
            msg = f"interrupted while polling async job {jid}: it goes on on the host ({launched.get('results_file')})"
            return [{"status": "failed", "changed": False, "msg": msg,
                     "data": {"failed": True, "changed": False, "msg": msg, "ansible_job_id": jid,
                              "async_result": last}}]
        except Unreachable:
            # the time spent failing to reach the host counts too: a host that stays away ends
            # the task once ``async`` seconds went by, whatever the connection's own timeouts
            left -= time.monotonic() - tried
            if left <= 0:
                raise
            continue
        last = (seen[0].get("data") or {}) if seen else {}
        if last.get("finished") or last.get("failed") or last.get("skipped"):
            break
    if not last.get("finished"):
        failure = {"failed": True, "changed": False, "async_result": last,
                   "msg": f"async task did not complete within the requested time - {limit}s"}
        return [{"status": "failed", "changed": False, "msg": failure["msg"], "data": failure}]
    with contextlib.suppress(Unreachable):  # the result is known; its file stays, as after a failed cleanup
        await send([status_call(registry, calls[0], jid, "cleanup")])
    return [{"status": "ok", "changed": bool(last.get("changed")), "msg": "", "data": last}]
