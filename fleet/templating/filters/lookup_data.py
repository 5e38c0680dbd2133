"""Lookups that shape data (and the ``with_*`` loops named after them): items, list, dict,
indexed_items, flattened, together, nested, subelements, sequence, random_choice,
inventory_hostnames, and the table readers ini and csvfile. Each takes the terms (already
rendered) and returns the list Ansible's plugin of the same name returns."""

from __future__ import annotations

import configparser
import csv
import fnmatch
import itertools
import random
import re
from collections.abc import Callable, Mapping
from typing import Any

from fleet.errors import TemplateError
from fleet.templating.filters.data import flatten
from fleet.templating.filters.data import subelements as subelements_filter


def items(terms: list[Any], ctx: Any) -> list[Any]:
    """The terms, lists flattened one level (``with_items``)."""
    return flatten(terms, levels=1, skip_nulls=False)


def list_(terms: list[Any], ctx: Any) -> list[Any]:
    """The terms as they are (``with_list``)."""
    return list(terms)


def dict_(terms: list[Any], ctx: Any) -> list[Any]:
    """``{key, value}`` items of each mapping (``with_dict``)."""
    out: list[Any] = []
    for term in terms:
        if not isinstance(term, Mapping):
            raise TemplateError(f"with_dict expects a dict, got {type(term).__name__}")
        out.extend({"key": key, "value": value} for key, value in term.items())
    return out


def indexed_items(terms: list[Any], ctx: Any) -> list[Any]:
    """``[index, item]`` pairs (``with_indexed_items``)."""
    return [[index, item] for index, item in enumerate(flatten(terms, levels=1, skip_nulls=False))]


def flattened(terms: list[Any], ctx: Any) -> list[Any]:
    """Every nested list flattened (``with_flattened``)."""
    return flatten(terms, skip_nulls=False)


def _lists(terms: list[Any], what: str) -> list[list[Any]]:
    out = [term if isinstance(term, list) else [term] for term in terms]
    if not out:
        raise TemplateError(f"with_{what} requires at least one element in each list")
    return out


def together(terms: list[Any], ctx: Any) -> list[Any]:
    """Items of the lists side by side, None where a list is shorter (``with_together``)."""
    return [list(group) for group in itertools.zip_longest(*_lists(terms, "together"))]


def nested(terms: list[Any], ctx: Any) -> list[Any]:
    """Every combination of the lists' items (``with_nested`` / ``with_cartesian``)."""
    return [list(group) for group in itertools.product(*_lists(terms, "nested"))]


def subelements(terms: list[Any], ctx: Any, skip_missing: bool = False) -> list[Any]:
    """``[element, sub-item]`` pairs (``with_subelements: [list, key, {skip_missing: true}]``)."""
    if len(terms) not in (2, 3) or not isinstance(terms[1], str):
        raise TemplateError("subelements lookup expects a list of two or three items: a list of dicts, "
                            "a key name, and optionally {skip_missing: true}")
    flags = terms[2] if len(terms) == 3 else {}
    if not isinstance(flags, Mapping) or set(flags) - {"skip_missing"}:
        raise TemplateError("the optional third item of subelements must be a dict with skip_missing only")
    skip = bool(flags.get("skip_missing", skip_missing))
    elements = terms[0]
    if isinstance(elements, Mapping):
        elements = list(elements.values())
    return [list(pair) for pair in subelements_filter(elements, terms[1], skip_missing=skip)]


_SHORTCUT = re.compile(r"^(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9]\d*)(?:-(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9]\d*))?"
                       r"(?:/(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9]\d*))?(?::(.+))?$")


def _number(text: Any) -> int:
    return int(str(text), 0) if not re.fullmatch(r"0[0-7]+", str(text)) else int(str(text), 8)


def _sequence_spec(term: str, options: dict[str, Any]) -> dict[str, Any]:
    spec = {"start": 1, "end": None, "count": None, "stride": 1, "format": "%d", **options}
    match = _SHORTCUT.match(term.strip())
    if match and "=" not in term:
        first, last, stride, fmt = match.groups()
        spec.update(start=_number(first) if last else 1, end=_number(last) if last else _number(first))
        if stride:
            spec["stride"] = _number(stride)
        if fmt:
            spec["format"] = fmt
        return spec
    for pair in term.split():
        key, sep, value = pair.partition("=")
        if not sep or key not in ("start", "end", "count", "stride", "format"):
            raise TemplateError(f"sequence: unrecognized argument {pair!r} (start=, end=, count=, stride=, "
                                f"format=, or the shortcut START-END/STRIDE:FORMAT)")
        spec[key] = value
    return spec


def sequence(terms: list[Any], ctx: Any, **options: Any) -> list[Any]:
    """Numbers as formatted strings: ``start=1 end=10 stride=2 format=host%02d``,
    ``count=5`` or ``1-10/2:%02d`` (``with_sequence``)."""
    out: list[Any] = []
    for term in terms:
        spec = _sequence_spec(str(term), options)
        try:
            start, stride = _number(spec["start"]), _number(spec["stride"])
            if spec["count"] is not None:
                if spec["end"] is not None:
                    raise TemplateError("sequence: can't specify both count and end in with_sequence")
                count = _number(spec["count"])
                end = start + (count - 1) * stride if count else start - stride
            elif spec["end"] is not None:
                end = _number(spec["end"])
            else:
                raise TemplateError("sequence: must specify count or end in with_sequence")
        except ValueError as exc:
            raise TemplateError(f"sequence: can't parse {term!r}: {exc}") from None
        if stride == 0:
            continue
        if (stride > 0 and end < start) or (stride < 0 and end > start):
            raise TemplateError("sequence: to count backwards make stride negative" if stride > 0 else
                                "sequence: to count forward don't make stride negative")
        fmt = str(spec["format"])
        try:
            out.extend(fmt % number for number in range(start, end + (1 if stride > 0 else -1), stride))
        except (TypeError, ValueError) as exc:
            raise TemplateError(f"sequence: bad format {fmt!r}: {exc}") from None
    return out


