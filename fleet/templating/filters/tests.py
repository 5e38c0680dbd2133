"""Ansible's Jinja2 tests: task results, regex, versions, controller paths, sets, truthiness.

Task results (registered variables) are dicts with keys like ``changed``, ``failed``,
``skipped``, ``unreachable`` and, for loops, ``results``.
"""

from __future__ import annotations

import operator
import os.path
import re
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from fleet.errors import TemplateError


def _result(value: Any, test: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise TemplateError(f"the {test!r} test expects a dictionary (a registered task result), "
                            f"got {type(value).__name__}")
    return value


def failed(result: Any) -> bool:
    """The task failed."""
    return bool(_result(result, "failed").get("failed", False))


def success(result: Any) -> bool:
    """The task did not fail."""
    return not bool(_result(result, "success").get("failed", False))


def changed(result: Any) -> bool:
    """The task changed something (for loops: any item did, if there is no top-level key)."""
    res = _result(result, "changed")
    if "changed" in res:
        return bool(res["changed"])
    items = res.get("results")
    if isinstance(items, list):
        return any(isinstance(item, Mapping) and item.get("changed", False) for item in items)
    return False


def skipped(result: Any) -> bool:
    """The task was skipped."""
    return bool(_result(result, "skipped").get("skipped", False))


def unreachable(result: Any) -> bool:
    """The host was unreachable."""
    return bool(_result(result, "unreachable").get("unreachable", False))


def reachable(result: Any) -> bool:
    """The host was reachable."""
    return not unreachable(result)


def finished(result: Any) -> bool:
    """An async task finished (non-async results count as finished)."""
    return _result(result, "finished").get("finished", 1) == 1


def started(result: Any) -> bool:
    """An async task started (non-async results count as started)."""
    return _result(result, "started").get("started", 1) == 1


def regex(value: Any = "", pattern: str = "", ignorecase: bool = False, multiline: bool = False,
          match_type: str = "search") -> bool:
    """``re.search`` (or ``match_type='match'``/``'fullmatch'``) as a boolean."""
    if match_type not in ("search", "match", "fullmatch"):
        raise TemplateError(f"regex test: invalid match_type {match_type!r}")
    flags = (re.I if ignorecase else 0) | (re.M if multiline else 0)
    compiled = re.compile(pattern, flags)
    return bool(getattr(compiled, match_type)(value if isinstance(value, str) else str(value)))


def match(value: Any, pattern: str = "", ignorecase: bool = False, multiline: bool = False) -> bool:
    """The pattern matches at the start of the string."""
    return regex(value, pattern, ignorecase, multiline, "match")


def search(value: Any, pattern: str = "", ignorecase: bool = False, multiline: bool = False) -> bool:
    """The pattern matches anywhere in the string."""
    return regex(value, pattern, ignorecase, multiline, "search")


_OPERATORS: Mapping[str, Callable[[Any, Any], bool]] = MappingProxyType({
    "==": operator.eq, "=": operator.eq, "eq": operator.eq,
    "<": operator.lt, "lt": operator.lt,
    "<=": operator.le, "le": operator.le,
    ">": operator.gt, "gt": operator.gt,
    ">=": operator.ge, "ge": operator.ge,
    "!=": operator.ne, "<>": operator.ne, "ne": operator.ne,
})
_LOOSE_PART = re.compile(r"(\d+|[a-z]+|\.)", re.VERBOSE)
_STRICT = re.compile(r"^(\d+)\.(\d+)(?:\.(\d+))?(?:([ab])(\d+))?$")


def _loose(version: str) -> list[int | str]:
    """distutils' LooseVersion components: runs of digits become ints, the rest strings."""
    parts = [p for p in _LOOSE_PART.split(version) if p and p != "."]
    return [int(p) if p.isdigit() else p for p in parts]


def _strict(version: str) -> tuple[Any, ...]:
    """distutils' StrictVersion: ``N.N[.N][{a|b}N]``; a release sorts after its pre-releases."""
    found = _STRICT.match(version)
    if found is None:
        raise TemplateError(f"version test: invalid strict version {version!r}")
    major, minor, patch, pre, pre_num = found.groups()
    release = (int(major), int(minor), int(patch or 0))
    return (*release, (pre, int(pre_num)) if pre else ("z", 0))


def version_compare(value: Any, version: Any, operator: str = "eq", strict: bool = False,
                    version_type: str | None = None) -> bool:
    """Compare versions with ``lt/le/gt/ge/eq/ne`` or ``< <= > >= == !=`` (loose by default)."""
    compare = _OPERATORS.get(str(operator))
    if compare is None:
        raise TemplateError(f"version test: invalid operator {operator!r}")
    kind = version_type or ("strict" if strict else "loose")
    if kind not in ("loose", "strict"):
        raise TemplateError(f"version test: unsupported version_type {kind!r} (use loose or strict)")
    parse = _strict if kind == "strict" else _loose
    try:
        return compare(parse(str(value)), parse(str(version)))
    except TypeError:
        raise TemplateError(f"version test: cannot compare {str(value)!r} with {str(version)!r}") from None


def contains(seq: Any, value: Any) -> bool:
    """``value in seq``."""
    return value in seq


def subset(a: Any, b: Any) -> bool:
    """Every item of ``a`` is in ``b``."""
    return set(a) <= set(b)


def superset(a: Any, b: Any) -> bool:
    """Every item of ``b`` is in ``a``."""
    return set(a) >= set(b)


def truthy(value: Any, convert_bool: bool = False) -> bool:
    """Python truthiness (``convert_bool`` first maps yes/no/on/off/true/false strings)."""
    if convert_bool and isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("yes", "on", "1", "true", "y", "t"):
            return True
        if lowered in ("no", "off", "0", "false", "n", "f", ""):
            return False
    return bool(value)


def falsy(value: Any, convert_bool: bool = False) -> bool:
    """The opposite of :func:`truthy`."""
    return not truthy(value, convert_bool)


def _path_test(func: Callable[[str], bool]) -> Callable[[Any], bool]:
    def wrapped(path: Any) -> bool:
        return func(os.path.expanduser(str(path)))

    return wrapped


TESTS: Mapping[str, Callable[..., bool]] = MappingProxyType({
    "failed": failed, "failure": failed,
    "success": success, "succeeded": success, "successful": success,
    "changed": changed, "change": changed,
    "skipped": skipped, "skip": skipped,
    "reachable": reachable, "unreachable": unreachable,
    "finished": finished, "started": started,
    "match": match, "search": search, "regex": regex,
    "version": version_compare, "version_compare": version_compare,
    "file": _path_test(os.path.isfile),
    "directory": _path_test(os.path.isdir),
    "link": _path_test(os.path.islink),
    "exists": _path_test(os.path.exists),
    "link_exists": _path_test(os.path.lexists),
    "abs": lambda path: os.path.isabs(str(path)),
    "mount": _path_test(os.path.ismount),
    "contains": contains,
    "any": any, "all": all,
    "subset": subset, "superset": superset, "issubset": subset, "issuperset": superset,
    "truthy": truthy, "falsy": falsy,
})
