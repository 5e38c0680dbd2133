"""The forms a secret takes when it is printed, and one regular expression that finds them.

:func:`shown_forms` lists what :class:`fleet.secrets.Secrets` hides for one secret value:

- the value as Python, a serialiser or a shell prints it (:func:`escaped_forms`): ``repr`` and
  ``ascii`` in both quote styles, the ``repr`` of its UTF-8 bytes, JSON (``to_json``), YAML,
  HTML, shell-quoted (``quote``: the whole value quoted, and a value quoted inside a larger
  quoted text), URL-encoded, backslash-doubled, ``unicode_escape``;
- every line of a multi-line value (a private key, a certificate) of :data:`LINE_MIN_LENGTH`
  characters or more, in each of those forms: a unified diff prefixes each line with ``+``,
  ``-`` or a blank, YAML folds a multi-line scalar onto indented lines, and neither contains
  the whole value;
- its base64 (``b64encode``, standard and URL-safe alphabets): of the value alone (padded and
  not), and the part of it that is the same wherever the value sits inside a larger encoded
  text -- one for each of the three positions a value can start at in base64's 3-byte groups.

What none of this catches (a value reversed, hashed, split, partly encoded, wrapped, or put
through two transformations in a row) is listed in the README's Security section.
"""

from __future__ import annotations

import base64
import bisect
import html
import json
import re
import shlex
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, quote_plus

MIN_LENGTH = 3  # shorter secrets are redacted only where they are a whole value
LINE_MIN_LENGTH = 8  # a line of a multi-line secret is hidden on its own from this length on
BASE64_MIN_LENGTH = 8  # shorter base64 strings are too common in other encoded data
TRUNCATED = re.compile(r"\.\.\.|\u2026")  # where fleet or rich cut a text short
CUT_WINDOW = 256  # fleet quotes at most 200 characters before a "..."


def _python_quoted(shown: str, head: int) -> set[str]:
    """The inside of a Python repr/ascii of a text, in both quote styles, from the repr of
    the text followed by ``"'`` (``shown``; ``head`` characters of prefix: ``'`` or ``b'``)."""
    single = shown[head:-4]  # the closing quote and the escaped ``"\'`` tail cut off
    return {single, single.replace("\\'", "'")}


def escaped_forms(value: str) -> set[str]:
    """``value`` itself, its ``repr``/``ascii`` (either quote style), the ``repr`` of its UTF-8
    bytes, JSON- and YAML-escaped, with backslashes doubled, ``unicode_escape``d, HTML/XML-escaped,
    shell-quoted (whole, and as the inside of a larger quoted word) and URL-encoded."""
    import yaml

    tail = "\"'"
    forms = {value, value.replace("\\", "\\\\"), value.encode("unicode_escape").decode("ascii"),
             json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1],
             value.replace("'", "''"), html.escape(value), html.escape(value, quote=False),
             shlex.quote(value), value.replace("'", "'\"'\"'"), quote(value, safe=""),
             quote_plus(value, safe="")}
    forms |= _python_quoted(repr(value + tail), 1) | _python_quoted(ascii(value + tail), 1)
    forms |= _python_quoted(repr((value + tail).encode("utf-8", "surrogatepass")), 2)
    for unicode in (False, True):
        dumped = yaml.safe_dump(value, default_style='"', width=2**30, allow_unicode=unicode)
        forms.add(dumped.strip().removesuffix("...").strip()[1:-1])
    return {form for form in forms if len(form) >= MIN_LENGTH}


def line_forms(value: str) -> set[str]:
    """Each line of a multi-line ``value`` (indentation and line ends aside) that has at least
    :data:`LINE_MIN_LENGTH` characters, in every escaped form; nothing for a single line."""
    lines = value.splitlines()
    if len(lines) < 2:
        return set()
    forms: set[str] = set()
    for line in lines:
        line = line.strip()
        if len(line) >= LINE_MIN_LENGTH:
            forms |= escaped_forms(line)
    return forms


