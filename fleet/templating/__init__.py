"""Templating with Ansible's semantics, and the marking of host data that is never templated.

- :mod:`~fleet.templating.templar`: the :class:`Templar` (render, truth, syntax checks).
- :mod:`~fleet.templating.environment`: the sandboxed Jinja2 environment, undefined and context.
- :mod:`~fleet.templating.tree`: helpers over Jinja2's syntax tree (guards, one expression).
- :mod:`~fleet.templating.filters`: filters, tests and lookups.
- :mod:`~fleet.templating.unsafe`: host data (registered results, facts) wrapped as unsafe;
  it lives here because the Templar is what honours the mark (it refuses to render such data
  and taints what reads it).
"""

from fleet.templating.fileopts import OPTIONS as TEMPLATE_OPTIONS
from fleet.templating.fileopts import custom_delimiters, file_options
from fleet.templating.filters.data import merge_hash
from fleet.templating.templar import Templar, is_template
from fleet.templating.unsafe import (
    UNSAFE_TYPES,
    ControllerDict,
    ControllerList,
    ControllerText,
    UnsafeDict,
    UnsafeList,
    UnsafeText,
    confined,
    contains_unsafe,
    is_unsafe,
    unwrap,
    wrap,
)

__all__ = [
    "TEMPLATE_OPTIONS",
    "UNSAFE_TYPES",
    "ControllerDict",
    "ControllerList",
    "ControllerText",
    "Templar",
    "UnsafeDict",
    "UnsafeList",
    "UnsafeText",
    "confined",
    "contains_unsafe",
    "custom_delimiters",
    "file_options",
    "is_template",
    "is_unsafe",
    "merge_hash",
    "unwrap",
    "wrap",
]
