"""INI inventory files: ``[group]``, ``[group:vars]``, ``[group:children]``, host lines.

As Ansible's ``ini`` plugin: lines starting with ``#`` or ``;`` are comments; hosts before any
section are ungrouped; host lines are split shell-style (``#`` starts a comment) into a host
(range and ``:port`` allowed) and ``key=value`` pairs; every value, on host lines and in
``:vars`` sections alike, goes through :func:`parse_value` (Python literal if it is one, else
the string). A ``:vars`` line is one ``key=value`` whose value is the rest of the line.
A group named in ``[x:children]`` or ``[x:vars]`` must be declared somewhere in the file
(``[x]`` or ``[x:children]``) or by an earlier source.
"""

from __future__ import annotations

import ast
import re
import shlex
import warnings
from dataclasses import dataclass, field
from typing import Any

from fleet.errors import InputError, Location
from fleet.inventory.builder import PRIORITY_VAR, InventoryBuilder
from fleet.inventory.ranges import expand_host_pattern

_SECTION = re.compile(r"^\[([^:\]\s]+)(?::(\w+))?\]\s*(?:#.*)?$")
_GROUP_NAME = re.compile(r"^([^:\]\s]+)\s*(?:#.*)?$")
_STATES = ("hosts", "children", "vars")
_PLAIN_INT = re.compile(r"-?(?:[1-9][0-9]*|0)")
_PLAIN_WORD = re.compile(r"[A-Za-z_][\w.\-]*|\d+(?:\.\d+){2,}")
_SHELL_SPECIAL = frozenset("'\"\\")


def _split_host_line(line: str) -> list[str]:
    """Shell-style split with ``#`` comments, as Ansible's INI parser (fast without quotes)."""
    if _SHELL_SPECIAL.isdisjoint(line):
        return line.split("#", 1)[0].split()
    return shlex.split(line, comments=True)


def _coerce(value: Any) -> Any:
    """Make a literal_eval result a plain variable value (tuples/sets become lists)."""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_coerce(v) for v in value]
    if isinstance(value, dict):
        return {_coerce(k): _coerce(v) for k, v in value.items()}
    if isinstance(value, complex) or value is Ellipsis:
        return "..." if value is Ellipsis else str(value)
    return value


def parse_value(text: str) -> Any:
    """An INI value: a Python literal (``2222`` -> int, ``True``, ``[1, 2]``) or else the text."""
    if _PLAIN_INT.fullmatch(text):
        try:
            return int(text)
        except ValueError:  # over Python's 4300-digit limit: literal_eval refuses it too
            return text
    if _PLAIN_WORD.fullmatch(text) and text not in ("True", "False", "None"):
        return text  # a name, dotted name, dashed name or address: never a literal
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return text
    return _coerce(value)


@dataclass
class _Pending:
    """A group used before it was declared: by a ``:vars`` header or as a child."""

    kind: str
    line: int
    parents: list[str] = field(default_factory=list)


