"""Lazily rendered per-host variables (:class:`HostVars`) and ``fleet vars --explain``.

A :class:`HostVars` is a read-only mapping over a stack of :class:`~fleet.vars.layers.Layer`
(lowest precedence first). The highest layer defining a name wins, whole value (Ansible's
default ``hash_behaviour=replace``). Values are rendered on first access with the mapping
itself as the template context, so a template in a low layer sees overrides from higher
layers, and ``"{{ inventory_hostname }}"`` in group vars resolves per host.

Values from the ``facts``, ``set_fact / register`` and ``magic vars`` layers are data gathered
from hosts, already rendered by the task that set them, or computed by fleet: like Ansible's
"unsafe" values they are never templated (again). Neither are the values of a ``final`` layer
(loop items), values wrapped in :class:`~fleet.vars.layers.Final`, nor host data
(:mod:`fleet.templating.unsafe`) wherever it sits.

:meth:`HostVars.push` makes a cheap view with extra layers on top (task vars, loop item...).
A view reuses its parent's rendered value for a name unless the name, or any name that
rendering looked up (transitively), is defined by one of the view's own layers.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from fleet.errors import Location, TemplateError
from fleet.templating import UNSAFE_TYPES, Templar, is_template
from fleet.vars.layers import PRECEDENCE, Final, Layer
from fleet.vault import VaultValue

UNTEMPLATED_KINDS: frozenset[str] = frozenset({"facts", "set_fact / register", "magic vars"})
_KINDS = frozenset(PRECEDENCE)
_SOURCE_LINE = re.compile(r"^(.*):(\d+)$")
_CONTEXT_ATTR = "_fleet_var_context"


@dataclass(frozen=True)
class ExplainRow:
    """One layer that defines a variable: its kind, source, raw value and whether it won."""

    kind: str
    source: str
    value: Any
    won: bool


class VarRenderError(str):
    """What :meth:`HostVars.as_dict` shows for a variable that failed to render: the error text."""

    __slots__ = ()


def _source_location(layer: Layer, raw: Any) -> Location:
    """Where a raw value came from: its YAML location, else the layer's ``source``."""
    location = getattr(raw, "location", None)
    if isinstance(location, Location):
        return location
    found = _SOURCE_LINE.match(layer.source)
    if found:
        return Location(found.group(1), int(found.group(2)))
    return Location(layer.source)


def _annotate(message: str, location: Location | None) -> TemplateError:
    """A TemplateError already naming its variable (outer variables leave it alone)."""
    new = TemplateError(message, location)
    setattr(new, _CONTEXT_ATTR, True)
    return new


