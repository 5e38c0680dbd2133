"""Async jobs on the host (the ``async``/``poll`` keywords, the ``async_status`` module).

A call marked ``async`` is not run in the agent's request: the agent writes the job file
(``<async_dir>/<jid>``, Ansible's place and JSON: ``{"started": true, "finished": false,
"ansible_job_id": jid}``), forks a detached watcher (new session, double fork, no descriptor of
the agent's connection kept, so the job outlives the agent and its connection) and answers at
once with the job's id. The watcher forks the worker, which runs the call as the agent would
and replaces the job file (atomically) with the result in Ansible's shape; past the job's time
limit the watcher kills the worker's process group and writes Ansible's ``Timeout exceeded``.
``status`` reads a job file as Ansible's ``async_status`` module and action do.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import random
import signal
import time
import warnings

#: Ansible's default ``async_dir`` (the shell option; ``ansible_async_dir`` sets it).
DEFAULT_DIR = "~/.ansible_async"
#: How long the watcher gives a worker past its limit to stop its own programs before killing it.
KILL_GRACE = 1.0


def job_dir(raw) -> str:
    """``raw`` with ``~`` as the home of the user the agent runs as (its become user: sudo may
    keep the login user's HOME), as Ansible expands it on the host."""
    path = str(raw or DEFAULT_DIR)
    if path == "~" or path.startswith("~/"):
        try:
            home = pwd.getpwuid(os.geteuid()).pw_dir
        except KeyError:
            home = os.path.expanduser("~")
        return home + path[1:]
    return os.path.expanduser(path)


def write_job(path: str, data: dict) -> None:
    """Replace the job file at ``path`` in one step (a reader never sees half of it)."""
    tmp = f"{path}.tmp.{os.getpid()}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0), 0o600)
    try:
        os.write(fd, json.dumps(data).encode("utf-8", "surrogateescape"))
        os.fsync(fd)
    finally:
        os.close(fd)
    os.rename(tmp, path)


def ansible_shape(result: dict) -> dict:
    """An agent result (status, changed, msg, data...) as the module output Ansible's job file
    holds: the module's fields with ``changed``/``failed``/``msg``/``skipped`` beside them; an
    Ansible module's own output as it printed it, with its ``stderr`` (as async_wrapper writes)."""
    if isinstance(result.get("ansible"), dict):
        return _module_output(result)
    value = dict(result.get("data") or {})
    status = result.get("status")
    value["changed"] = bool(result.get("changed"))
    value["failed"] = status == "failed"
    if result.get("msg") or status in ("failed", "skipped"):
        value["msg"] = result.get("msg") or ""
    if status == "skipped":
        value["skipped"] = True
    for key in ("warnings", "diff", "exception"):
        if result.get(key):
            value[key] = result[key]
    return value


def _module_output(result: dict) -> dict:
    info = result["ansible"]
    data = dict(result.get("data") or {})
    if not data:  # no JSON from the module: async_wrapper's words for it
        data = {"failed": True, "msg": result.get("msg") or "MODULE FAILURE", "data": info.get("stdout", "")}
    elif isinstance(info.get("stdout"), str):  # printed more than its JSON: what came after, as a warning
        lines = info["stdout"].splitlines()
        last = max((i for i, line in enumerate(lines) if line.rstrip().endswith("}")), default=len(lines))
        junk = "\n".join(lines[last + 1:]).strip()
        if junk:
            data["warnings"] = list(data.get("warnings") or []) + [
                f"Module invocation had junk after the JSON data: {junk}"]
    if info.get("stderr"):
        data["stderr"] = info["stderr"]
    return data


def launch(run, spec: dict) -> dict:
    """Start ``run`` (a function returning an agent result) as a detached job; ``spec``:
    ``limit`` (seconds) and ``dir``. Returns the agent result of the launch."""
    directory = job_dir(spec.get("dir"))
    limit = float(spec.get("limit") or 0)
    jid = f"j{random.SystemRandom().randrange(10 ** 12)}.{os.getpid()}"
    path = os.path.join(directory, jid)
    try:
        os.makedirs(directory, exist_ok=True)
        write_job(path, {"started": True, "finished": False, "ansible_job_id": jid})
    except OSError as exc:
        return {"status": "failed", "changed": False, "data": {},
                "msg": f"could not create directory: {directory} - {exc}"}
    with warnings.catch_warnings():  # 3.12+ warns of forking with threads: the job's side uses none of theirs
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # pragma: no cover - the child never returns to the agent
        try:
            os.setsid()
            if os.fork() == 0:
                _detach()
                _watch(run, limit, path)
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    return {"status": "changed", "changed": True, "msg": "",
            "data": {"ansible_job_id": jid, "started": True, "finished": False, "results_file": path,
                     "changed": True}}


def _detach() -> None:
    """No descriptor of the agent's connection stays open in the job (its end would wait)."""
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.closerange(3, 65536)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGALRM):
        signal.signal(sig, signal.SIG_DFL)


