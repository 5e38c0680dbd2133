"""Runs one module call on the target: observe, compare, apply, observe again.

This is the only place that decides whether a module may write. ``observe`` and
``would_run`` always get a :class:`HostReader`; ``apply`` and ``run`` get a
:class:`HostWriter` and are never called in check mode. The shapes of a module and every
hook it may define are in :mod:`fleet.agent.contract`; hooks are read only through it.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time

from fleet.agent import contract
from fleet.agent import guard as connection_guard
from fleet.agent.hostio import (
    HostReader,
    HostWriter,
    MissingUntilApplied,
    ModuleFailure,
    ReadOnlyHostError,
)

# How long past the task deadline a module may run before the agent interrupts it. Commands
# stop at the deadline themselves; this catches a module stuck in a read (a FIFO, a hung mount).
OVERDUE_GRACE = 2.0


class Overdue(BaseException):
    """Raised by SIGALRM in a module that outlived its deadline (BaseException: not swallowed)."""


def _on_alarm(signum, frame):
    raise Overdue()


def execute(
    module, params: dict, check: bool, want_diff: bool, deadline: float | None = None,
    guard: float | None = None, guards: dict | None = None,
) -> dict:
    """Run one call of ``module`` (a loaded module namespace) and return its result dict.

    With a ``deadline`` the call is interrupted shortly after it, so the agent always answers
    (and stays usable) instead of leaving the controller to give up on it. With ``guard``
    (seconds), a connection-sensitive module's change is armed to revert itself unless the
    controller confirms it (see :mod:`fleet.agent.guard`); ``guards`` keeps what is armed.
    """
    started = time.monotonic()
    alarm = (deadline is not None and hasattr(signal, "setitimer")
             and threading.current_thread() is threading.main_thread())
    previous = None
    if alarm and deadline is not None:
        previous = signal.signal(signal.SIGALRM, _on_alarm)
        signal.setitimer(signal.ITIMER_REAL, max(deadline - started, 0.0) + OVERDUE_GRACE)
    try:
        result = _execute(module, params, check, want_diff, deadline, guard, guards)
    except Overdue:
        result = _status(
            "failed",
            msg="timed out after %.0f s: the module was interrupted" % (time.monotonic() - started),
        )
    finally:
        if alarm:
            with contextlib.suppress(Overdue):  # fired just as the module finished: result stands
                signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
    result["duration_s"] = round(time.monotonic() - started, 6)
    return result


def timed_out(period) -> dict:
    """The result of a call that outlived its task's ``timeout`` keyword (``period`` seconds):
    killed, whatever it had done; the controller words it as Ansible does."""
    result = _status("failed", msg=f"timed out after {period} s")
    result["timedout"] = period
    return result


def _execute(module, params: dict, check: bool, want_diff: bool, deadline, guard=None, guards=None) -> dict:
    p = None
    try:
        p = module.Params(**params)
        check_params(module, p)
        reader = HostReader()
        reader.deadline = deadline
        kind = contract.shape(module)
        if kind == "imperative":
            result = _imperative(module, p, reader, check, deadline)
        elif kind == "state":
            result = _converge(module, p, reader, check, want_diff, deadline, guard, guards)
        else:
            result = _status("ok", data=module.observe(p, reader))
    except ModuleFailure as exc:
        result = _status("failed", msg=str(exc))
    except ReadOnlyHostError as exc:
        import traceback

        result = _status("failed", msg=f"module bug: {exc}", exception=traceback.format_exc())
    except Exception as exc:  # a module crashed: report it, keep the agent alive
        import traceback

        trace = traceback.format_exc()
        result = _status(
            "failed",
            msg="module {} failed: {}: {}".format(
                getattr(module, "__name__", "?"), type(exc).__name__, exc
            ),
            # as Ansible registers a module that died: its output, the traceback on stderr, rc 1
            data={"module_stdout": "", "module_stderr": trace, "rc": 1},
            exception=trace,
        )
    said = contract.hook(module, "warnings")
    if said is not None and p is not None:
        notes = list(said(p, check) or [])  # as Ansible's module.warn: before what the run itself warned
        if notes:
            result["warnings"] = notes + list(result.get("warnings") or [])
    return result


def check_params(module, p) -> None:
    """The module's ``check_param`` on every given field, then its cross-field ``check``: the
    controller ran them before connecting; the host runs them again (it trusts no sender)."""
    one = contract.hook(module, "check_param")
    if one is not None:
        for name, value in vars(p).items():
            if value is not None:
                one(name, value)
    rules = contract.hook(module, "check")
    if rules is not None:
        rules(p)


def _status(
    status: str, msg: str = "", data=None, diff=None, exception=None, warnings=None, changed=None
) -> dict:
    if changed is None:
        changed = status == "changed"
    result = {"status": status, "changed": changed, "msg": msg, "data": data or {}}
    if diff:
        result["diff"] = diff
    if exception:
        result["exception"] = exception
    if warnings:
        result["warnings"] = warnings
    return result


def _imperative(module, p, reader: HostReader, check: bool, deadline) -> dict:
    # would_run answers True (a guard says it will run), False (a guard says it will not) or
    # None (no guard: nothing to predict). Like Ansible, check mode reports a guarded command
    # that would run as a change, and skips an unguarded one.
    would_run = contract.hook(module, "would_run")
    needed, reason = would_run(p, reader) if would_run is not None else (None, "")
    if needed is False:
        return _status("ok", msg=reason)
    if check:
        if needed:
            return _status("changed", msg=reason or "would run (check mode)")
        return _status("skipped", msg=reason or "not run in check mode")
    writer = _writer(reader)
    outcome = contract.Outcome()
    if contract.legacy(module, "run"):  # version 1: the data dict, with changed/failed_msg/msg
        data = module.run(p, writer) or {}
        outcome.changed = bool(data.pop("changed", True))
        outcome.failed = data.pop("failed_msg", None)
        outcome.msg = data.pop("msg", "")
        outcome.report(**data)
    else:
        module.run(p, writer, outcome)
    data = outcome.fields
    if outcome.failed:
        # "changed" survives a failure so that failed_when can turn it back into a change
        return _status("failed", msg=outcome.failed, data=data, changed=outcome.changed)
    return _status("changed" if outcome.changed else "ok", msg=outcome.msg, data=data)


def _writer(reader: HostReader) -> HostWriter:
    writer = HostWriter(reader.umask)
    writer.deadline, writer.started = reader.deadline, reader.started
    return writer


def _converge(module, p, reader: HostReader, check: bool, want_diff: bool, deadline,
              guard=None, guards=None) -> dict:
    text_fields = contract.hook(module, "DIFF_TEXT", ())
    current = None
    try:
        current = module.observe(p, reader)
        want = module.desired(p, current)
    except MissingUntilApplied as exc:
        if not check:
            raise
        seen = current if current is not None else {}
        fields = differing(seen, exc.want)
        return _status("changed", msg=f"{exc} (check mode: an earlier task would create it)",
                       diff=build_diff(seen, exc.want, fields, text_fields, want_diff) if fields else None)
    fields = differing(current, want)
    if not fields:
        return _status("ok", data=_data(module, p, current, text_fields), warnings=caveats(module, p, current))
    diff = build_diff(current, want, fields, text_fields, want_diff)
    if check:
        return _status("changed", diff=diff, data=_data(module, p, current, text_fields))
    guarded = bool(guard) and guards is not None and contract.hook(module, "CONNECTION_SENSITIVE", False)
    saved = module.snapshot(p, reader) if guarded else None
    writer = _writer(reader)
    outcome = contract.Outcome()
    if contract.legacy(module, "apply"):  # version 1: returns the fields the host would not take
        for name, why in (module.apply(p, writer, current, want) or {}).items():
            outcome.warn(name, why)
    else:
        module.apply(p, writer, current, want, outcome)
    unapplied = outcome.unapplied
    after = module.observe(p, reader)
    still = [f for f in differing(after, want) if f not in unapplied and f not in outcome.actions]
    warnings = caveats(module, p, after, unapplied)
    if still:
        return _status(
            "failed",
            msg="not converged: {} still differ after apply".format(", ".join(sorted(still))),
            diff=build_diff(after, want, still, text_fields, want_diff),
            warnings=warnings,
        )
    data = dict(_data(module, p, after, text_fields), **outcome.fields)
    # apply may find that what was due changed nothing (an apt-get update that fetched nothing new)
    result = _status("changed" if outcome.changed else "ok", diff=diff if outcome.changed else None, data=data,
                     warnings=warnings)
    if guarded:
        result["guard"] = {"marker": connection_guard.arm(module, p, saved or {}, guard, guards), "seconds": guard}
    return result


def caveats(module, p, state: dict, unapplied=None) -> list:
    """Warnings for what the host keeps from being as wanted: ``apply``'s unapplied fields and
    the module's ``caveats(p, state)`` (reported on every run, also when nothing changed).

    Each is ``FIELD: WHY``, or ``NOUN VALUE: WHY`` for a module whose ``CAVEAT_SUBJECT`` is
    ``(NOUN, PARAM)`` (sysctl: ``key net.ipv4.ip_forward: persisted, ...``), so the warning
    names the setting and the terminal can group the same WHY over several settings."""
    notes = dict(unapplied or {})
    extra = contract.hook(module, "caveats")
    if extra is not None:
        for name, why in (extra(p, state) or {}).items():
            notes.setdefault(name, why)
    noun, param = contract.hook(module, "CAVEAT_SUBJECT", (None, None))
    value = getattr(p, param, None) if param else None
    label = f"{noun} {value}" if noun and value not in (None, "") else None
    return [f"{label or name}: {why}" for name, why in sorted(notes.items())]


def differing(current: dict, want: dict) -> list:
    """Names of the fields in ``want`` whose value differs from ``current``."""
    return [name for name, value in want.items() if current.get(name) != value]


def build_diff(current: dict, want: dict, fields, text_fields, want_diff: bool) -> dict:
    """Before/after of the differing fields; text bodies and a unified diff only on request."""
    before, after = {}, {}
    for name in fields:
        if name in text_fields and not want_diff:
            continue
        before[name] = current.get(name)
        after[name] = want.get(name)
    diff: dict = {"fields": list(fields), "before": before, "after": after}
    if want_diff:
        texts = {name: unified(current.get(name), want.get(name), name) for name in fields if name in text_fields}
        if texts:
            diff["unified"] = texts
    return diff


def unified(old, new, label: str) -> str:
    """A unified diff of two texts (None means the file is absent)."""
    old_lines = (old or "").splitlines(True)
    new_lines = (new or "").splitlines(True)
    import difflib

    lines = difflib.unified_diff(
        old_lines,
        new_lines,
        f"before: {label}" if old is not None else "/dev/null",
        f"after: {label}" if new is not None else "/dev/null",
    )
    return "".join(
        line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines
    )


def _data(module, p, state: dict, text_fields) -> dict:
    make = contract.hook(module, "result")
    if make is not None:
        return make(p, state)
    return {k: v for k, v in state.items() if k not in text_fields}
