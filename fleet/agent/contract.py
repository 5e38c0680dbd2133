"""The module contract: every name a module file may define, its signature, and how it is called.

A module is one stdlib-only file (Python >= 3.8 on the host). It defines a frozen ``Params``
dataclass whose fields carry a one-line description (:func:`param`), and one of four shapes,
decided by what it defines:

* **state**: ``observe``, ``desired``, ``apply`` (:class:`StateModule`);
* **imperative**: ``run`` (:class:`ImperativeModule`);
* **information**: ``observe`` only (:class:`InfoModule`);
* **controller**: ``RUNS_ON = "controller"``: only ``Params`` (the controller does the work).

What ``apply``/``run`` produced besides the host's state goes through the :class:`Outcome` the
runner hands them, never through ``p`` (params are read-only after validation). :data:`HOOKS`
lists every optional name too; the agent's runner, the controller's registry and
``fleet modules`` read hooks only through it (:func:`hook`), so this file is the contract.
"""

from __future__ import annotations

import dataclasses
import inspect
from typing import Any, Callable, NamedTuple, Protocol


class Outcome:
    """The channel from ``apply``/``run`` to the task's result: one per call, made by the runner.

    ``report(**fields)`` adds values to the result (``backup_file``, ``msg``, a command's
    ``stdout``); they override what ``result(p, state)`` derives from the observed state.
    ``warn(field, why)``: ``field`` stays as it is because the host keeps it so (a read-only
    ``/proc/sys``): a warning, and not a "not converged" failure. ``acted(field)``: a wanted
    field that names an action rather than a state (a restart): done, nothing to observe.
    Imperative modules also set ``changed`` (default True), ``msg`` or ``fail(msg)``; a state
    module sets ``changed = False`` when what was due turned out to change nothing (an
    ``apt-get update`` that fetched no new lists): the result is then ``ok``.
    """

    def __init__(self) -> None:
        self.fields: dict[str, Any] = {}
        self.unapplied: dict[str, str] = {}
        self.actions: list = []
        self.changed = True
        self.msg = ""
        self.failed: str | None = None

    def report(self, **fields: Any) -> None:
        """Values for the task's result data (they win over ``result()``'s)."""
        self.fields.update(fields)

    def warn(self, field: str, why: str) -> None:
        """``field`` is left as the host keeps it, for the reason ``why`` (the first reason wins)."""
        self.unapplied.setdefault(field, why)

    def acted(self, field: str) -> None:
        """The action the wanted ``field`` asked for was done (it has no state to observe)."""
        self.actions.append(field)

    def fail(self, msg: str) -> None:
        """Imperative: the run failed with ``msg`` (``changed`` stands, for ``failed_when``)."""
        self.failed = msg


def param(doc: str, default: Any = dataclasses.MISSING, *, factory: Any = dataclasses.MISSING) -> Any:
    """A ``Params`` field with its one-line description (``fleet modules NAME``, JSON schema)."""
    return dataclasses.field(default=default, default_factory=factory, metadata={"doc": doc})


def param_doc(f: dataclasses.Field) -> str:
    """The description :func:`param` attached to a field (``""`` when there is none)."""
    return str(f.metadata.get("doc", "")) if f.metadata else ""


class StateModule(Protocol):
    """observe -> desired -> (check mode stops) -> apply -> observe again."""

    Params: type

    def observe(self, p: Any, host: Any) -> dict:
        """The host's state as fields (``host`` is a read-only ``HostReader``)."""

    def desired(self, p: Any, current: dict) -> dict:
        """The wanted fields (pure; ModuleFailure for a task that cannot be done)."""

    def apply(self, p: Any, host: Any, current: dict, want: dict, outcome: Outcome) -> None:
        """Make the differing fields so (``host`` is a ``HostWriter``; never in check mode)."""


class ImperativeModule(Protocol):
    """``run`` does the work; ``would_run`` (optional) predicts it for check mode."""

    Params: type

    def run(self, p: Any, host: Any, outcome: Outcome) -> None:
        """Do it (``host`` is a ``HostWriter``); report through ``outcome``."""


class InfoModule(Protocol):
    """Reads only: ``observe``'s fields are the result."""

    Params: type

    def observe(self, p: Any, host: Any) -> dict:
        """What to return (``host`` is a read-only ``HostReader``)."""


class Hook(NamedTuple):
    """One name of the contract: ``arity`` positional arguments for a function, else a constant
    whose value passes ``kind`` (a type, or a tuple of types)."""

    name: str
    signature: str
    doc: str
    arity: int | None = None
    kind: Any = None
    legacy: int | None = None  # the arity of the version-1 signature, still accepted


