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
from fleet.secrets import Secrets
from fleet.vault import VaultValue

_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_STR_TAG = yaml.resolver.BaseResolver.DEFAULT_SCALAR_TAG
VAULT_HEADERS = ("$FLEET_VAULT;", "$ANSIBLE_VAULT;")
MAX_EXPANDED = 1_000_000  # values a document may hold once its aliases are expanded
# First characters for which some implicit resolver (bool, int, float, null, timestamp, merge,
# value) may match; any other plain scalar is a string without trying a regular expression.
# (A resolver registered for any first character, key None, turns the shortcut off.)
_RESOLVER_FIRST_CHARS = frozenset(c for c in _BaseLoader.yaml_implicit_resolvers if c)
_ANY_FIRST_CHAR = None in _BaseLoader.yaml_implicit_resolvers


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

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._scalar_tags: dict[str, str] = {}

    def resolve(self, kind: type, value: Any, implicit: tuple[bool, bool]) -> str:
        """PyYAML's resolution, made cheap for the common case: the parser calls this for every
        node, and large inventories have ~10^5 of them. No path resolvers are registered, so a
        plain scalar's tag depends on its text alone and can be remembered."""
        if kind is not yaml.ScalarNode:
            return super().resolve(kind, value, implicit)
        if not implicit[0] or (value and value[0] not in _RESOLVER_FIRST_CHARS and not _ANY_FIRST_CHAR):
            return _STR_TAG
        tag = self._scalar_tags.get(value)
        if tag is None:
            tag = self._scalar_tags[value] = super().resolve(kind, value, implicit)
        return tag

    def _construct(self, node: yaml.Node) -> Any:
        if node.tag == _STR_TAG and type(node) is yaml.ScalarNode:
            return node.value
        return self.construct_object(node, deep=True)

    def _loc(self, node: yaml.Node) -> Location:
        return Location(self.source_path, node.start_mark.line + 1)

    def construct_source_mapping(self, node: yaml.MappingNode) -> Iterator[SourceDict]:
        self.flatten_mapping(node)
        result = SourceDict(location=self._loc(node))
        yield result
        for key_node, value_node in node.value:
            key = self._construct(key_node)
            try:
                hash(key)
            except TypeError:
                raise InputError("mapping key is not hashable", self._loc(key_node)) from None
            if key in result:
                raise InputError(f"duplicate key {key!r}", self._loc(key_node))
            result[key] = self._construct(value_node)

    def construct_source_sequence(self, node: yaml.SequenceNode) -> Iterator[SourceList]:
        result = SourceList(location=self._loc(node))
        yield result
        result.extend(self._construct(child) for child in node.value)


_Loader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _Loader.construct_source_mapping
)
_Loader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _Loader.construct_source_sequence
)


def _vault_tag(loader: _Loader, node: yaml.Node) -> VaultValue:
    if not isinstance(node, yaml.ScalarNode):
        raise InputError("!vault must tag a scalar (the encrypted text)", loader._loc(node))
    return VaultValue(loader.construct_scalar(node), loader._loc(node))


_Loader.add_constructor("!vault", _vault_tag)


def _unknown_tag(loader: _Loader, suffix: str, node: yaml.Node) -> Any:
    """Tags like ``!vault`` or ``!unsafe`` keep their scalar value; later layers interpret them."""
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    raise InputError(f"unsupported YAML tag {node.tag!r}", loader._loc(node))


_Loader.add_multi_constructor("!", _unknown_tag)


def _check_expansion(data: Any, path: str) -> None:
    """InputError when aliases make ``data`` hold more than :data:`MAX_EXPANDED` values once
    expanded (a "billion laughs" document, which would exhaust memory when templated or shown)."""
    sizes: dict[int, int] = {}

    def size(value: Any) -> int:
        if not isinstance(value, (dict, list)):
            return 1
        known = sizes.get(id(value))
        if known is not None:
            return known
        sizes[id(value)] = 1  # a recursive alias counts once
        total = 1 + sum(size(item) for item in (value.values() if isinstance(value, dict) else value))
        if total > MAX_EXPANDED:
            raise InputError(f"YAML aliases expand this to more than {MAX_EXPANDED:,} values (an alias "
                             "bomb?)", location_of(value, Location(path)))
        sizes[id(value)] = total
        return total

    try:
        size(data)
    except RecursionError:
        raise InputError("YAML nested too deeply", Location(path)) from None