def base64_forms(value: str) -> set[str]:
    """``value``'s base64 as ``b64encode`` prints it (padded and not, standard and URL-safe),
    and, for each of the 3 byte offsets the value can start at inside a larger encoded text,
    the characters that depend on the value's bytes alone."""
    raw = value.encode("utf-8", "surrogatepass")
    encoded = [base64.b64encode(raw).decode("ascii")]
    for offset in range(3):
        whole_groups = raw[offset:offset + (len(raw) - offset) // 3 * 3]
        encoded.append(base64.b64encode(whole_groups).decode("ascii"))
    forms = set()
    for text in encoded:
        for form in (text, text.rstrip("=")):
            forms |= {form, form.replace("+", "-").replace("/", "_")}
    return {form for form in forms if len(form) >= BASE64_MIN_LENGTH}


def shown_forms(value: str) -> set[str]:
    """Every form of ``value`` that :class:`fleet.secrets.Secrets` redacts (module docstring)."""
    return escaped_forms(value) | line_forms(value) | base64_forms(value)


@dataclass
class _Level:
    """Forms matched by one expression, compiled when first needed."""

    forms: set[str]
    size: int
    compiled: re.Pattern[str] | None = None

    def pattern(self) -> re.Pattern[str]:
        if self.compiled is None:
            self.compiled = pattern(self.forms)
        return self.compiled


class FormMatcher:
    """Replaces every occurrence of any of a growing set of forms in a text.

    Secrets are registered as a run goes (an inline vault value when a template first uses it),
    and compiling one expression for all forms takes a while (~0.1 s for a few private keys),
    so forms are kept in levels, each compiled once, as a binary counter keeps its bits: new
    forms make a new level, merged with the levels before it while those are not more than
    twice its size. Each form is compiled O(log n) times and a text is matched against O(log n)
    expressions. All levels are matched on the same text and overlapping matches are joined,
    so a longer form still hides all of itself when a shorter one inside it is on another level.

    A text cut short with ``...`` (error messages quote at most 40-200 characters of an
    expression or a value) may end in the beginning of a form: that beginning is hidden too.
    """

    def __init__(self) -> None:
        self._known: set[str] = set()
        self._levels: list[_Level] = []  # largest first
        self._sorted: list[str] | None = None  # the forms in order, to find what starts one
        self._heads: set[str] = set()  # the first MIN_LENGTH characters of every form

    def __bool__(self) -> bool:
        return bool(self._known)

    def add(self, forms: Iterable[str]) -> None:
        """Match ``forms`` from now on."""
        level = set(forms) - self._known
        if not level:
            return
        self._known |= level
        self._sorted = None
        self._heads |= {form[:MIN_LENGTH] for form in level}
        size = sum(map(len, level))
        while self._levels and self._levels[-1].size <= 2 * size:
            older = self._levels.pop()
            level |= older.forms
            size += older.size
        self._levels.append(_Level(level, size))

    def sub(self, replacement: str, text: str) -> str:
        """``text`` with every stretch covered by a form replaced by ``replacement`` (where
        several forms start at one place, the longest)."""
        patterns = [level.pattern() for level in self._levels]
        if len(patterns) == 1:
            spans = [m.span() for m in patterns[0].finditer(text)]
        else:
            spans = sorted(m.span() for p in patterns for m in p.finditer(text))
        if TRUNCATED.search(text):
            spans = sorted(spans + self._cut_short(text))
        if not spans:
            return text
        shown, position = [], 0
        for start, end in spans:
            if start < position:  # overlaps the stretch just replaced: extend it
                position = max(position, end)
                continue
            shown += [text[position:start], replacement]
            position = end
        shown.append(text[position:])
        return "".join(shown)

    def _cut_short(self, text: str) -> list[tuple[int, int]]:
        """Where a form's beginning (MIN_LENGTH characters or more) runs into a ``...`` that
        cut it short: the longest such beginning before each ``...``."""
        if self._sorted is None:
            self._sorted = sorted(self._known)
        spans = []
        for cut in TRUNCATED.finditer(text):
            end = cut.start()
            for start in range(max(0, end - CUT_WINDOW), end - MIN_LENGTH + 1):
                if text[start:start + MIN_LENGTH] not in self._heads:
                    continue
                part = text[start:end]
                index = bisect.bisect_left(self._sorted, part)
                if index < len(self._sorted) and self._sorted[index].startswith(part):
                    spans.append((start, end))
                    break
        return spans


def pattern(forms: Iterable[str]) -> re.Pattern[str]:
    """One regular expression matching any of ``forms``, the longest where several start at
    the same place (a whole key, not just its first line). Built as a trie, so that a text is
    scanned once whatever the number of forms, instead of once per form at each position."""
    trie: dict[str, Any] = {}
    for form in forms:
        node = trie
        for char in form:
            node = node.setdefault(char, {})
        node[""] = True  # a form ends here
    return re.compile(_regex(trie) or "(?!)")


def _regex(node: dict[str, Any]) -> str:
    """The regex of a trie node: runs of single children become plain text, branches become
    groups, and an end of a form inside a longer one an optional group (greedy: longest wins)."""
    text = []
    while True:
        children = [(char, child) for char, child in node.items() if char]
        ends = "" in node
        if len(children) == 1 and not ends:
            char, node = children[0]
            text.append(re.escape(char))
            continue
        if not children:
            return "".join(text)
        branches = [re.escape(char) + _regex(child) for char, child in sorted(children)]
        group = "(?:" + "|".join(branches) + ")"
        return "".join(text) + group + ("?" if ends else "")