class HostVars(Mapping[str, Any]):
    """The variables of one host, rendered lazily and cached in this instance."""

    _fleet_items_first: ClassVar[bool] = True  # templates: ``hv.keys`` is the variable ``keys``

    __slots__ = ("_layers", "_templar", "_parent", "_shadow", "_cache", "_resolving", "_tracking")

    def __init__(self, layers: Sequence[Layer], templar: Templar) -> None:
        self._layers: tuple[Layer, ...] = tuple(layers)
        for layer in self._layers:
            self._check_kind(layer)
        self._templar = templar
        self._parent: HostVars | None = None
        self._shadow: frozenset[str] = frozenset()
        self._cache: dict[str, tuple[Any, frozenset[str]]] = {}
        self._resolving: set[str] = set()
        self._tracking: list[set[str]] = []

    @staticmethod
    def _check_kind(layer: Layer) -> None:
        if layer.kind not in _KINDS:
            raise ValueError(f"unknown variable layer kind {layer.kind!r} (from {layer.source})")

    @property
    def layers(self) -> tuple[Layer, ...]:
        """The layers, lowest precedence first."""
        return self._layers

    @property
    def templar(self) -> Templar:
        """The templar values are rendered with."""
        return self._templar

    def push(self, *layers: Layer) -> HostVars:
        """A new view with ``layers`` on top; shares this one's layers and rendered values."""
        view = HostVars.__new__(HostVars)
        for layer in layers:
            self._check_kind(layer)
        view._layers = self._layers + layers
        view._templar = self._templar
        view._parent = self
        view._shadow = frozenset().union(*(layer.values.keys() for layer in layers))
        view._cache = {}
        view._resolving = set()
        view._tracking = []
        return view

    # ------------------------------------------------------------------ Mapping

    def _winner(self, name: str) -> Layer | None:
        for layer in reversed(self._layers):
            if name in layer.values:
                return layer
        return None

    def __contains__(self, name: object) -> bool:
        if self._tracking and isinstance(name, str):
            self._tracking[-1].add(name)
        return any(name in layer.values for layer in self._layers)

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys(name for layer in self._layers for name in layer.values))

    def __len__(self) -> int:
        return len({name for layer in self._layers for name in layer.values})

    def __getitem__(self, name: str) -> Any:
        tracking = self._tracking
        if tracking:
            tracking[-1].add(name)
        entry = self._cache.get(name)
        if entry is None:
            entry = self._resolve(name)
        value, deps = entry
        if tracking and deps:
            tracking[-1].update(deps)
        return value

    def __repr__(self) -> str:
        return f"<HostVars {len(self._layers)} layers>"

    # ------------------------------------------------------------------ rendering

    def _resolve(self, name: str) -> tuple[Any, frozenset[str]]:
        entry = self._from_parent(name)
        if entry is None:
            layer = self._winner(name)
            if layer is None:
                raise KeyError(name)
            raw = layer.values[name]
            if isinstance(raw, Final):
                entry = (raw.value, frozenset())
            elif layer.final or layer.kind in UNTEMPLATED_KINDS or isinstance(raw, UNSAFE_TYPES) \
                    or not isinstance(raw, (str, dict, list, tuple, VaultValue)) \
                    or (isinstance(raw, str) and not is_template(raw)):
                entry = (raw, frozenset())
            else:
                entry = self._render(name, layer, raw)
        self._cache[name] = entry
        return entry

    def _from_parent(self, name: str) -> tuple[Any, frozenset[str]] | None:
        """The parent's value, if none of this view's layers define it or anything it used.

        KeyError (defined nowhere) propagates; a render error in the parent means "render
        here", since this view's layers may define what was missing there.
        """
        parent = self._parent
        if parent is None or name in self._shadow:
            return None
        try:
            parent[name]
        except TemplateError:
            return None
        entry = parent._cache[name]
        return entry if self._shadow.isdisjoint(entry[1]) else None

    def _render(self, name: str, layer: Layer, raw: Any) -> tuple[Any, frozenset[str]]:
        location = _source_location(layer, raw)
        if name in self._resolving:
            raise _annotate(
                f"recursive loop detected in variable {name!r} (defined in {layer.kind} {layer.source})",
                location)
        self._resolving.add(name)
        self._tracking.append(set())
        try:
            value = self._templar.render(raw, self, location)
        except TemplateError as exc:
            if getattr(exc, _CONTEXT_ATTR, False):
                raise
            message = f"{exc.message} (in variable {name!r} from {layer.kind} {layer.source})"
            raise _annotate(message, exc.location or location) from None
        finally:
            deps = self._tracking.pop()
            self._resolving.discard(name)
        return value, frozenset(deps)

    # ------------------------------------------------------------------ inspection

    def raw(self, name: str) -> Any:
        """The winning value of ``name`` before rendering; KeyError if undefined."""
        layer = self._winner(name)
        if layer is None:
            raise KeyError(name)
        raw = layer.values[name]
        return raw.value if isinstance(raw, Final) else raw

    def explain(self, name: str) -> list[ExplainRow]:
        """Every layer defining ``name``, lowest precedence first; the last one won."""
        rows = [ExplainRow(layer.kind, layer.source, layer.values[name], False)
                for layer in self._layers if name in layer.values]
        if rows:
            last = rows[-1]
            rows[-1] = ExplainRow(last.kind, last.source, last.value, True)
        return rows

    def as_dict(self, render: bool = True) -> dict[str, Any]:
        """All variables; rendered unless ``render=False``. Failures show as :class:`VarRenderError`."""
        if not render:
            return {name: self.raw(name) for name in self}
        out: dict[str, Any] = {}
        for name in self:
            try:
                out[name] = self[name]
            except TemplateError as exc:
                out[name] = VarRenderError(str(exc))
        return out


def explain_rows(rows: Sequence[ExplainRow]) -> list[Mapping[str, Any]]:
    """Rows as plain dicts (for JSON output of ``fleet vars --explain``)."""
    return [{"kind": r.kind, "source": r.source, "value": r.value, "won": r.won} for r in rows]
