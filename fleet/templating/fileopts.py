"""The template module's Jinja2 options (Ansible's template action): from a task's arguments to
the settings of the environment a template file renders in.

``newline_sequence`` also accepts the escaped forms (``'\\r\\n'`` written in single quotes),
as Ansible's action converts them; the delimiters default to Jinja2's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fleet.errors import InputError, Location

NEWLINES = {"\\n": "\n", "\\r": "\r", "\\r\\n": "\r\n"}
DELIMITERS = ("variable_start_string", "variable_end_string", "block_start_string", "block_end_string",
              "comment_start_string", "comment_end_string")
OPTIONS = ("newline_sequence", "trim_blocks", "lstrip_blocks", *DELIMITERS)
DEFAULTS: Mapping[str, Any] = {"newline_sequence": "\n", "trim_blocks": True, "lstrip_blocks": False}


def file_options(args: Mapping[str, Any], where: str = "template",
                 location: Location | None = None) -> dict[str, Any]:
    """The Jinja2 settings ``args`` (a template task's arguments) ask for that differ from the
    template module's defaults; an InputError for a newline_sequence Ansible refuses."""
    options: dict[str, Any] = {}
    for name in OPTIONS:
        value = args.get(name)
        if value is None:
            continue
        if name in ("trim_blocks", "lstrip_blocks"):
            value = _bool(value, name, where, location)
        elif name == "newline_sequence":
            value = NEWLINES.get(str(value), str(value))
            if value not in NEWLINES.values():
                raise InputError(f"{where}: newline_sequence needs to be one of: \\n, \\r or \\r\\n", location)
        else:
            value = str(value)
        if value != DEFAULTS.get(name):
            options[name] = value
    return options


def custom_delimiters(options: Mapping[str, Any]) -> bool:
    """Whether ``options`` change what marks a template ("{{", "{%", "{#")."""
    return any(name in options for name in DELIMITERS)


def _bool(value: Any, name: str, where: str, location: Location | None) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "yes", "true", "on", "y", "t"):
        return True
    if text in ("0", "no", "false", "off", "n", "f", ""):
        return False
    raise InputError(f"{where}: {name} must be a boolean, got {value!r:.40}", location)
