"""Data-structure filters: combine, set theory on lists, flatten, zip, subelements, ..."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Any

from jinja2 import Environment, pass_environment
from jinja2.filters import do_unique

from fleet.errors import TemplateError

LIST_MERGE_CHOICES = ("replace", "keep", "append", "prepend", "append_rp", "prepend_rp")


def _is_sequence(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes))


def merge_hash(low: Mapping[Any, Any], high: Mapping[Any, Any], recursive: bool = True,
               list_merge: str = "replace") -> dict[Any, Any]:
    """A new dict: ``high`` merged into ``low`` (Ansible's ``merge_hash``, same shortcuts)."""
    if list_merge not in LIST_MERGE_CHOICES:
        raise TemplateError(f"combine: list_merge must be one of {', '.join(LIST_MERGE_CHOICES)}, "
                            f"not {list_merge!r}")
    if not low or low == high:
        return dict(high)
    result = dict(low)
    if not recursive and list_merge == "replace":
        result.update(high)
        return result
    for key, new in high.items():
        if key not in result:
            result[key] = new
            continue
        old = result[key]
        if isinstance(old, Mapping) and isinstance(new, Mapping):
            result[key] = merge_hash(old, new, recursive, list_merge) if recursive else new
        elif isinstance(old, list) and isinstance(new, list):
            result[key] = _merge_lists(old, new, list_merge)
        else:
            result[key] = new
    return result


def _merge_lists(old: list[Any], new: list[Any], how: str) -> list[Any]:
    if how == "replace":
        return new
    if how == "keep":
        return old
    if how == "append":
        return old + new
    if how == "prepend":
        return new + old
    if how == "append_rp":
        return [x for x in old if x not in new] + new
    return new + [x for x in old if x not in new]  # prepend_rp


def combine(*terms: Any, recursive: bool = False, list_merge: str = "replace") -> dict[Any, Any]:
    """Merge dicts left to right; later ones win (``recursive=``, ``list_merge=``)."""
    dicts = flatten(list(terms), levels=1)
    for item in dicts:
        if not isinstance(item, Mapping):
            raise TemplateError(f"combine: expected dictionaries, got {type(item).__name__}: {item!r}")
    if not dicts:
        return {}
    result = dict(dicts[-1])
    for lower in reversed(dicts[:-1]):
        result = merge_hash(lower, result, recursive, list_merge)
    return result


def flatten(value: Any, levels: int | None = None, skip_nulls: bool = True) -> list[Any]:
    """Flatten nested lists (``levels`` deep, all by default), dropping nulls like Ansible."""
    out: list[Any] = []
    for item in value:
        if skip_nulls and (item is None or (isinstance(item, str) and item in ("None", "null"))):
            continue
        if _is_sequence(item) and (levels is None or levels >= 1):
            out.extend(flatten(item, None if levels is None else int(levels) - 1, skip_nulls))
        else:
            out.append(item)
    return out


def _unique(items: Any) -> list[Any]:
    """Order-preserving, case-sensitive de-duplication that copes with unhashable items."""
    out: list[Any] = []
    seen: set[Any] = set()
    for item in items:
        try:
            if item in seen:
                continue
            seen.add(item)
        except TypeError:
            if item in out:
                continue
        out.append(item)
    return out


@pass_environment
def unique(env: Environment, value: Any, case_sensitive: bool = False,
           attribute: str | int | None = None) -> list[Any]:
    """Jinja's ``unique`` (case-insensitive by default); unhashable items fall back to ``==``."""
    try:
        return list(do_unique(env, value, case_sensitive=case_sensitive, attribute=attribute))
    except TypeError:
        if case_sensitive or attribute is not None:
            raise
        return _unique(value)


def union(a: Any, b: Any) -> list[Any]:
    """Items of both lists, each once, in order."""
    return _unique(list(a) + list(b))


def intersect(a: Any, b: Any) -> list[Any]:
    """Items of ``a`` also in ``b``, each once."""
    b = list(b)
    return _unique(x for x in a if x in b)


def difference(a: Any, b: Any) -> list[Any]:
    """Items of ``a`` not in ``b``, each once."""
    b = list(b)
    return _unique(x for x in a if x not in b)


def symmetric_difference(a: Any, b: Any) -> list[Any]:
    """Items in exactly one of the lists."""
    both = intersect(a, b)
    return [x for x in union(a, b) if x not in both]


def zip_(*lists: Any) -> list[tuple[Any, ...]]:
    """``zip`` as a list."""
    return list(zip(*lists, strict=False))


def zip_longest(*lists: Any, fillvalue: Any = None) -> list[tuple[Any, ...]]:
    """``itertools.zip_longest`` as a list."""
    return list(itertools.zip_longest(*lists, fillvalue=fillvalue))


def product(*lists: Any, repeat: int = 1) -> list[tuple[Any, ...]]:
    """Cartesian product as a list of tuples."""
    return list(itertools.product(*lists, repeat=repeat))


def subelements(obj: Any, subelement: str | list[str], skip_missing: bool = False) -> list[tuple[Any, Any]]:
    """Pairs (element, sub-item) for every item of each element's ``subelement`` list."""
    if isinstance(obj, Mapping):
        elements = list(obj.values())
    elif isinstance(obj, list):
        elements = list(obj)
    else:
        raise TemplateError("subelements: obj must be a list of dicts or a nested dict")
    if isinstance(subelement, list):
        keys = list(subelement)
    elif isinstance(subelement, str):
        keys = subelement.split(".")
    else:
        raise TemplateError(f"subelements: subelements must be a list or a string, got {type(subelement).__name__}")
    results: list[tuple[Any, Any]] = []
    for element in elements:
        values = element
        for key in keys:
            try:
                values = values[key]
            except KeyError:
                if skip_missing:
                    values = []
                    break
                raise TemplateError(f"subelements: could not find {key!r} key in iterated item {values!r}") from None
            except TypeError:
                raise TemplateError(f"subelements: the key {key!r} should point to a dictionary, got {values!r}") from None
        if not isinstance(values, list):
            raise TemplateError(f"subelements: the key {keys[-1]!r} should point to a list, got {values!r}")
        results.extend((element, value) for value in values)
    return results


def dict2items(value: Any, key_name: str = "key", value_name: str = "value") -> list[dict[str, Any]]:
    """``{a: 1}`` -> ``[{key: a, value: 1}]``."""
    if not isinstance(value, Mapping):
        raise TemplateError(f"dict2items requires a dictionary, got {type(value).__name__} instead")
    return [{key_name: key, value_name: value[key]} for key in value]


def items2dict(value: Any, key_name: str = "key", value_name: str = "value") -> dict[Any, Any]:
    """The reverse of :func:`dict2items`."""
    if not _is_sequence(value):
        raise TemplateError(f"items2dict requires a list, got {type(value).__name__} instead")
    try:
        return {item[key_name]: item[value_name] for item in value}
    except KeyError:
        raise TemplateError(f"items2dict requires each dictionary in the list to contain the keys "
                            f"{key_name!r} and {value_name!r}, got {value!r}") from None
    except TypeError:
        raise TemplateError(f"items2dict requires a list of dictionaries, got {value!r}") from None


@pass_environment
def extract(env: Environment, item: Any, container: Any, morekeys: Any = None) -> Any:
    """``container[item]`` (then ``[morekey]`` for each further key), for ``map('extract', ...)``."""
    keys = [item] + (morekeys if isinstance(morekeys, list) else [] if morekeys is None else [morekeys])
    value = container
    for key in keys:
        value = env.getitem(value, key)
    return value


FILTERS: Mapping[str, Callable[..., Any]] = MappingProxyType({
    "combine": combine,
    "flatten": flatten,
    "unique": unique,
    "union": union,
    "intersect": intersect,
    "difference": difference,
    "symmetric_difference": symmetric_difference,
    "zip": zip_,
    "zip_longest": zip_longest,
    "product": product,
    "subelements": subelements,
    "dict2items": dict2items,
    "items2dict": items2dict,
    "extract": extract,
})
