"""The secrets of one run, and redacting them from everything fleet shows or writes.

Values that came from a vault are registered here when they are decrypted, connection and
become passwords when they are known. Output channels (terminal lines and diffs, the
JSON/JUnit/HTML/Prometheus reports, error messages, ``fleet vars``, tracebacks) pass what they
show through :meth:`Secrets.redact`, which replaces every occurrence of a registered value by
``********`` -- also inside a larger text, so a file rendered from a secret shows a redacted
diff -- and every occurrence of the forms a value takes when it is printed
(:func:`fleet.secrets.forms.shown_forms`: escaped as ``repr``, JSON, YAML, HTML, shell or URL
encoding; each line of a multi-line value such as a private key, which a diff prefixes and YAML
folds; its base64), so a password with a backslash or a non-ASCII letter does not escape
redaction by being quoted in an error message, nor a key by being shown one line at a time.
Registered values keep working everywhere else (templates, module arguments, registered results).

Strings shorter than :data:`MIN_LENGTH` are redacted only where they are a whole value (a
field, a message, a line of output, surrounding blanks aside): replacing every ``a`` or ``1``
inside a report would hide everything and protect nothing.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from fleet.errors import Location
from fleet.result import REDACTED, TaskResult
from fleet.secrets.forms import MIN_LENGTH, FormMatcher, escaped_forms, shown_forms
from fleet.vault import VaultKeyring, VaultValue


class Secrets:
    """The secret strings of a run (and the vault keyring that decrypts them, if any)."""

    def __init__(self, keyring: Any = None) -> None:
        self.keyring = keyring  # a fleet.vault.VaultKeyring, or None: no password given
        self._values: set[str] = set()  # secrets of MIN_LENGTH or more, as registered
        self._forms = FormMatcher()  # ... every form they are shown in
        self._whole: set[str] = set()  # shorter secrets: redacted only as whole values
        self._plain: dict[str, str] = {}

    def decrypt(self, text: str, where: Location | None = None, document: bool = False) -> str:
        """Decrypt vault data (``where`` names its file:line in errors); the plaintext becomes
        a secret. Each distinct ciphertext is decrypted once per run. A ``document`` (an
        encrypted vars file, whose values the loader registers one by one) is hidden as a whole
        and escaped, never line by line: its lines are mostly keys and structure."""
        plain = self._plain.get(text)
        if plain is None:
            plain = (self.keyring or VaultKeyring([])).decrypt(text, where)
            self._plain[text] = plain
            self._add_text(plain, document)
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
            self._add_text(value)
        elif isinstance(value, dict):
            for item in value.values():
                self.add(item)
        elif isinstance(value, (list, tuple, set)):
            for item in value:
                self.add(item)

    def _add_text(self, value: str, document: bool = False) -> None:
        for text in {value, value.strip()}:
            if len(text) >= MIN_LENGTH and text not in self._values:
                self._values.add(text)
                self._forms.add(escaped_forms(text) if document else shown_forms(text))
            elif 0 < len(text) < MIN_LENGTH:
                self._whole.add(text)

    def redact(self, text: str, whole: bool = True) -> str:
        """``text`` with every registered secret (in any form it is shown in) replaced by
        ``********``; a short secret only when it is the whole ``text`` (and ``whole``)."""
        if not text or not (self._values or self._whole):
            return text
        if whole and self._whole and text.strip() in self._whole:
            return REDACTED
        if not self._forms:
            return text
        return self._forms.sub(REDACTED, text)

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