HOOKS: tuple[Hook, ...] = (
    Hook("observe", "observe(p, host: HostReader) -> dict", "the host's state", 2),
    Hook("desired", "desired(p, current) -> dict", "the wanted fields (pure)", 2),
    Hook("apply", "apply(p, host: HostWriter, current, want, outcome: Outcome) -> None",
         "change what differs", 5, legacy=4),
    Hook("run", "run(p, host: HostWriter, outcome: Outcome) -> None", "imperative work", 3,
         legacy=2),
    Hook("would_run", "would_run(p, host: HostReader) -> (True|False|None, why)",
         "check mode's prediction for run", 2),
    Hook("result", "result(p, state) -> dict", "the result data from a state", 2),
    Hook("caveats", "caveats(p, state) -> {field: why}",
         "what the host keeps from being as wanted, warned on every run", 2),
    Hook("warnings", "warnings(p, check: bool) -> [text]",
         "Ansible's own warnings (module.warn), in its words, in every result of the call", 2),
    Hook("check", "check(p) -> None",
         "cross-field rules: pure, run before connecting and again on the host", 1),
    Hook("check_param", "check_param(name, value) -> None",
         "one parameter's own rule, before connecting and on the host", 2),
    Hook("snapshot", "snapshot(p, host: HostReader) -> dict",
         "what revert needs (CONNECTION_SENSITIVE)", 2),
    Hook("revert", "revert(p, host: HostWriter, snapshot) -> None",
         "undo an unconfirmed change (CONNECTION_SENSITIVE)", 3),
    Hook("ALIASES", "ALIASES = {alias: field}", "other names of parameters", kind=dict),
    Hook("DIFF_TEXT", "DIFF_TEXT = (field, ...)", "text fields: unified diffs, not in data",
         kind=(tuple, list, frozenset, set)),
    Hook("CAVEAT_SUBJECT", "CAVEAT_SUBJECT = (noun, param)", "warnings say 'noun VALUE: why'",
         kind=tuple),
    Hook("CONNECTION_SENSITIVE", "CONNECTION_SENSITIVE = True",
         "changes are confirmed over a fresh connection", kind=bool),
    Hook("RETURNS_FACTS", "RETURNS_FACTS = True", "its ansible_facts become the host's", kind=bool),
    Hook("RUNS_ON", 'RUNS_ON = "controller"', "the controller does the work", kind=str),
)
HOOK_NAMES = frozenset(h.name for h in HOOKS)
SHAPES = {"state": ("observe", "desired", "apply"), "imperative": ("run",), "info": ("observe",),
          "controller": ()}


def hook(module: Any, name: str, default: Any = None) -> Any:
    """The module's ``name`` (a name of :data:`HOOKS`), or ``default``."""
    if name not in HOOK_NAMES:
        raise KeyError(f"{name!r} is not part of the module contract")
    return getattr(module, name, default)


def shape(module: Any) -> str:
    """``state``, ``imperative``, ``info`` or ``controller`` (see the module docstring)."""
    if hook(module, "RUNS_ON") == "controller":
        return "controller"
    if hook(module, "run") is not None:
        return "imperative"
    return "state" if hook(module, "desired") is not None else "info"


def defined(module: Any) -> list:
    """The optional hooks and constants ``module`` defines, in :data:`HOOKS` order."""
    required = SHAPES[shape(module)]
    return [h.name for h in HOOKS if h.name not in required and hasattr(module, h.name)]


def arity(fn: Callable) -> int:
    """How many positional arguments ``fn`` takes (its own signature, defaults included)."""
    code = getattr(fn, "__code__", None)
    if code is not None and inspect.isfunction(fn):
        return code.co_argcount
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return sum(1 for p in inspect.signature(fn).parameters.values() if p.kind in kinds)


def legacy(module: Any, name: str) -> bool:
    """Whether the module's ``apply``/``run`` has the version-1 signature (no outcome)."""
    fn, spec = hook(module, name), next(h for h in HOOKS if h.name == name)
    return fn is not None and spec.legacy is not None and arity(fn) == spec.legacy


def problems(module: Any, strict: bool = False) -> list:
    """Where ``module`` breaks the contract (empty: it keeps it). ``strict`` (fleet's own
    modules) also wants a frozen ``Params`` with a description on every field, and no
    version-1 signature."""
    found = []
    params = getattr(module, "Params", None)
    if params is None or not dataclasses.is_dataclass(params):
        return ["Params must be a dataclass"]
    kind = shape(module)
    for name in SHAPES[kind]:
        if not callable(getattr(module, name, None)):
            found.append(f"a {kind} module needs {name}()")
    for h in HOOKS:
        value = getattr(module, h.name, None)
        if value is None:
            continue
        if h.arity is None:
            if not isinstance(value, h.kind):
                found.append(f"{h.name} must be a {_kinds(h.kind)}: {h.signature}")
            continue
        if not callable(value):
            found.append(f"{h.name} must be a function: {h.signature}")
            continue
        got = arity(value)
        if got != h.arity and not (got == h.legacy and not strict):
            found.append(f"{h.name} takes {got} arguments, the contract {h.arity}: {h.signature}")
    if (getattr(module, "snapshot", None) is None) != (getattr(module, "revert", None) is None):
        found.append("snapshot and revert come together")
    if getattr(module, "CONNECTION_SENSITIVE", False) and getattr(module, "revert", None) is None:
        found.append("CONNECTION_SENSITIVE needs snapshot() and revert()")
    if strict:
        found += _strict(params)
    return found


def _strict(params: Any) -> list:
    found = []
    if not params.__dataclass_params__.frozen:
        found.append("Params must be frozen (@dataclass(frozen=True)): read-only once validated")
    for f in dataclasses.fields(params):
        text = param_doc(f)
        if not text.strip():
            found.append(f"Params.{f.name} has no description (param(DOC, ...))")
        elif "\n" in text or len(text) > 160:
            found.append(f"Params.{f.name}: the description must be one line of <= 160 characters")
    return found


def _kinds(kind: Any) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(k.__name__ for k in kinds)