def _watch(run, limit: float, path: str) -> None:
    """The watcher: run the job in a worker of its own process group; kill that group past
    ``limit`` seconds (0: no limit)."""
    started = time.monotonic()
    deadline = started + limit if limit > 0 else None
    worker = os.fork()
    if worker == 0:
        os.setpgid(0, 0)
        _work(run, deadline, path)
        os._exit(0)
    with contextlib.suppress(OSError):  # the worker set it first, or is already gone
        os.setpgid(worker, worker)
    while True:
        done, _status = os.waitpid(worker, os.WNOHANG)
        if done:
            return
        if deadline is not None and time.monotonic() >= deadline + KILL_GRACE:
            with contextlib.suppress(OSError):
                os.killpg(worker, signal.SIGKILL)
            os.waitpid(worker, 0)
            write_job(path, timed_out(worker))
            return
        time.sleep(0.1)


def timed_out(pid: int) -> dict:
    """Ansible's job file of a job killed at its limit."""
    return {"msg": "Timeout exceeded", "failed": True, "child_pid": pid}


def _work(run, deadline, path: str) -> None:
    """The worker: the call, under the job's deadline (its programs are stopped there)."""
    try:
        result = run(deadline)
    except BaseException as exc:  # the job file must say the job ended
        result = {"status": "failed", "changed": False, "data": {}, "msg": f"{type(exc).__name__}: {exc}"}
    if deadline is not None and time.monotonic() >= deadline and result.get("status") == "failed":
        write_job(path, timed_out(os.getpid()))
        return
    write_job(path, ansible_shape(result))


def status(jid: str, mode: str, raw_dir) -> dict:
    """What Ansible's ``async_status`` action returns for job ``jid`` (``mode``: status or
    cleanup): its defaults, then what the module read from the job file."""
    directory = job_dir(raw_dir)
    path = os.path.join(directory, jid)
    value: dict = {"started": False, "finished": False, "stdout": "", "stderr": "", "stdout_lines": [],
                   "stderr_lines": [], "ansible_job_id": jid, "changed": False}
    if mode == "cleanup":
        value["erased"] = path
    else:
        value["results_file"] = path
        value["started"] = True
    if "/" in jid or jid in ("", ".", "..") or not os.path.exists(path):
        value.update(failed=True, msg="could not find job", started=True, finished=True)
        return value
    if mode == "cleanup":
        os.unlink(path)
        return value
    text = ""
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as handle:
            text = handle.read()
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("not a mapping")
    except (OSError, ValueError):
        if not text:
            value.update(started=True, finished=False)  # not written yet: still running
            return value
        value.update(failed=True, msg=f"Could not parse job output: {text}", started=True, finished=True)
        return value
    if "started" not in data:
        data["finished"] = True
        data["ansible_job_id"] = jid
    elif "finished" not in data:
        data["finished"] = False
    for stream in ("stdout", "stderr"):  # as Ansible's action adds them to the module's output
        if isinstance(data.get(stream), str) and stream + "_lines" not in data:
            data[stream + "_lines"] = data[stream].splitlines()
    value.update(data)
    value["started"], value["finished"] = bool(value["started"]), bool(value["finished"])
    return value
