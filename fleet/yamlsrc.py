"""YAML loading that remembers where every mapping and list came from.

Mappings load as :class:`SourceDict` and sequences as :class:`SourceList`; both are plain
``dict``/``list`` subclasses carrying a :class:`~fleet.errors.Location`, so error messages can
name ``file:line`` for any task, play, group or vars block.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from fleet.errors import InputError, Location

_BaseLoader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class SourceDict(dict):
    """A dict loaded from YAML; ``location`` is where its mapping starts."""

    __slots__ = ("location",)

    def __init__(self, *args: Any, location: Location | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.location = location


class SourceList(list):
    """A list loaded from YAML; ``location`` is where its sequence starts."""

    __slots__ = ("location",)

    def __init__(self, *args: Any, location: Location | None = None) -> None:
        super().__init__(*args)
        self.location = location


def location_of(value: Any, default: Location | None = None) -> Location | None:
    """The location a loaded value came from, or ``default``."""
    return getattr(value, "location", None) or default


class _Loader(_BaseLoader):
    """Safe loader that builds SourceDict/SourceList and rejects duplicate keys."""

    source_path = "<string>"

    def _loc(self, node: yaml.Node) -> Location:
        return Location(self.source_path, node.start_mark.line + 1)

    def construct_source_mapping(self, node: yaml.MappingNode) -> Iterator[SourceDict]:
        self.flatten_mapping(node)
        result = SourceDict(location=self._loc(node))
        yield result
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                hash(key)
            except TypeError:
                raise InputError("mapping key is not hashable", self._loc(key_node)) from None
            if key in result:
                raise InputError(f"duplicate key {key!r}", self._loc(key_node))
            result[key] = self.construct_object(value_node, deep=True)

    def construct_source_sequence(self, node: yaml.SequenceNode) -> Iterator[SourceList]:
        result = SourceList(location=self._loc(node))
        yield result
        result.extend(self.construct_object(child, deep=True) for child in node.value)


_Loader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _Loader.construct_source_mapping
)
_Loader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _Loader.construct_source_sequence
)


def _unknown_tag(loader: _Loader, suffix: str, node: yaml.Node) -> Any:
    """Tags like ``!vault`` or ``!unsafe`` keep their scalar value; later layers interpret them."""
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    raise InputError(f"unsupported YAML tag {node.tag!r}", loader._loc(node))


_Loader.add_multi_constructor("!", _unknown_tag)


def loads(text: str, path: str = "<string>") -> Any:
    """Parse one YAML document; syntax errors become :class:`InputError` with file:line."""
    loader = _Loader(text)
    loader.source_path = path
    try:
        return loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 0
        problem = exc.problem or exc.context or "invalid YAML"
        raise InputError(f"YAML syntax error: {problem}", Location(path, line)) from None
    except yaml.YAMLError as exc:
        raise InputError(f"YAML error: {exc}", Location(path)) from None
    finally:
        loader.dispose()


def load_file(path: str | Path) -> Any:
    """Read and parse a YAML file; a missing or unreadable file is an :class:`InputError`."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"file not found: {p}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {p}: {exc}") from None
    return loads(text, str(p))
