"""ansible.builtin filters beyond the everyday ones: comments, dates, randomness, password
hashes, sizes, maths, URLs and paths (``core.py``, ``mathstuff.py``, ``urls.py``,
``urlsplit.py``, ``encryption.py`` in ansible-core). Behaviour and messages follow Ansible's
documentation and what ansible-core computes (the tests compare with it)."""

from __future__ import annotations

import datetime
import glob
import itertools
import math
import ntpath
import os
import random as _random
import re
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import Any
from urllib.parse import unquote_plus
from urllib.parse import urlsplit as _urlsplit

from jinja2 import Undefined, pass_context

from fleet.errors import TemplateError

_COMMENT_STYLES: Mapping[str, Mapping[str, str]] = MappingProxyType({
    "plain": {"decoration": "# "},
    "erlang": {"decoration": "% "},
    "c": {"decoration": "// "},
    "cblock": {"beginning": "/*", "decoration": " * ", "end": " */"},
    "xml": {"beginning": "<!--", "decoration": " - ", "end": "-->"},
})


def comment(text: Any, style: str = "plain", **options: Any) -> str:
    """Wrap ``text`` in a comment block of ``style`` (plain, erlang, c, cblock, xml); every part
    (``beginning``, ``prefix``, ``prefix_count``, ``decoration``, ``postfix``, ``postfix_count``,
    ``end``, ``newline``) can be overridden, as Ansible's ``comment`` filter allows."""
    if style not in _COMMENT_STYLES:
        raise TemplateError(f"comment: unknown style {style!r} (one of {', '.join(_COMMENT_STYLES)})")
    chosen = dict(_COMMENT_STYLES[style])
    edge = str(options.get("decoration", chosen["decoration"])).rstrip()
    parts: dict[str, Any] = {"newline": "\n", "beginning": "", "prefix": edge, "prefix_count": 1,
                             "decoration": "", "postfix": edge, "postfix_count": 1, "end": "", **chosen, **options}
    newline, decoration = str(parts["newline"]), str(parts["decoration"])
    head = f"{parts['beginning']}{newline}" if parts["beginning"] else ""
    prefix = ""
    if parts["prefix"]:
        line = newline if parts["prefix"] == newline else f"{parts['prefix']}{newline}"
        prefix = line * int(parts["prefix_count"])
    body = decoration + str(text).replace(newline, newline + decoration)
    body = body.replace(decoration + newline, decoration.rstrip() + newline)  # no trailing blanks
    postfix = newline.join([""] + [str(parts["postfix"])] * int(parts["postfix_count"]))
    tail = f"{newline}{parts['end']}" if parts["end"] else ""
    return head + prefix + body + postfix + tail


def to_datetime(value: Any, format: str = "%Y-%m-%d %H:%M:%S") -> datetime.datetime:  # noqa: A002
    """``datetime.strptime`` (Ansible's default format ``%Y-%m-%d %H:%M:%S``)."""
    try:
        return datetime.datetime.strptime(str(value), format)
    except ValueError as exc:
        raise TemplateError(f"to_datetime: {exc}") from None


def strftime(string_format: Any, second: Any = None, utc: bool = False) -> str:
    """``time.strftime`` of now, or of ``second`` (epoch seconds); ``utc=True`` for UTC."""
    if second is not None:
        try:
            second = float(second)
        except (TypeError, ValueError):
            raise TemplateError(f"Invalid value for epoch value ({second})") from None
    return time.strftime(str(string_format), (time.gmtime if utc else time.localtime)(second))


def random(end: Any, start: Any = None, step: Any = None, seed: Any = None) -> Any:
    """A random number below ``end`` (``start``/``step``) or a random item of a sequence;
    ``seed`` makes it repeatable (``Random(seed)``, as Ansible seeds it)."""
    generator = _random.SystemRandom() if seed is None else _random.Random(seed)
    if isinstance(end, int) and not isinstance(end, bool):
        return generator.randrange(start or 0, end, step or 1)
    if isinstance(end, Iterable) and not isinstance(end, Undefined):
        if start or step:
            raise TemplateError("start and step can only be used with integer values")
        return generator.choice(list(end) if not isinstance(end, (str, list, tuple)) else end)
    raise TemplateError("random can only be used on sequences and integers")


def shuffle(value: Any, seed: Any = None) -> Any:
    """The items in random order; ``seed`` makes the order repeatable (as Ansible seeds it)."""
    try:
        items = list(value)
    except TypeError:
        return value
    if seed:
        _random.Random(seed).shuffle(items)
    else:
        _random.SystemRandom().shuffle(items)
    return items


_HASHES = {"md5": "md5_crypt", "blowfish": "bcrypt", "sha256": "sha256_crypt", "sha512": "sha512_crypt"}
# What ansible-core passes when no rounds are given (crypt's defaults, not passlib's own).
_IMPLICIT_ROUNDS = {"bcrypt": 12, "sha256_crypt": 535000, "sha512_crypt": 656000}


