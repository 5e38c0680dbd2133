"""Ansible's most used filters: types, JSON/YAML, regex, base64, paths, hashing, misc.

Data-structure filters live in :mod:`fleet.templating.filters.data`, tests in
:mod:`fleet.templating.filters.tests`.
:func:`install` registers everything on a Jinja2 environment, each name also under its
``ansible.builtin.`` fully qualified name.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import os.path
import re
import shlex
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

import yaml
from jinja2 import Environment
from jinja2.runtime import Undefined

from fleet.errors import TemplateError
from fleet.templating.filters.data import FILTERS as DATA_FILTERS
from fleet.templating.filters.extra import FILTERS as EXTRA_FILTERS
from fleet.templating.filters.network import FILTERS as NETWORK_FILTERS
from fleet.templating.filters.tests import TESTS

_TRUE_STRINGS = frozenset({"yes", "on", "1", "true", "y"})


def to_bool(value: Any) -> bool:
    """Ansible's ``bool``: yes/on/1/true/y (any case) are true, everything else false."""
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    if isinstance(value, str):
        return value.strip().lower() in _TRUE_STRINGS
    if isinstance(value, (int, float)):
        return value == 1
    return False


def _text(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


# ---------------------------------------------------------------------- JSON / YAML


def _json_default(obj: Any) -> Any:
    if isinstance(obj, Mapping):
        return dict(obj)
    if isinstance(obj, (set, frozenset, tuple)):
        return list(obj)
    if isinstance(obj, (datetime.date, datetime.time)):
        return obj.isoformat()
    if isinstance(obj, bytes):
        return obj.decode("utf-8", "replace")
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")


def to_json(value: Any, **kwargs: Any) -> str:
    """``json.dumps`` with Python defaults (like Ansible's ``to_json``)."""
    kwargs.setdefault("default", _json_default)
    return json.dumps(value, **kwargs)


def to_nice_json(value: Any, indent: int = 4, sort_keys: bool = True, **kwargs: Any) -> str:
    """Human-readable JSON: indent 4, sorted keys, no trailing spaces (Ansible's defaults)."""
    kwargs.pop("separators", None)
    return to_json(value, indent=indent, sort_keys=sort_keys, separators=(",", ": "), **kwargs)


def from_json(value: Any, **kwargs: Any) -> Any:
    """Parse a JSON string."""
    return json.loads(value, **kwargs)


class _Dumper(yaml.SafeDumper):
    """Safe dumper that also writes dict/list/str subclasses, tuples and any Mapping."""


_Dumper.add_multi_representer(dict, yaml.SafeDumper.represent_dict)
_Dumper.add_multi_representer(list, yaml.SafeDumper.represent_list)
_Dumper.add_multi_representer(tuple, yaml.SafeDumper.represent_list)
_Dumper.add_multi_representer(str, yaml.SafeDumper.represent_str)
_Dumper.add_multi_representer(Mapping, lambda d, data: d.represent_dict(dict(data)))  # type: ignore[type-abstract]


def to_yaml(value: Any, *_args: Any, default_flow_style: bool | None = None, **kwargs: Any) -> str:
    """YAML with flow style for leaf collections (Ansible's ``to_yaml``)."""
    return yaml.dump(value, Dumper=_Dumper, allow_unicode=True,
                     default_flow_style=default_flow_style, **kwargs)


def to_nice_yaml(value: Any, indent: int = 4, *_args: Any, default_flow_style: bool = False,
                 **kwargs: Any) -> str:
    """Block-style YAML indented by 4 (Ansible's ``to_nice_yaml``)."""
    return to_yaml(value, indent=indent, default_flow_style=default_flow_style, **kwargs)


def from_yaml(value: Any) -> Any:
    """Parse one YAML document; None stays None, non-strings pass through (as Ansible)."""
    if isinstance(value, str):
        return yaml.safe_load(value)
    return value


def from_yaml_all(value: Any) -> Any:
    """Parse a multi-document YAML string into a list."""
    if value is None:
        return []
    if isinstance(value, str):
        return list(yaml.safe_load_all(value))
    return value


# ---------------------------------------------------------------------- regex


def _flags(ignorecase: bool, multiline: bool) -> int:
    return (re.I if ignorecase else 0) | (re.M if multiline else 0)


def regex_replace(value: Any = "", pattern: str = "", replacement: str = "", ignorecase: bool = False,
                  multiline: bool = False, count: int = 0, mandatory_count: int = 0) -> str:
    """``re.sub``; with ``mandatory_count`` the number of substitutions must match."""
    text = _text(value)
    output, subs = re.compile(pattern, _flags(ignorecase, multiline)).subn(replacement, text, count=count)
    if mandatory_count and mandatory_count != subs:
        raise TemplateError(f"regex_replace: {pattern!r} should match {mandatory_count} times, "
                            f"but matches {subs} times in {text!r}")
    return output


def regex_findall(value: Any, regex: str, multiline: bool = False, ignorecase: bool = False) -> list[Any]:
    """``re.findall``."""
    return re.findall(regex, _text(value), _flags(ignorecase, multiline))


def regex_search(value: Any, regex: str, *args: str, ignorecase: bool = False,
                 multiline: bool = False) -> Any:
    """``re.search``: the match, or the list of the groups named ``'\\\\1'``/``'\\\\g<name>'``."""
    groups: list[int | str] = []
    for arg in args:
        named = re.match(r"\\g<(\S+)>$", str(arg))
        numbered = re.match(r"\\(\d+)$", str(arg))
        if named:
            groups.append(named.group(1))
        elif numbered:
            groups.append(int(numbered.group(1)))
        else:
            raise TemplateError(f"regex_search: unknown argument {arg!r} (use '\\\\1' or '\\\\g<name>')")
    match = re.search(regex, _text(value), _flags(ignorecase, multiline))
    if match is None:
        return None
    if not groups:
        return match.group()
    return [match.group(group) for group in groups]


def regex_escape(value: Any, re_type: str = "python") -> str:
    """Escape regex special characters (``python``, ``posix_basic`` or ``posix_extended``)."""
    text = _text(value)
    if re_type == "python":
        return re.escape(text)
    if re_type == "posix_basic":
        return re.sub(r"([].[^$*\\])", r"\\\1", text)
    if re_type == "posix_extended":
        return re.sub(r"([\^$.*+?\[\]|(){}\\])", r"\\\1", text)
    raise TemplateError(f"regex_escape: invalid regex type {re_type!r}")


# ---------------------------------------------------------------------- encoding, hashing, misc


def b64encode(value: Any, encoding: str = "utf-8", urlsafe: bool = False) -> str:
    """Base64-encode a string."""
    func = base64.urlsafe_b64encode if urlsafe else base64.b64encode
    return func(_text(value).encode(encoding)).decode("ascii")


def b64decode(value: Any, encoding: str = "utf-8", urlsafe: bool = False) -> str:
    """Base64-decode to a string."""
    func = base64.urlsafe_b64decode if urlsafe else base64.b64decode
    return func(_text(value).encode("utf-8")).decode(encoding)


def _bytes(value: Any) -> bytes:
    return value if isinstance(value, bytes) else _text(value).encode("utf-8")


def get_hash(value: Any, hashtype: str = "sha1") -> str:
    """Hex digest with any hashlib algorithm."""
    try:
        digest = hashlib.new(hashtype)
    except ValueError:
        raise TemplateError(f"hash: unsupported hash type {hashtype!r}") from None
    digest.update(_bytes(value))
    return digest.hexdigest()


def checksum(value: Any) -> str:
    """SHA-1 hex digest (what Ansible uses to checksum files)."""
    return hashlib.sha1(_bytes(value)).hexdigest()


def md5(value: Any) -> str:
    """MD5 hex digest."""
    return hashlib.md5(_bytes(value)).hexdigest()


def quote(value: Any) -> str:
    """Quote for a POSIX shell (None quotes as ``''``)."""
    return shlex.quote("" if value is None else _text(value))


def ternary(value: Any, true_val: Any, false_val: Any, none_val: Any = None) -> Any:
    """``true_val`` if value is truthy else ``false_val``; ``none_val`` for None if given."""
    if value is None and none_val is not None:
        return none_val
    return true_val if value else false_val


def mandatory(value: Any, msg: str | None = None) -> Any:
    """Fail when the value is undefined, naming the variable."""
    if isinstance(value, Undefined):
        if msg is not None:
            raise TemplateError(str(msg))
        name = value._undefined_name
        raise TemplateError(f"mandatory variable {name!r} not defined" if name else
                            "mandatory variable not defined")
    return value


_PLAIN_TYPES = (bool, int, float, str, dict, list, tuple, set, bytes, type(None))


def type_debug(value: Any) -> str:
    """The Python type name (subclasses of builtin containers report the builtin)."""
    for cls in type(value).__mro__:
        if cls in _PLAIN_TYPES:
            return cls.__name__
    return type(value).__name__


def split(value: Any, sep: str | None = None, maxsplit: int = -1) -> list[str]:
    """``str.split``."""
    return _text(value).split(sep, maxsplit)


def path_join(paths: Any) -> str:
    """``os.path.join`` over a list (or a single string)."""
    if isinstance(paths, str):
        return paths
    return os.path.join(*[_text(p) for p in paths])


def _path(func: Callable[[str], Any]) -> Callable[[Any], Any]:
    def wrapped(value: Any) -> Any:
        return func(_text(value))

    wrapped.__name__ = func.__name__
    return wrapped


FILTERS: Mapping[str, Callable[..., Any]] = MappingProxyType({
    "bool": to_bool,
    "to_json": to_json,
    "to_nice_json": to_nice_json,
    "from_json": from_json,
    "to_yaml": to_yaml,
    "to_nice_yaml": to_nice_yaml,
    "from_yaml": from_yaml,
    "from_yaml_all": from_yaml_all,
    "regex_replace": regex_replace,
    "regex_search": regex_search,
    "regex_findall": regex_findall,
    "regex_escape": regex_escape,
    "b64encode": b64encode,
    "b64decode": b64decode,
    "basename": _path(os.path.basename),
    "dirname": _path(os.path.dirname),
    "expanduser": _path(os.path.expanduser),
    "expandvars": _path(os.path.expandvars),
    "realpath": _path(os.path.realpath),
    "normpath": _path(os.path.normpath),
    "splitext": _path(os.path.splitext),
    "path_join": path_join,
    "hash": get_hash,
    "checksum": checksum,
    "sha1": checksum,
    "md5": md5,
    "quote": quote,
    "ternary": ternary,
    "mandatory": mandatory,
    "type_debug": type_debug,
    "split": split,
    **DATA_FILTERS,
    **EXTRA_FILTERS,
})

def install(env: Environment) -> None:
    """Register fleet's filters and tests on ``env`` (plus ``ansible.builtin.*`` aliases)."""
    env.filters.update(FILTERS)
    env.tests.update(TESTS)
    for name in list(env.filters):
        env.filters.setdefault(f"ansible.builtin.{name}", env.filters[name])
    env.filters.update(NETWORK_FILTERS)  # collection filters, under their short and FQCN names
    for name in list(env.tests):
        env.tests.setdefault(f"ansible.builtin.{name}", env.tests[name])