class _IniParser:
    def __init__(self, path: str, builder: InventoryBuilder, inventory_file: str) -> None:
        self.path = path
        self.builder = builder
        self.inventory_file = inventory_file
        self.group = "ungrouped"
        self.state = "hosts"
        self.vars_block: dict[str, Any] | None = None
        self.vars_source = ""
        self.pending: dict[str, _Pending] = {}
        self.lineno = 0

    def loc(self, line: int | None = None) -> Location:
        return Location(self.path, line or self.lineno)

    def parse(self, text: str) -> None:
        for self.lineno, raw in enumerate(text.splitlines(), start=1):
            line = raw.strip()
            if not line or line[0] in "#;":
                continue
            m = _SECTION.match(line)
            if m:
                self.section(m.group(1), m.group(2) or "hosts")
            elif line.startswith("[") and "]" not in line:
                raise InputError(f"unclosed section header {line!r} (missing ']')", self.loc())
            elif line.startswith("[") and line.endswith("]"):
                raise InputError(
                    f"invalid section header {line!r}: no spaces or other characters are "
                    "allowed around the group name",
                    self.loc(),
                )
            elif self.state == "hosts":
                self.host_line(line)
            elif self.state == "vars":
                self.vars_line(line)
            else:
                self.child_line(line)
        self.flush_vars()
        for name, pending in self.pending.items():
            if pending.kind == "vars":
                message = f"section [{name}:vars] is for group {name!r}, which is never declared"
            else:
                message = (
                    f"section [{pending.parents[-1]}:children] names group {name!r}, "
                    "which is never declared"
                )
            raise InputError(message, self.loc(pending.line))

    def flush_vars(self) -> None:
        if self.vars_block:
            self.builder.add_group_vars(self.group, self.vars_block, self.vars_source)
        self.vars_block = None

    def section(self, name: str, state: str) -> None:
        self.flush_vars()
        if state not in _STATES:
            raise InputError(
                f"section [{name}:{state}] has unknown type {state!r} "
                "(expected [group], [group:vars] or [group:children])",
                self.loc(),
            )
        builder = self.builder
        if name not in builder.groups:
            if state == "vars" and name not in self.pending:
                self.pending[name] = _Pending("vars", self.lineno)
            builder.add_group(name, self.loc())
        pending = self.pending.get(name)
        if pending is not None and state != "vars":
            del self.pending[name]
            for parent in pending.parents:
                builder.add_child(parent, name, self.loc(pending.line))
        self.group, self.state = name, state
        if state == "vars":
            self.vars_block = {}
            self.vars_source = f"{self.path}:{self.lineno}"

    def host_line(self, line: str) -> None:
        try:
            tokens = _split_host_line(line)
        except ValueError as exc:
            raise InputError(f"cannot parse host line {line!r}: {exc}", self.loc()) from None
        if not tokens or not tokens[0]:
            raise InputError(f"expected a host name, got {line!r}", self.loc())
        pattern = tokens[0]
        if pattern == "---":
            raise InputError("'---' is not a host name: is this a YAML file?", self.loc())
        names, port = expand_host_pattern(pattern, self.loc())
        if pattern.endswith(":") and port is None:
            raise InputError(
                f"invalid host {pattern!r}: a trailing ':' must be followed by a port", self.loc()
            )
        values: dict[str, Any] = {} if port is None else {"ansible_port": port}
        for token in tokens[1:]:
            key, sep, value = token.partition("=")
            if not sep or not key:
                raise InputError(
                    f"expected key=value host variable after {pattern!r}, got {token!r}", self.loc()
                )
            values[key] = parse_value(value)
        source = f"{self.path}:{self.lineno}"
        for name in names:
            self.builder.add_host(name, self.group, self.loc(), self.inventory_file)
            self.builder.add_host_vars(name, values, source)

    def vars_line(self, line: str) -> None:
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not key:
            raise InputError(f"expected key=value in [{self.group}:vars], got {line!r}", self.loc())
        parsed = parse_value(value.strip())
        if key == PRIORITY_VAR:
            self.builder.set_priority(self.group, parsed, self.loc())
        elif self.vars_block is not None:
            self.vars_block[key] = parsed

    def child_line(self, line: str) -> None:
        m = _GROUP_NAME.match(line)
        if not m:
            raise InputError(
                f"expected a group name in [{self.group}:children], got {line!r}", self.loc()
            )
        child = m.group(1)
        if child in self.builder.groups:
            self.builder.add_child(self.group, child, self.loc())
            return
        pending = self.pending.setdefault(child, _Pending("children", self.lineno))
        pending.parents.append(self.group)


def parse_ini(text: str, path: str, builder: InventoryBuilder, inventory_file: str) -> None:
    """Parse INI inventory ``text`` read from ``path`` into ``builder``."""
    _IniParser(path, builder, inventory_file).parse(text)
