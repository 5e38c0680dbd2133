"""Data that came from a host, marked so that it is never rendered as a template.

Like Ansible's ``AnsibleUnsafe`` (CVE-2016-9587): registered results, gathered facts and
everything computed from them are wrapped with :func:`wrap` (strings become
:class:`UnsafeText`, mappings :class:`UnsafeDict`, sequences :class:`UnsafeList`). The
:class:`~fleet.templating.Templar` returns such values unchanged instead of rendering them, a
conditional whose ``{{ }}`` rendered to host text is an error rather than a second evaluation,
and a render that read host data returns a wrapped result, so the mark follows the data
through ``set_fact``, filters and string templates.

The wrappers are ordinary ``str``/``dict``/``list`` to everything else (JSON, YAML, modules).

What a task run on the controller itself (a ``local`` connection: ``delegate_to: localhost``)
returned is marked too (never rendered), with the ``Controller*`` subclasses: the controller
is not steered by a remote host when it reads a file such a result names (``mktemp -d`` on
localhost, then ``copy: src=``), so :func:`confined` lets it pass. A render that read both
kinds is marked as remote host data (:data:`REMOTE` wins over :data:`CONTROLLER`).
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Iterable, Mapping
from typing import Any

from fleet.errors import Location, TemplateError


class UnsafeText(str):
    """A string from a host: text, never a template."""

    __slots__ = ()
    __UNSAFE__ = True


class UnsafeDict(dict):
    """A mapping from a host; its keys and values are wrapped too."""

    __slots__ = ()
    __UNSAFE__ = True


class UnsafeList(list):
    """A sequence from a host; its items are wrapped too."""

    __slots__ = ()
    __UNSAFE__ = True


class ControllerText(UnsafeText):
    """A string a task run on the controller returned: never a template, may name a file."""

    __slots__ = ()


class ControllerDict(UnsafeDict):
    """A mapping a task run on the controller returned."""

    __slots__ = ()


class ControllerList(UnsafeList):
    """A sequence a task run on the controller returned."""

    __slots__ = ()


UNSAFE_TYPES = (UnsafeText, UnsafeDict, UnsafeList)
CONTROLLER_TYPES = (ControllerText, ControllerDict, ControllerList)
CONTROLLER, REMOTE = 1, 2  # levels of a render's taint: 0 none, then what the render read


def is_unsafe(value: Any) -> bool:
    """True if ``value`` itself is marked (one isinstance check)."""
    return isinstance(value, UNSAFE_TYPES)


def level_of(value: Any) -> int:
    """The taint ``value`` itself carries: 0, :data:`CONTROLLER` or :data:`REMOTE`."""
    if not isinstance(value, UNSAFE_TYPES):
        return 0
    return CONTROLLER if isinstance(value, CONTROLLER_TYPES) else REMOTE


def taint_level(value: Any, _depth: int = 0) -> int:
    """The highest taint in ``value`` or the plain containers holding it (stops at REMOTE)."""
    level = level_of(value)
    if level == REMOTE or _depth > 100:
        return level
    if isinstance(value, dict):
        for k, v in value.items():
            level = max(level, taint_level(k, _depth + 1), taint_level(v, _depth + 1))
            if level == REMOTE:
                break
    elif isinstance(value, (list, tuple, set, frozenset)):
        for item in value:
            level = max(level, taint_level(item, _depth + 1))
            if level == REMOTE:
                break
    return level


def contains_unsafe(value: Any, _depth: int = 0) -> bool:
    """True if ``value`` is marked or is a plain container holding something marked.

    Lazy mappings other than ``dict`` (``hostvars``) are not walked: what they hold is checked
    when it is looked up.
    """
    if isinstance(value, UNSAFE_TYPES):
        return True
    if _depth > 100:
        return False
    if isinstance(value, dict):
        return any(contains_unsafe(k, _depth + 1) or contains_unsafe(v, _depth + 1) for k, v in value.items())
    if isinstance(value, (list, tuple, set, frozenset)):
        return any(contains_unsafe(item, _depth + 1) for item in value)
    return False


def wrap(value: Any, controller: bool = False) -> Any:
    """``value`` with every string in it marked as host data (containers copied as needed);
    ``controller``: returned by a task run on the controller (:class:`ControllerText`...).

    Wrapped values of the wanted kind come back as they are (controller data wrapped as remote
    becomes remote); numbers, booleans and None stay.
    """
    if isinstance(value, UNSAFE_TYPES) and (controller or not isinstance(value, CONTROLLER_TYPES)):
        return value
    text, mapping, sequence = ((ControllerText, ControllerDict, ControllerList) if controller
                               else (UnsafeText, UnsafeDict, UnsafeList))
    if isinstance(value, str):
        return text(value)
    if isinstance(value, Mapping):
        return mapping((wrap(k, controller), wrap(v, controller)) for k, v in value.items())
    if isinstance(value, (list, tuple, set, frozenset)):
        return sequence(wrap(item, controller) for item in value)
    return value


def unwrap(value: Any) -> Any:
    """Plain ``str``/``dict``/``list`` again (for writers that check exact types)."""
    if isinstance(value, str):
        return str(value) if type(value) is not str else value
    if isinstance(value, dict):
        return {unwrap(k): unwrap(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [unwrap(item) for item in value]
    return value


def confined(name: Any, what: str, location: Location | None, within: Iterable[Any] = ()) -> None:
    """Refuse a file name computed from host data that is absolute or climbs with ``..``.

    ``include_tasks: "{{ ansible_distribution }}.yml"`` is common and fine: the name stays
    inside the role and playbook directories. A host must not pick any other controller file.
    An absolute name that resolves inside one of the folders ``within`` (the role's, the
    playbook's: what ``lookup('first_found')`` returns) stays there and is accepted, as is a
    name only the controller's own tasks returned.
    """
    if name is None or taint_level(name) < REMOTE:
        return
    text = str(name)
    if posixpath.isabs(text) and _inside(text, within):
        return
    if posixpath.isabs(text) or text.startswith("~") or ".." in text.replace("\\", "/").split("/"):
        raise TemplateError(f"{what} {text[:120]!r} is computed from data a host sent and leaves the role and "
                         f"playbook directories (absolute, '~' or '..'): refused", location)


def _inside(path: str, folders: Iterable[Any]) -> bool:
    """Does ``path`` (symlinks resolved) lie inside one of ``folders``?"""
    real = os.path.realpath(path)
    for folder in folders:
        if folder is None:
            continue
        root = os.path.realpath(str(folder))
        if real == root or real.startswith(root.rstrip(os.sep) + os.sep):
            return True
    return False
