"""The secrets of one run, and redacting them from everything fleet shows or writes.

Values that came from a vault are registered here when they are decrypted, connection and
become passwords when they are known. Output channels (terminal lines and diffs, the
JSON/JUnit/HTML/Prometheus reports, error messages, ``fleet vars``, tracebacks) pass what they
show through :meth:`Secrets.redact`, which replaces every occurrence of a registered value by
``********`` -- also inside a larger text, so a file rendered from a secret shows a redacted
diff -- and every occurrence of the forms a value takes when it is printed escaped
(:func:`shown_forms`: ``repr``, JSON, YAML, HTML, URL encoding...), so a password with a
backslash or a non-ASCII letter does not escape redaction by being quoted in an error message.
Registered values keep working everywhere else (templates, module arguments, registered results).

Strings shorter than :data:`MIN_LENGTH` are redacted only where they are a whole value (a
field, a message, a line of output, surrounding blanks aside): replacing every ``a`` or ``1``
inside a report would hide everything and protect nothing.
"""

from __future__ import annotations

import dataclasses
import html
import json
import re
import shlex
from typing import Any
from urllib.parse import quote, quote_plus

from fleet.errors import Location
from fleet.result import REDACTED, TaskResult
from fleet.yamlsrc import VaultValue

MIN_LENGTH = 3


def _python_quoted(shown: str, head: int) -> set[str]:
    """The inside of a Python repr/ascii of a text, in both quote styles, from the repr of
    the text followed by ``"'`` (``shown``; ``head`` characters of prefix: ``'`` or ``b'``)."""
    single = shown[head:-4]  # the closing quote and the escaped ``"\'`` tail cut off
    return {single, single.replace("\\'", "'")}


def shown_forms(value: str) -> set[str]:
    """``value`` as fleet, Python or a serialiser may print it: itself, its ``repr``/``ascii``
    (either quote style), the ``repr`` of its UTF-8 bytes, JSON- and YAML-escaped, with
    backslashes doubled, ``unicode_escape``d, HTML/XML-escaped, shell-quoted and URL-encoded."""
    import yaml

    tail = "\"'"
    forms = {value, value.replace("\\", "\\\\"), value.encode("unicode_escape").decode("ascii"),
             json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1],
             value.replace("'", "''"), html.escape(value), html.escape(value, quote=False),
             shlex.quote(value), quote(value, safe=""), quote_plus(value, safe="")}
    forms |= _python_quoted(repr(value + tail), 1) | _python_quoted(ascii(value + tail), 1)
    forms |= _python_quoted(repr((value + tail).encode("utf-8", "surrogatepass")), 2)
    for unicode in (False, True):
        dumped = yaml.safe_dump(value, default_style='"', width=2**30, allow_unicode=unicode)
        forms.add(dumped.strip().removesuffix("...").strip()[1:-1])
    return {form for form in forms if len(form) >= MIN_LENGTH}


class Secrets:
    """The secret strings of a run (and the vault keyring that decrypts them, if any)."""

    def __init__(self, keyring: Any = None) -> None:
        self.keyring = keyring  # a fleet.vault.VaultKeyring, or None: no password given
        self._values: set[str] = set()  # secrets of MIN_LENGTH or more, as registered
        self._forms: set[str] = set()  # ... and every form they are shown in
        self._whole: set[str] = set()  # shorter secrets: redacted only as whole values
        self._pattern: re.Pattern[str] | None = None
        self._plain: dict[str, str] = {}

    def decrypt(self, text: str, where: Location | None = None) -> str:
        """Decrypt vault data (``where`` names its file:line in errors); the plaintext becomes
        a secret. Each distinct ciphertext is decrypted once per run."""
        plain = self._plain.get(text)
        if plain is None:
            from fleet.vault import VaultKeyring

            plain = (self.keyring or VaultKeyring([])).decrypt(text, where)
            self._plain[text] = plain
            self.add(plain)
        return plain

    def reveal(self, value: Any) -> Any:
        """``value`` with every inline vault value in it (dicts, lists) decrypted."""
        if isinstance(value, VaultValue):
            return self.decrypt(value.text, value.location)
        if isinstance(value, dict):
            return {k: self.reveal(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.reveal(v) for v in value]
        return value

    def __bool__(self) -> bool:
        return bool(self._values or self._whole)

    def __len__(self) -> int:
        return len(self._values) + len(self._whole)

    def add(self, value: Any) -> None:
        """Register ``value`` (every string in it, for a dict or list) as secret."""
        if isinstance(value, str):
            for text in {value, value.strip()}:
                if len(text) >= MIN_LENGTH and text not in self._values:
                    self._values.add(text)
                    self._forms |= shown_forms(text)
                    self._pattern = None
                elif 0 < len(text) < MIN_LENGTH:
                    self._whole.add(text)
        elif isinstance(value, dict):
            for item in value.values():
                self.add(item)
        elif isinstance(value, (list, tuple, set)):
            for item in value:
                self.add(item)

    def redact(self, text: str, whole: bool = True) -> str:
        """``text`` with every registered secret (in any form it is shown in) replaced by
        ``********``; a short secret only when it is the whole ``text`` (and ``whole``)."""
        if not text or not (self._values or self._whole):
            return text
        if whole and self._whole and text.strip() in self._whole:
            return REDACTED
        if not self._forms:
            return text
        if self._pattern is None:
            ordered = sorted(self._forms, key=len, reverse=True)  # longest first: no partial leaks
            self._pattern = re.compile("|".join(re.escape(v) for v in ordered))
        return self._pattern.sub(REDACTED, text)

    def redact_obj(self, value: Any) -> Any:
        """A copy of ``value`` (dicts, lists, strings; keys too, but a key is never a whole
        value) with secrets redacted."""
        if not self:
            return value
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, dict):
            return {self.redact(k, whole=False) if isinstance(k, str) else k: self.redact_obj(v)
                    for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return type(value)(self.redact_obj(v) for v in value) if isinstance(value, tuple) else [
                self.redact_obj(v) for v in value]
        return value

    def result(self, result: TaskResult) -> TaskResult:
        """What reports show of ``result``: the same object when nothing is secret, else a copy
        whose message, diff, data, warnings, traceback and items are redacted."""
        if not self:
            return result
        return dataclasses.replace(
            result,
            task=self.redact(result.task),
            msg=self.redact(result.msg),
            diff=self.redact_obj(result.diff),
            data=self.redact_obj(result.data),
            warnings=[self.redact(w) for w in result.warnings],
            exception=self.redact(result.exception) if result.exception else result.exception,
            item_label=self.redact(result.item_label) if result.item_label else result.item_label,
            items=[self.result(i) for i in result.items] if result.items is not None else None,
        )