def random_choice(terms: list[Any], ctx: Any) -> list[Any]:
    """One of the terms, at random (``with_random_choice``)."""
    return [random.SystemRandom().choice(terms)] if terms else []


def _pattern_hosts(pattern: str, groups: Mapping[str, Any]) -> list[str]:
    every = list(groups.get("all", []))
    ungrouped = list(groups.get("ungrouped", []))
    for name in groups:
        every.extend(host for host in groups[name] if host not in every)
    every.extend(host for host in ungrouped if host not in every)
    if pattern in ("all", "*"):
        return every
    if pattern in groups:
        return list(groups[pattern])
    if pattern.startswith("~"):
        return [host for host in every if re.search(pattern[1:], host)]
    return [host for host in every if fnmatch.fnmatchcase(host, pattern)] or \
        [host for name in groups if fnmatch.fnmatchcase(name, pattern) for host in groups[name]]


def inventory_hostnames(terms: list[Any], ctx: Any) -> list[Any]:
    """Hosts matching an inventory pattern (``web:&prod:!web3``), in inventory order."""
    groups = ctx.variables.get("groups") or {}
    found: list[str] = []
    for term in terms:
        for part in re.split(r"[:,]", str(term)):
            part = part.strip()
            if not part:
                continue
            if part.startswith("!"):
                drop = set(_pattern_hosts(part[1:], groups))
                found = [host for host in found if host not in drop]
            elif part.startswith("&"):
                keep = set(_pattern_hosts(part[1:], groups))
                found = [host for host in found if host in keep]
            else:
                found.extend(host for host in _pattern_hosts(part, groups) if host not in found)
    return found


def _options(term: str, defaults: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """``'key opt=value ...'`` -> ``(key, options)`` (the old inline form Ansible still reads)."""
    words = term.split()
    key = words[0] if words and "=" not in words[0] else ""
    options = dict(defaults)
    for word in words[1 if key else 0:]:
        name, sep, value = word.partition("=")
        if not sep or name not in defaults:
            raise TemplateError(f"unrecognized option {word!r} (options: {', '.join(defaults)})")
        options[name] = value
    return key, options


def ini(terms: list[Any], ctx: Any, **kwargs: Any) -> list[Any]:
    """Values from an INI (or ``type=properties``) file on the controller (``ini`` lookup)."""
    defaults: dict[str, Any] = {"type": "ini", "file": "ansible.ini", "section": "global", "re": False,
                                "encoding": "utf-8", "default": "", "case_sensitive": False,
                                "allow_no_value": False, "interpolation": True, **kwargs}
    out: list[Any] = []
    for term in terms:
        key, opts = _options(str(term), defaults)
        path = ctx.find_file("files", str(opts["file"]), "ini")
        with open(path, encoding=str(opts["encoding"])) as handle:
            text = handle.read()
        if opts["type"] == "properties":
            text = "[java_properties]\n" + text
            opts["section"] = "java_properties"
        parser_class = configparser.ConfigParser if _true(opts["interpolation"]) else configparser.RawConfigParser
        parser = parser_class(allow_no_value=_true(opts["allow_no_value"]))
        if _true(opts["case_sensitive"]):
            parser.optionxform = str  # type: ignore[assignment,method-assign]
        try:
            parser.read_string(text)
        except configparser.Error as exc:
            raise TemplateError(f"ini: error parsing {path}: {exc}") from None
        section = str(opts["section"])
        if _true(opts["re"]):
            if not parser.has_section(section):
                continue
            out.extend(value for name, value in parser.items(section) if re.match(key, name))
            continue
        try:
            out.append(parser.get(section, key))
        except configparser.NoSectionError:
            raise TemplateError(f"ini: no section {section!r} in {path}") from None
        except configparser.NoOptionError:
            out.append(opts["default"])
    return out


def csvfile(terms: list[Any], ctx: Any, **kwargs: Any) -> list[Any]:
    """Column ``col`` of the row whose column ``keycol`` is the term (``csvfile`` lookup)."""
    defaults: dict[str, Any] = {"col": "1", "keycol": 0, "default": None, "delimiter": "TAB",
                                "file": "ansible.csv", "encoding": "utf-8", **kwargs}
    out: list[Any] = []
    for term in terms:
        key, opts = _options(str(term), defaults)
        delimiter = "\t" if opts["delimiter"] in ("TAB", "t", "\\t") else str(opts["delimiter"])
        path = ctx.find_file("files", str(opts["file"]), "csvfile")
        found = opts["default"]
        with open(path, encoding=str(opts["encoding"]), newline="") as handle:
            for row in csv.reader(handle, delimiter=delimiter):
                if row and len(row) > int(opts["keycol"]) and row[int(opts["keycol"])] == key:
                    found = row[int(opts["col"])]
                    break
        out.append(found)
    return out


def _true(value: Any) -> bool:
    return value is True or str(value).lower() in ("1", "true", "yes", "on")


PLUGINS: dict[str, Callable[..., list[Any]]] = {
    "items": items, "list": list_, "dict": dict_, "indexed_items": indexed_items, "flattened": flattened,
    "together": together, "nested": nested, "cartesian": nested, "subelements": subelements,
    "sequence": sequence, "random_choice": random_choice, "inventory_hostnames": inventory_hostnames,
    "ini": ini, "csvfile": csvfile,
}
