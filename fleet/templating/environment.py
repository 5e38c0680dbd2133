"""The Jinja2 runtime pieces behind :class:`fleet.templating.Templar`.

A sandboxed environment with Ansible's options, an undefined type that fails loudly yet
chains like Ansible's, a context that resolves names through a lazy mapping without
copying it, and the output hook. :func:`make_environment` registers fleet's filters,
tests and lookups on a fresh environment.
"""

from __future__ import annotations

import datetime
import types
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import jinja2
from jinja2.runtime import Context, StrictUndefined, Undefined, missing
from jinja2.sandbox import SandboxedEnvironment
from jinja2.utils import object_type_repr

from fleet.templating.filters import install, make_lookups
from fleet.templating.plugins import LazyPlugins
from fleet.templating.unsafe import REMOTE, UNSAFE_TYPES, level_of, taint_level


class FleetUndefined(StrictUndefined):
    """Strict undefined that still chains (``foo.bar | default(1)`` works, as in Ansible)."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        if name[:2] == "__":
            raise AttributeError(name)
        return self

    def __getitem__(self, key: Any) -> Any:
        return self

    @property
    def _undefined_message(self) -> str:
        if self._undefined_hint:
            return self._undefined_hint
        if self._undefined_obj is missing:
            return f"undefined variable {self._undefined_name!r}"
        what = "attribute" if isinstance(self._undefined_name, str) else "element"
        return f"{object_type_repr(self._undefined_obj)!r} has no {what} {self._undefined_name!r}"


class FleetContext(Context):
    """Context resolving names with one lookup in the (lazy) variable mapping; notes host data."""

    environment: FleetEnvironment

    def resolve_or_missing(self, key: str) -> Any:
        if key in self.vars:
            value = self.vars[key]
        else:
            try:
                value = self.parent[key]
            except KeyError:
                return missing
        _raise(self.environment.taint, value)
        return value


class Scope(Mapping[str, Any]):
    """Variables first, then template globals; never copies ``variables``."""

    __slots__ = ("_vars", "_globals")

    def __init__(self, variables: Mapping[str, Any], globals_: Mapping[str, Any]) -> None:
        self._vars = variables
        self._globals = globals_

    def __getitem__(self, key: str) -> Any:
        try:
            return self._vars[key]
        except KeyError:
            return self._globals[key]

    def __contains__(self, key: object) -> bool:
        return key in self._vars or key in self._globals

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys([*self._vars, *self._globals]))

    def __len__(self) -> int:
        return len(set(self._vars) | set(self._globals))


class Overlay(Mapping[str, Any]):
    """``top`` over ``base`` without copying ``base`` (a lazy variable mapping)."""

    def __init__(self, top: Mapping[str, Any], base: Mapping[str, Any]) -> None:
        self._top, self._base = top, base

    def __getitem__(self, key: str) -> Any:
        return self._top[key] if key in self._top else self._base[key]

    def __contains__(self, key: object) -> bool:
        return key in self._top or key in self._base

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys([*self._top, *self._base]))

    def __len__(self) -> int:
        return len(set(self._top) | set(self._base))


class FleetEnvironment(SandboxedEnvironment):
    """Sandboxed environment; mappings marked ``_fleet_items_first`` prefer items to attributes.

    ``taint`` has one level per render in progress (innermost last): raised when the render reads
    data from a host (:mod:`fleet.templating.unsafe`), so that its result is marked as host data too. Only
    the public methods of ``str``, ``dict`` and ``list`` are reachable on fleet's own objects:
    the run's interpreter (templar, secrets, variable layers) stays out of templates' reach.
    """

    context_class = FleetContext

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.taint: list[int] = []  # shared with overlays (Environment.overlay copies __dict__)

    def _note(self, value: Any) -> Any:
        taint = self.taint
        if taint and isinstance(value, UNSAFE_TYPES):
            taint[-1] = max(taint[-1], level_of(value))
        return value

    def getattr(self, obj: Any, attribute: str) -> Any:
        kind = type(obj)
        if getattr(kind, "_fleet_items_first", False) or (_is_fleet_type(kind) and attribute not in _PLAIN_ATTRIBUTES):
            try:  # a key wins over an attribute that is not the plain type's (``item.location``)
                return self._note(obj[attribute])
            except (KeyError, IndexError, TypeError):
                pass
        return self._note(super().getattr(obj, attribute))

    def getitem(self, obj: Any, argument: Any) -> Any:
        return self._note(super().getitem(obj, argument))

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        return __self._note(super().call(__context, __obj, *args, **kwargs))

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if _is_fleet_type(type(obj)) and attr not in _PLAIN_ATTRIBUTES and not isinstance(obj, Undefined):
            return False
        return bool(super().is_safe_attribute(obj, attr, value))


# What a template may use on fleet's own str/dict/list/Mapping subclasses (host data, lazy vars).
_PLAIN_ATTRIBUTES = frozenset(
    name for kind in (str, dict, list, Mapping) for name in dir(kind) if not name.startswith("_"))


def _is_fleet_type(kind: type) -> bool:
    return kind.__module__.split(".", 1)[0] == "fleet"


def _raise(taint: list[int], value: Any) -> None:
    """Raise the innermost render's taint to what ``value`` holds (no walk once it is REMOTE)."""
    if taint and taint[-1] < REMOTE:
        taint[-1] = max(taint[-1], taint_level(value))


@jinja2.pass_environment
def finalize(env: FleetEnvironment, value: Any) -> Any:
    """Output hook for string templates: None prints empty, hidden Undefined fails, host data
    taints the render."""
    _raise(env.taint, value)
    if value is None:
        return ""
    if isinstance(value, types.GeneratorType):
        value = list(value)
    if isinstance(value, (list, tuple, dict)):
        fail_on_undefined(value)
    return value


def fail_on_undefined(value: Any) -> None:
    if isinstance(value, Undefined):
        value._fail_with_undefined_error()
    elif isinstance(value, dict):
        for item in value.values():
            fail_on_undefined(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            fail_on_undefined(item)


def make_environment(search_path: Sequence[str], omit: str, renderer: Any = None) -> FleetEnvironment:
    """A sandboxed environment with Ansible's defaults and fleet's filters, tests and lookups.

    ``trim_blocks=True``, ``lstrip_blocks=False``, ``keep_trailing_newline=True`` and
    ``newline_sequence='\\n'`` (see :mod:`fleet.templating.templar` for where these come from);
    ``{% include %}`` loads from ``search_path``; ``renderer`` (the Templar) renders what the
    ``template`` lookup reads.
    """
    env = FleetEnvironment(
        undefined=FleetUndefined,
        trim_blocks=True,
        lstrip_blocks=False,
        keep_trailing_newline=True,
        newline_sequence="\n",
        finalize=finalize,
        extensions=["jinja2.ext.do", "jinja2.ext.loopcontrols"],
        loader=jinja2.FileSystemLoader(list(search_path)),
        auto_reload=False,
    )
    install(env)
    env.filters = LazyPlugins(env.filters)
    env.tests = LazyPlugins(env.tests)
    env.globals.update(make_lookups(search_path, renderer))
    env.globals["omit"] = omit
    env.globals["now"] = now
    return env


def now(utc: bool = False, fmt: str | None = None) -> Any:
    """Ansible's ``now()`` global: the controller's current time (``utc``), as a datetime or,
    with ``fmt``, as strftime text (``now(fmt='%s.%f')``)."""
    moment = datetime.datetime.now(datetime.UTC).replace(tzinfo=None) if utc else datetime.datetime.now()
    return moment.strftime(fmt) if fmt else moment
