"""The agent's main loop: read framed requests on stdin, answer on stdout.

Started by the bootstrap (see ``fleet.connection.agentstart``) with every agent module already in
``sys.modules``. Nothing is written to the target's disk to run it; module sources arrive
in requests and are cached in memory by their hash for the life of the process.
"""

from __future__ import annotations

import binascii
import json
import marshal
import os
import sys
import threading
import time
import types

from fleet.agent import asyncjob, guard, runner, wire
from fleet.agent.commands import task_environment
from fleet.agent.hostrun import HostRun, TaskNotes
from fleet.agent.inbox import Inbox

MIB = 1024 * 1024
ENVELOPE = 4096  # bytes of an answer frame that are not its results: id, keys, separators


class Agent:
    """Holds the module cache and answers requests, one at a time."""

    def __init__(self, inbox: Inbox | None = None) -> None:
        self.inbox = inbox  # None: nothing can stop a request (tests)
        self.hostrun = HostRun()
        self.modules: dict = {}
        # Module code arrives once per session, possibly in a request that stops before using
        # it (a failed task ends a pipelined request): keep it until it is first needed.
        self.sources: dict = {}
        self.codes: dict = {}
        self.guards: dict = {}  # connection guards armed by this agent: marker -> (module, params, snapshot)
        self.interrupted = False  # the last run request stopped before its last task
        # Ansible's own modules (fleet.agent.ansiblehost, loaded at the first bridged call):
        # payloads received and not yet handed to it, and its Bridge, by the module's sha.
        self.blobs: dict = {}
        self.bridge: tuple = (None, None)

    def load(self, name: str, sha: str):
        """Return the module namespace for ``sha``, executing it on first use: from bytecode
        when the controller sent some (same Python), else compiled from source."""
        module = self.modules.get(sha)
        if module is None:
            source, code = self.sources.pop(sha, None), self.codes.pop(sha, None)
            if source is None and code is None:
                raise KeyError(f"module {name} ({sha[:12]}) was never sent")
            module = types.ModuleType("fleet_module_" + name)
            module.__file__ = f"<fleet module {name}>"
            # dataclasses look up their defining module in sys.modules
            sys.modules[module.__name__] = module
            if code is not None:
                exec(marshal.loads(binascii.a2b_base64(code)), module.__dict__)
            else:
                exec(compile(source, module.__file__, "exec"), module.__dict__)
            self.modules[sha] = module
        return module

    def handle(self, request: dict, emit=None) -> dict:
        """Answer one request. ``emit`` sends a progress frame (streamed requests only).

        A ``begin`` in the request (the first of a run) comes first: the run this agent now
        works for, its lock and the handlers pending on the host (:mod:`fleet.agent.hostrun`).
        When the lock is held by another run (or the run stopped while waiting for it) the
        request itself is not carried out."""
        opening = request.get("begin")
        if not isinstance(opening, dict):
            return self._handle(request, emit)
        began = self.hostrun.begin(opening, self._stopped(), lambda holder, again: emit and emit(
            {"id": request.get("id"), "notice": {"waiting": holder, "again": again}}))
        lock = began.get("lock") or {}
        if "held_by" in lock or "stopped" in lock:
            return {"id": request.get("id"), "begin": began}
        answer = self._handle(request, emit)
        answer["begin"] = began
        return answer

    def _handle(self, request: dict, emit=None) -> dict:
        op = request.get("op")
        if op == "run":
            self.interrupted = False
            answer = {"id": request.get("id"), "results": self.run(request, emit)}
            if self.interrupted:
                answer["stopped"] = True
            return answer
        if op == "ping":
            return {"id": request.get("id"), "pong": True}
        if op == "guard":
            return guard.handle(request, self.guards)
        if op == "handlers":
            return self.hostrun.handlers(request)
        if op == "held":
            return self.held(request)
        return {"id": request.get("id"), "error": f"unknown op {op!r}"}

    def _stopped(self):
        """The event that says "run no further task" (never set without an inbox)."""
        return self.inbox.stopped if self.inbox is not None else threading.Event()

    def stopping(self) -> bool:
        return self.inbox is not None and self.inbox.stopped.is_set()

    def run(self, request: dict, emit=None) -> list:
        """Run the calls in order. Calls carry the index of the task they belong to (a loop's
        items share one): each task gets its own deadline, and after a failed call marked
        ``stop`` no later task runs (the controller pipelines several tasks per request).

        With ``stream``, each finished task's results go out at once as a progress frame, so a
        host lost mid-request still reports exactly which tasks completed; the final answer
        then carries only what was not streamed.

        ``max_output`` is what the controller accepts per task (bytes): a result that does not
        fit becomes a failure saying so, so a command that prints too much fails its task here
        (and stops the tasks after it) instead of getting the agent stopped after later tasks
        of the request already ran.

        When the run is stopped (interrupted, or its controller gone: see :mod:`fleet.agent.inbox`)
        the task in flight finishes and no further task starts; the answer says ``stopped``. A
        finished task's notifications are remembered on the host before its result is sent."""
        stream = bool(request.get("stream")) and emit is not None
        sent = 0
        self.sources.update(request.get("sources") or {})
        self.codes.update(request.get("codes") or {})
        self.blobs.update(request.get("blobs") or {})
        timeout = request.get("timeout")
        limit = request.get("max_output")
        results: list = []
        task, deadline, stopped, room = None, None, False, None
        notes, interrupted = TaskNotes(), False
        for call in request.get("calls", []):
            if call.get("task", 0) != task:
                self._task_done(notes, results)
                if stream and results[sent:]:
                    emit({"id": request.get("id"), "progress": results[sent:]})
                    sent = len(results)
                if stopped:
                    break
                if self.stopping():
                    interrupted = True
                    break
                task = call.get("task", 0)
                deadline = time.monotonic() + timeout if timeout else None
                room = limit - ENVELOPE if limit else None
            own = call.get("timeout")  # the task's ``timeout`` keyword: this call's own limit
            until = time.monotonic() + own if own else None
            limit_at = deadline if until is None or (deadline is not None and deadline < until) else until
            try:
                module = None if "ansible" in call else self.load(call["module"], call["sha"])
            except Exception as exc:
                results.append(
                    {
                        "status": "failed",
                        "changed": False,
                        "data": {},
                        "msg": "cannot load module {}: {}".format(call.get("module"), exc),
                    }
                )
            else:
                # each call carries its task's check and diff flags (fleet.connection.calls)
                # a bridged call's environment travels in its own entry, to the forked module
                # only (never to the fork server, which outlives the task)
                if isinstance(call.get("async"), dict):  # run detached; the answer is the job's id
                    with task_environment(call.get("env")):
                        job = self._job(module, call) if module is not None else self._bridged_job(call, limit)
                        results.append(asyncjob.launch(job, call["async"]))
                elif module is None:
                    results.append(self.bridged(call, limit_at, limit))
                else:
                    with task_environment(call.get("env")):
                        results.append(runner.execute(module, call.get("params") or {}, bool(call.get("check")),
                                                      bool(call.get("diff")), limit_at, call.get("guard"),
                                                      self.guards))
                if until is not None and results[-1].get("status") == "failed" and time.monotonic() >= until:
                    results[-1] = runner.timed_out(own)
            if room is not None and limit:
                results[-1], room = _within(results[-1], room, limit)
            notes.add(call, results[-1], bool(call.get("check")))
            if call.get("stop") and results[-1]["status"] == "failed":
                stopped = True
        self._task_done(notes, results)
        if interrupted:
            self.interrupted = True
        return results[sent:]

    @staticmethod
    def _job(module, call: dict):
        """What an async job runs: the call, as this agent would, under the job's deadline."""
        def run(deadline):
            return runner.execute(module, call.get("params") or {}, bool(call.get("check")),
                                  bool(call.get("diff")), deadline)
        return run

    def _bridged_job(self, call: dict, limit):
        """An async job of Ansible's own module: in the job, a fork server of its own (the
        agent's belongs to the agent), with the payloads this agent holds."""
        def run(deadline):
            held = self.bridge[1] if self.bridge[0] == call["sha"] else None
            bridge = self.load("ansiblehost", call["sha"]).Bridge()
            if held is not None:
                bridge.blobs = held.blobs  # this process's own copy since the fork
            bridge.blobs.add(self.blobs)
            try:
                return bridge.run(call["ansible"], deadline, limit)
            finally:
                bridge.stop()
        return run

    def bridged(self, call: dict, deadline, limit) -> dict:
        """Run one of Ansible's own modules (see :mod:`fleet.agent.ansiblehost`)."""
        try:
            sha, bridge = self.bridge
            if sha != call["sha"]:
                if bridge is not None:
                    bridge.stop()
                sha, bridge = call["sha"], self.load("ansiblehost", call["sha"]).Bridge()
                self.bridge = (sha, bridge)
            bridge.blobs.add(self.blobs)
            self.blobs = {}
            return bridge.run(call["ansible"], deadline, limit)
        except Exception as exc:
            return {"status": "failed", "changed": False, "data": {},
                    "msg": "cannot run Ansible module {}: {}".format(call["ansible"].get("fqn"), exc)}

    def held(self, request: dict) -> dict:
        """Which of the named blobs and module sources this agent holds (a kept agent, asked
        by a later run's controller, so that it sends only what is missing)."""
        bridge = self.bridge[1]
        kept = set(self.blobs) | (set(bridge.blobs.data) if bridge is not None else set())
        loaded = set(self.modules) | set(self.sources) | set(self.codes)
        return {"id": request.get("id"), "blobs": [s for s in request.get("blobs") or [] if s in kept],
                "sources": [s for s in request.get("sources") or [] if s in loaded]}

    def _task_done(self, notes: TaskNotes, results: list) -> None:
        """The task whose calls ``notes`` saw is finished: remember what it notified."""
        warning = notes.done(self.hostrun)
        if warning and results:
            results[-1].setdefault("warnings", []).append(warning)


