"""Ansible host patterns: ``all``, ``web*``, ``~regex``, ``a:b``, ``a,b``, ``a:&b``, ``a:!b``,
``web[0]``, ``web[1:3]``, ``web[-1]``, and ``--limit`` (``@file`` included).

Evaluation follows Ansible's inventory manager: a pattern is split on commas (or, without
commas, on colons outside ``[...]``, unless it is an IPv6 address or ``host:port``); plain
parts are unioned first, then ``&`` parts intersect, then ``!`` parts exclude; with no plain
part, ``all`` is implied. One part matches every group whose name it matches (all hosts of
the group and its descendants) and, when it matched no group or looks like a glob/regex/
dotted name, every matching host; an optional subscript then picks from that list.
``localhost``, ``127.0.0.1`` and ``::1`` match the implicit localhost when nothing else does.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol

from fleet.errors import InputError, Location
from fleet.inventory.ranges import split_port

LOCALHOST_NAMES = ("localhost", "127.0.0.1", "::1")
_SUBSCRIPT = re.compile(r"^(.+)\[(?:(-?[0-9]+)|([0-9]+)[:-]([0-9]*)|:([0-9]+))\]$")
_PARTS = re.compile(r"(?:[^\s:\[\]]|\[[^\]]*\])+")
_GLOB_CHARS = ("*", "?", "[")

Subscript = tuple[int, int | None]


class PatternTarget(Protocol):
    """What pattern evaluation needs from an inventory."""

    @property
    def hosts(self) -> Mapping[str, Any]: ...

    @property
    def groups(self) -> Mapping[str, Any]: ...

    def group_hosts(self, name: str) -> list[str]: ...


def split_pattern(pattern: str) -> list[str]:
    """Split a pattern string into its parts (``"a:!b"`` -> ``["a", "!b"]``)."""
    if "," in pattern:
        parts = pattern.split(",")
    else:
        stripped = pattern.strip()
        try:
            port: int | None = split_port(stripped)[1]
        except InputError:  # "host:99999": one part, as any host:port (it matches nothing)
            port = 0
        if port is not None or _is_plain_ipv6(stripped):
            parts = [stripped]
        else:
            parts = _PARTS.findall(pattern)
    return [p.strip() for p in parts if p.strip()]


def _is_plain_ipv6(text: str) -> bool:
    name, _ = split_port(f"[{text}]")
    return name == text and text.count(":") >= 2


def order_parts(parts: Sequence[str]) -> list[str]:
    """Plain parts first, then ``&`` parts, then ``!`` parts; ``all`` if no plain part."""
    plain = [p for p in parts if p and p[0] not in "&!"]
    inter = [p for p in parts if p and p[0] == "&"]
    exclude = [p for p in parts if p and p[0] == "!"]
    return (plain or ["all"]) + inter + exclude


def split_subscript(part: str) -> tuple[str, Subscript | None]:
    """``web[1:3]`` -> ``("web", (1, 3))``; ``web[-1]`` -> ``("web", (-1, None))``.

    Ranges are inclusive (``[0:2]`` is three hosts), as Ansible's code does.
    """
    if part.startswith("~"):
        return part, None
    m = _SUBSCRIPT.match(part)
    if not m:
        return part, None
    expr, index, start, end, head_end = m.groups()
    if index is not None:
        return expr, (_index(index), None)
    if head_end is not None:  # [:N], as in Ansible's docs: from the first host
        return expr, (0, _index(head_end))
    return expr, (_index(start), _index(end) if end else -1)


def _index(digits: str) -> int:
    """A subscript number; past 18 digits it is past any inventory's end anyway (and int()
    refuses more than 4300 digits)."""
    if len(digits.lstrip("-")) > 18:
        return -_BIG if digits.startswith("-") else _BIG
    return int(digits)


_BIG = 10**18


def apply_subscript(hosts: list[str], subscript: Subscript | None, part: str) -> list[str]:
    """Pick hosts by a subscript the way Ansible does (ranges are inclusive)."""
    if not hosts or subscript is None:
        return hosts
    start, end = subscript
    if end:
        stop = len(hosts) if end == -1 else end + 1
        return hosts[start:stop]
    try:
        return [hosts[start]]
    except IndexError:
        raise InputError(f"no hosts matched the subscripted pattern {part!r}") from None


def _matcher(expr: str) -> Callable[[str], Any]:
    try:
        if expr.startswith("~"):
            return re.compile(expr[1:]).match
        return re.compile(fnmatch.translate(expr)).match
    except re.error as exc:
        raise InputError(f"invalid host pattern {expr!r}: {exc}") from None


class PatternEvaluator:
    """Evaluates patterns against one inventory; caches each part's matches."""

    def __init__(self, target: PatternTarget, implicit: Callable[[str], str | None]) -> None:
        self.target = target
        self.implicit = implicit
        self._cache: dict[str, list[str]] = {}

    def match_part(self, part: str) -> list[str]:
        """Hosts matched by one part (its ``&``/``!`` prefix ignored), duplicates possible."""
        if part[0] in "&!":
            part = part[1:]
        cached = self._cache.get(part)
        if cached is None:
            expr, subscript = split_subscript(part)
            cached = apply_subscript(self._enumerate(expr), subscript, part)
            self._cache[part] = cached
        return cached

    def _enumerate(self, expr: str) -> list[str]:
        target = self.target
        is_glob = expr.startswith("~") or any(c in expr for c in _GLOB_CHARS)
        if is_glob:
            match = _matcher(expr)
            groups = [g for g in target.groups if match(g)]
        else:
            groups = [expr] if expr in target.groups else []
        results: list[str] = []
        for group in groups:
            results.extend(target.group_hosts(group))
        if not groups or is_glob or "." in expr:
            if is_glob:
                results.extend(h for h in target.hosts if match(h))
            elif expr in target.hosts:
                results.append(expr)
        if not results and expr in LOCALHOST_NAMES:
            name = self.implicit(expr)
            if name is not None:
                results.append(name)
        return results

    def matches_nothing(self, part: str) -> bool:
        """Whether a part names no group and no host (``all`` always matches): Ansible's
        "Could not match supplied host pattern, ignoring: PART". An empty group matches."""
        expr, _ = split_subscript(part[1:] if part[:1] in "&!" else part)
        if expr in ("all", "*") or expr in self.target.groups or expr in self.target.hosts:
            return False
        if expr.startswith("~") or any(c in expr for c in _GLOB_CHARS):
            match = _matcher(expr)
            return not any(match(g) for g in self.target.groups) and not any(match(h) for h in self.target.hosts)
        return not self.match_part(part)

    def evaluate(self, parts: Iterable[str]) -> list[str]:
        """Host names for a list of parts, in Ansible's order, without duplicates."""
        hosts: list[str] = []
        present: set[str] = set()
        for part in order_parts(list(parts)):
            if part in self.target.hosts:
                if part not in present:
                    present.add(part)
                    hosts.append(part)
                continue
            matched = self.match_part(part)
            if part[0] == "!":
                drop = set(matched)
                hosts = [h for h in hosts if h not in drop]
                present -= drop
            elif part[0] == "&":
                keep = set(matched)
                hosts = [h for h in hosts if h in keep]
                present &= keep
            else:
                for h in matched:
                    if h not in present:
                        present.add(h)
                        hosts.append(h)
        return hosts