def password_hash(password: Any, hashtype: str = "sha512", salt: Any = None, salt_size: Any = None,
                  rounds: Any = None, ident: Any = None) -> str:
    """A crypt(3) hash as ansible-core makes it with passlib: ``sha512`` (default), ``sha256``,
    ``md5``, ``blowfish`` (or their passlib names); a random salt unless ``salt`` is given."""
    from passlib import hash as passlib_hash  # imported on first use: passlib loads slowly

    algorithm = _HASHES.get(str(hashtype), str(hashtype))
    if algorithm not in _HASHES.values():
        raise TemplateError(f"password_hash: {hashtype} is not in the list of supported passlib algorithms: "
                            f"{', '.join(_HASHES)}")
    if salt_size is not None and not isinstance(salt_size, int):
        raise TemplateError("password_hash: salt_size must be an integer")
    settings: dict[str, Any] = {}
    if salt:
        settings["salt"] = str(salt)
    if salt_size:
        settings["salt_size"] = salt_size
    settings_rounds = rounds or _IMPLICIT_ROUNDS.get(algorithm)
    if settings_rounds:
        settings["rounds"] = int(settings_rounds)
    if algorithm == "bcrypt":
        settings["ident"] = ident or "2b"
    try:
        return str(getattr(passlib_hash, algorithm).using(**settings).hash(str(password)))
    except (ValueError, TypeError) as exc:
        raise TemplateError(f"password_hash: could not hash the secret: {exc}") from None


_SIZES = {"Y": 1 << 80, "Z": 1 << 70, "E": 1 << 60, "P": 1 << 50, "T": 1 << 40, "G": 1 << 30, "M": 1 << 20,
          "K": 1 << 10, "B": 1}
_UNIT_WORDS = {"B": ("byte", "bit"), "K": ("kilobyte", "kilobit"), "M": ("megabyte", "megabit"),
               "G": ("gigabyte", "gigabit"), "T": ("terabyte", "terabit"), "P": ("petabyte", "petabit"),
               "E": ("exabyte", "exabit"), "Z": ("zetabyte", "zetabit"), "Y": ("yottabyte", "yottabit")}


def human_readable(size: Any, isbits: bool = False, unit: Any = None) -> str:
    """``1048576`` -> ``'1.00 MB'`` (``isbits`` for bits, ``unit`` to force one)."""
    try:
        number = float(size)
    except (TypeError, ValueError):
        raise TemplateError(f"human_readable() can't interpret following string: {size}") from None
    suffix, limit = "B", 1
    for suffix, limit in _SIZES.items():
        if (unit is None and number >= limit) or (unit is not None and str(unit).upper() == suffix[0]):
            break
    base = "bits" if isbits else "Bytes"
    label = suffix + base[0] if limit != 1 else base
    return f"{number / limit:.2f} {label}"


def human_to_bytes(size: Any, default_unit: Any = None, isbits: bool = False) -> int:
    """``'10M'`` -> ``10485760`` (``'Mb'`` with ``isbits=True``); a bare number uses ``default_unit``."""
    match = re.search(r"^([0-9]*\.?[0-9]+)(?:\s*([A-Za-z]+))?\s*$", str(size))
    if match is None:
        raise TemplateError(f"human_to_bytes() can't interpret following string: {size}")
    number = float(match.group(1))
    unit = match.group(2) or default_unit
    if unit is None:
        return int(round(number))
    unit = str(unit)
    key = unit[0].upper()
    if key not in _SIZES:
        raise TemplateError(f"human_to_bytes() failed to convert {size} (unit = {unit}). The suffix must be one "
                            f"of {', '.join(_SIZES)}")
    if len(unit) > 1:
        letter = "b" if isbits else "B"
        word = _UNIT_WORDS[key][1 if isbits else 0]
        wanted = letter if key == "B" else key + letter
        if unit.lower() != word and unit != wanted:
            expect = f"{letter} or {'bit' if isbits else 'byte'}" if key == "B" else f"{key}{letter} or {key}"
            raise TemplateError(f"human_to_bytes() failed to convert {size}. Value is not a valid string "
                                f"(expect {expect})")
    return int(round(number * _SIZES[key]))


def log(value: Any, base: Any = math.e) -> float:
    """Logarithm (natural by default)."""
    try:
        return math.log10(value) if base == 10 else math.log(value, base)
    except TypeError:
        raise TemplateError("log() can only be used on numbers") from None


def power(value: Any, exponent: Any) -> float:
    """``value ** exponent`` as a float."""
    try:
        return math.pow(value, exponent)
    except TypeError:
        raise TemplateError("pow() can only be used on numbers") from None