def _syntax_error(exc: yaml.MarkedYAMLError, text: str, path: str) -> InputError:
    """file:line and what PyYAML found. A token that never ends (a quote left open) is named
    where it starts, not at the end of the file where the scanner gave up; a structure that
    does not close is named where the parser stopped, with the line where it opened."""
    problem, context = exc.problem or exc.context or "invalid YAML", exc.context if exc.problem else None
    start, found = exc.context_mark, exc.problem_mark or exc.context_mark
    at_end = found is not None and found.index >= len(text.rstrip())
    scanning = isinstance(exc, yaml.scanner.ScannerError) or at_end
    mark = start if start is not None and (scanning or found is None) else found
    if context and start is not None and mark is not start:
        problem += f" ({context} that starts at line {start.line + 1}, column {start.column + 1})"
    elif context and start is not None:
        problem += f" {context} that starts at column {start.column + 1}"
    lines = max(1, text.count("\n") + (0 if text.endswith("\n") else 1))
    line = min(mark.line + 1, lines) if mark is not None else 0
    return InputError(f"YAML syntax error: {problem}", Location(path, line))


def loads(text: str, path: str = "<string>", secrets: Any = None) -> Any:
    """Parse one YAML document; syntax errors become :class:`InputError` with file:line.

    A vault-encrypted document is decrypted with ``secrets`` (a :class:`fleet.secrets.Secrets`)
    first, and every string in it becomes a secret of the run.
    """
    if text.lstrip().startswith(VAULT_HEADERS):
        secrets = secrets if secrets is not None else Secrets()
        data = loads(secrets.decrypt(text, Location(path, 1), document=True), path)
        secrets.add(data)
        return data
    loader = _Loader(text)
    loader.source_path = path
    try:
        data = loader.get_single_data()
        if "*" in text:  # aliases: what they expand to must stay bounded
            _check_expansion(data, path)
        return data
    except yaml.MarkedYAMLError as exc:
        raise _syntax_error(exc, text, path) from None
    except RecursionError:  # the C parser takes ~1000 levels; building them takes Python frames
        raise InputError("YAML nested too deeply to load", Location(path)) from None
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow: it has a position
        line = text.count("\n", 0, exc.position) + 1
        raise InputError(f"YAML error: character {exc.character!r} is not allowed in YAML "
                         f"({exc.reason})", Location(path, line)) from None
    except yaml.YAMLError as exc:
        raise InputError(f"YAML error: {exc}", Location(path)) from None
    finally:
        loader.dispose()


def read_text(path: str | Path, what: str = "file") -> str:
    """A UTF-8 text file's contents (a byte order mark dropped). A file that cannot be read, a
    binary file (a NUL byte) or one that is not UTF-8 is an :class:`InputError` naming the file,
    and for the last two the line and the byte offset of the first bad byte."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise InputError(f"{what} not found", Location(str(path))) from None
    except OSError as exc:
        raise InputError(f"cannot read {what}: {exc.strerror or exc}", Location(str(path))) from None
    start = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    nul = data.find(b"\0", start)
    try:
        text = data[start:nul if nul >= 0 else None].decode("utf-8")
    except UnicodeDecodeError as exc:
        offset = start + exc.start
        raise InputError(f"{what} is not UTF-8 text (a binary file?): byte 0x{data[offset]:02x} at byte offset "
                         f"{offset} ({exc.reason})", Location(str(path), data.count(b"\n", 0, offset) + 1)) from None
    if nul >= 0:
        raise InputError(f"{what} is binary, not text: a NUL byte at byte offset {nul}",
                         Location(str(path), data.count(b"\n", 0, nul) + 1))
    return text


def load_file(path: str | Path, secrets: Any = None) -> Any:
    """Read and parse a YAML file (decrypting a vault-encrypted one with ``secrets``); a
    missing, unreadable or binary file is an :class:`InputError`."""
    return loads(read_text(path), str(path), secrets)