def limit_parts(limit: str | Sequence[str]) -> list[str]:
    """Parts of a ``--limit`` value (or several); ``@file`` reads one pattern per line."""
    values = [limit] if isinstance(limit, str) else list(limit)
    parts: list[str] = []
    for value in values:
        for part in split_pattern(value):
            if part.startswith("@"):
                parts.extend(_read_limit_file(part[1:]))
            else:
                parts.append(part)
    return parts


def _read_limit_file(path: str) -> list[str]:
    try:
        with open(path, encoding="utf-8") as fh:
            lines = fh.read().splitlines()
    except IsADirectoryError:
        raise InputError("a limit starting with '@' must name a file", Location(path)) from None
    except OSError as exc:
        raise InputError(f"cannot read limit file: {exc.strerror}", Location(path)) from None
    return [line.strip() for line in lines if line.strip()]


def select_names(
    evaluator: PatternEvaluator, pattern: str, limit: str | Sequence[str] | None = None
) -> list[str]:
    """Host names matching ``pattern``, intersected with ``limit`` if given."""
    parts = split_pattern(pattern)
    if not parts:
        return []
    hosts = evaluator.evaluate(parts)
    if limit is not None:
        allowed = set(evaluator.evaluate(limit_parts(limit)))
        hosts = [h for h in hosts if h in allowed]
    return hosts
