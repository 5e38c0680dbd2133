"""Data that came from a host, marked so that it is never rendered as a template.

Like Ansible's ``AnsibleUnsafe`` (CVE-2016-9587): registered results, gathered facts and
everything computed from them are wrapped with :func:`wrap` (strings become
:class:`UnsafeText`, mappings :class:`UnsafeDict`, sequences :class:`UnsafeList`). The
:class:`~fleet.templating.Templar` returns such values unchanged instead of rendering them, a
conditional whose ``{{ }}`` rendered to host text is an error rather than a second evaluation,
and a render that read host data returns a wrapped result, so the mark follows the data
through ``set_fact``, filters and string templates.

The wrappers are ordinary ``str``/``dict``/``list`` to everything else (JSON, YAML, modules).
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


UNSAFE_TYPES = (UnsafeText, UnsafeDict, UnsafeList)


def is_unsafe(value: Any) -> bool:
    """True if ``value`` itself is marked (one isinstance check)."""
    return isinstance(value, UNSAFE_TYPES)


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


def wrap(value: Any) -> Any:
    """``value`` with every string in it marked as host data (containers copied as needed).

    Already wrapped containers come back as they are; numbers, booleans and None stay.
    """
    if isinstance(value, UNSAFE_TYPES):
        return value
    if isinstance(value, str):
        return UnsafeText(value)
    if isinstance(value, Mapping):
        return UnsafeDict((wrap(k), wrap(v)) for k, v in value.items())
    if isinstance(value, (list, tuple, set, frozenset)):
        return UnsafeList(wrap(item) for item in value)
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
    playbook's: what ``lookup('first_found')`` returns) stays there and is accepted.
    """
    if name is None or not contains_unsafe(name):
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