def root(value: Any, base: Any = 2) -> float:
    """Square root, or the ``base``-th root."""
    try:
        return math.sqrt(value) if base == 2 else math.pow(value, 1.0 / float(base))
    except (TypeError, ValueError):
        raise TemplateError("root() can only be used on numbers") from None


def permutations(value: Any, r: Any = None) -> list[tuple[Any, ...]]:
    """``itertools.permutations`` as a list."""
    return list(itertools.permutations(value, r))


def combinations(value: Any, r: Any) -> list[tuple[Any, ...]]:
    """``itertools.combinations`` as a list."""
    return list(itertools.combinations(value, r))


def rekey_on_member(data: Any, key: Any, duplicates: str = "error") -> dict[Any, Any]:
    """A dict of the items (a list or the values of a dict) keyed by their ``key`` member."""
    if duplicates not in ("error", "overwrite"):
        raise TemplateError(f"duplicates parameter to rekey_on_member has unknown value {duplicates!r}")
    if isinstance(data, Mapping):
        items: Iterable[Any] = data.values()
    elif isinstance(data, Iterable) and not isinstance(data, (str, bytes)):
        items = data
    else:
        raise TemplateError("Type is not a valid list, set, or dict")
    out: dict[Any, Any] = {}
    for item in items:
        if not isinstance(item, Mapping):
            raise TemplateError("List item is not a valid dict")
        if key not in item:
            raise TemplateError(f"Key {key!r} was not found.")
        if out.get(item[key]) and duplicates == "error":
            raise TemplateError(f"Key {item[key]!r} is not unique, cannot convert to dict.")
        out[item[key]] = item
    return out


_URL_PARTS = ("fragment", "hostname", "netloc", "password", "path", "port", "query", "scheme", "username")


def urlsplit(value: Any, query: str = "") -> Any:
    """The parts of a URL as a dict (or the one part ``query`` names)."""
    parts = _urlsplit(str(value))
    results = {name: getattr(parts, name) for name in _URL_PARTS}
    if query:
        if query not in results:
            raise TemplateError(f"urlsplit: unknown URL component: {query}")
        return results[query]
    return results


def urldecode(value: Any) -> str:
    """Percent-decoding (``+`` as space)."""
    return unquote_plus(str(value))


_ANSIBLE_NAMESPACE = uuid.UUID("361E6D51-FAEC-444A-9079-341386DA8E2E")


def to_uuid(value: Any, namespace: Any = _ANSIBLE_NAMESPACE) -> str:
    """A name-based (v5) UUID in Ansible's namespace (or ``namespace``)."""
    try:
        space = namespace if isinstance(namespace, uuid.UUID) else uuid.UUID(str(namespace))
    except ValueError as exc:
        raise TemplateError(f"Invalid value '{namespace}' for 'namespace': {exc}") from None
    return str(uuid.uuid5(space, str(value)))


def commonpath(paths: Any) -> str:
    """The longest common sub-path."""
    if isinstance(paths, (str, bytes)) or not isinstance(paths, Iterable):
        raise TemplateError(f"|commonpath expects sequence, got {type(paths)} instead.")
    return os.path.commonpath(list(paths))


def fileglob(pattern: Any) -> list[str]:
    """The regular files (on the controller) matching a glob."""
    return [found for found in glob.glob(str(pattern)) if os.path.isfile(found)]


def _each_time(func: Callable[..., Any]) -> Callable[..., Any]:
    """A filter Jinja must not fold at compile time: its result changes from call to call
    (time, randomness), and compiled templates are reused."""

    @pass_context
    def wrapped(_context: Any, *args: Any, **kwargs: Any) -> Any:
        return func(*args, **kwargs)

    wrapped.__name__ = func.__name__
    wrapped.__doc__ = func.__doc__
    return wrapped


def _text(func: Callable[..., Any]) -> Callable[..., Any]:
    def wrapped(value: Any, *args: Any) -> Any:
        return func(str(value), *args)

    wrapped.__name__ = func.__name__
    return wrapped


FILTERS: Mapping[str, Callable[..., Any]] = MappingProxyType({
    "comment": comment,
    "to_datetime": to_datetime,
    "strftime": _each_time(strftime),
    "random": _each_time(random),
    "shuffle": _each_time(shuffle),
    "password_hash": _each_time(password_hash),
    "human_readable": human_readable,
    "human_to_bytes": human_to_bytes,
    "log": log,
    "pow": power,
    "root": root,
    "permutations": permutations,
    "combinations": combinations,
    "rekey_on_member": rekey_on_member,
    "urlsplit": urlsplit,
    "urldecode": urldecode,
    "to_uuid": to_uuid,
    "commonpath": commonpath,
    "fileglob": fileglob,
    "relpath": _text(os.path.relpath),
    "win_basename": _text(ntpath.basename),
    "win_dirname": _text(ntpath.dirname),
    "win_splitdrive": _text(ntpath.splitdrive),
})