def _within(result: dict, room: int, limit: int) -> tuple:
    """``result``, or a failure in its place when it needs more than ``room`` bytes (its size
    in a frame, as the controller counts it); and the room left for its task."""
    try:
        size = len(json.dumps(result, separators=(",", ":"), ensure_ascii=False).encode("utf-8", "surrogatepass"))
    except (TypeError, ValueError, RecursionError):  # the frame encoder reports that
        return result, room
    if size <= room:
        return result, room - size
    failure = {"status": "failed", "changed": bool(result.get("changed")), "data": {},
               "msg": f"the output of this task ({size / MIB:.1f} MiB) is more than the controller accepts for "
                      f"one task ({limit / MIB:g} MiB: --max-host-output or fleet_max_host_output)"}
    return failure, room - len(json.dumps(failure))


def hello() -> dict:
    return {
        "op": "hello",
        "version": wire.VERSION,
        "python": sys.version.split()[0],
        "cache_tag": sys.implementation.cache_tag,
        "executable": sys.executable,
        "pid": os.getpid(),
        "uid": os.getuid(),
    }


def main() -> None:
    """Serve requests until the controller closes stdin or says bye."""
    # Frames go to the original stdout; anything else that writes to fd 1 (a module's print,
    # a child process) lands on stderr instead of corrupting the stream.
    out = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    inbox = Inbox(sys.stdin.buffer)
    agent = Agent(inbox)
    send = _Sender(out, inbox)
    send(wire.encode(hello()))
    while True:
        request = inbox.get()
        if request is None or request.get("op") == "bye":
            agent.hostrun.end()  # the lock would go with the process; this also blanks its holder
            if request is None and inbox.error:
                send(wire.encode({"id": None, "error": f"agent: {inbox.error}"}))
            return
        if request.get("op") in ("detach", "end"):  # the run is over (its request, if any, answered)
            agent.hostrun.end()  # no answer: nobody is reading any more
            continue
        answer = agent.handle(request, lambda frame, request=request: send(_frame(frame, request)))
        send(_frame(answer, request))


class _Sender:
    """Writes frames to the controller; once that fails, it is gone: stop as if told to."""

    def __init__(self, out, inbox: Inbox) -> None:
        self.out, self.inbox, self.broken = out, inbox, False

    def __call__(self, frame: bytes) -> None:
        if self.broken:
            return
        try:
            self.out.write(frame)
        except OSError:
            self.broken = True
            self.inbox.gone()


def _frame(message: dict, request: dict) -> bytes:
    """``message`` as a frame; one too big (or not encodable) becomes the request's error."""
    try:
        return wire.encode(message)
    except wire.FrameError as exc:
        return wire.encode({"id": request.get("id"), "error": f"agent: the answer cannot be sent: {exc}"})
