"""Filters, tests and lookups of ansible-core and the installed collections for fleet's
Templar (its :class:`~fleet.templating.plugins.PluginSource`): asked by name only when a
template first uses one fleet lacks, through ansible-core's own plugin loaders.

Names resolve as Ansible resolves them: an FQCN in its collection, a short name through
``ansible.builtin``/``ansible.legacy`` only. Arguments reach the plugin as plain data (fleet's
marked strings as ``str``); lookups get the task's variables and the keyword arguments, and
run without a templar or loader (those that need one fail with their own message).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from typing import Any, Protocol

from fleet.bridge.plain import plain, plausible
from fleet.errors import FleetError, TemplateError


class PluginHost(Protocol):
    """What the plugin source needs of the run's :class:`~fleet.bridge.run.Bridge`."""

    @property
    def available(self) -> bool: ...

    def core(self) -> Any: ...

    def resolver(self) -> Any: ...

    def captured(self) -> AbstractContextManager[None]: ...

LOADERS = {"filter": "filter_loader", "test": "test_loader", "lookup": "lookup_loader"}


class JinjaPlugins:
    """The bridge's plugin source for one run's Templar (see the module doc)."""

    def __init__(self, bridge: PluginHost) -> None:
        self._bridge = bridge

    def filter(self, name: str) -> Callable[..., Any] | None:
        """ansible-core's or a collection's filter ``name``, None if there is none (or no ansible-core)."""
        plugin = self._find("filter", name)
        return None if plugin is None else _plain_call(_function(plugin))

    def test(self, name: str) -> Callable[..., Any] | None:
        """ansible-core's or a collection's test ``name``."""
        plugin = self._find("test", name)
        return None if plugin is None else _plain_call(_function(plugin))

    def lookup(self, name: str) -> Callable[[list[Any], Mapping[str, Any], dict[str, Any]], list[Any]] | None:
        """ansible-core's or a collection's lookup ``name``, run with only terms and variables."""
        plugin = self._find("lookup", name)
        if plugin is None:
            return None
        def run(terms: list[Any], variables: Mapping[str, Any], kwargs: dict[str, Any]) -> list[Any]:
            errors = self._bridge.core().module("ansible.errors")
            try:
                with self._bridge.captured():
                    return list(plugin.run(plain(terms), variables=variables, **plain(kwargs)))
            except errors.AnsibleError as exc:
                raise TemplateError(f"lookup({name!r}): {getattr(exc, 'message', '') or exc}") from None
            except AttributeError as exc:
                if "'NoneType'" not in str(exc):
                    raise
                raise TemplateError(f"lookup({name!r}) needs Ansible's own templar or loader ({exc}); fleet runs "
                                    f"collection lookups with their terms and variables only") from None
        return run

    def _find(self, kind: str, name: str) -> Any:
        if not plausible(name) or not self._bridge.available:
            return None
        if "." in name and name.count(".") < 2:
            return None  # neither a short name nor an FQCN
        self._bridge.resolver()  # the collection paths, set once per process
        loader = getattr(self._bridge.core().module("ansible.plugins.loader"), LOADERS[kind])
        try:
            with self._bridge.captured():
                return loader.get(name)
        except FleetError:
            raise
        except Exception:  # noqa: BLE001 - a plugin that does not load is one Jinja does not have
            return None


def _function(plugin: Any) -> Callable[..., Any]:
    """The plugin's own Python function (``j2_function`` since 2.15)."""
    return getattr(plugin, "j2_function", None) or plugin._function


def _plain_call(function: Callable[..., Any]) -> Callable[..., Any]:
    """``function`` called with plain data; Jinja's ``pass_*`` marks (its first argument) kept."""
    from jinja2.runtime import Undefined

    passes = getattr(function, "jinja_pass_arg", None)

    def value(item: Any) -> Any:
        return item if isinstance(item, Undefined) else plain(item)

    @functools.wraps(function)
    def call(*args: Any, **kwargs: Any) -> Any:
        head, rest = (args[:1], args[1:]) if passes is not None else ((), args)
        return function(*head, *(value(a) for a in rest), **{k: value(v) for k, v in kwargs.items()})

    if passes is not None:
        call.jinja_pass_arg = passes  # type: ignore[attr-defined]
    return call


def _plausible(name: str) -> bool:
    return bool(name) and all(part.isidentifier() for part in name.split("."))
