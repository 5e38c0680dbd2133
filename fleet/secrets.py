"""The secrets of one run, and redacting them from everything fleet shows or writes.

Values that came from a vault are registered here when they are decrypted. Output channels
(terminal lines and diffs, the JSON/JUnit/HTML/Prometheus reports, error messages, ``fleet
vars``, tracebacks) pass what they show through :meth:`Secrets.redact`, which replaces every
occurrence of a registered value by ``********`` — also inside a larger text, so a file
rendered from a secret shows a redacted diff. Registered values keep working everywhere else
(templates, module arguments, registered results).

Strings shorter than :data:`MIN_LENGTH` are not registered: replacing every ``a`` or ``1`` in a
report would hide everything and protect nothing.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from fleet.errors import Location
from fleet.result import REDACTED, TaskResult
from fleet.yamlsrc import VaultValue

MIN_LENGTH = 3


class Secrets:
    """The secret strings of a run (and the vault keyring that decrypts them, if any)."""

    def __init__(self, keyring: Any = None) -> None:
        self.keyring = keyring  # a fleet.vault.VaultKeyring, or None: no password given
        self._values: set[str] = set()
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
        return bool(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def add(self, value: Any) -> None:
        """Register ``value`` (every string in it, for a dict or list) as secret."""
        if isinstance(value, str):
            for text in {value, value.strip()}:
                if len(text) >= MIN_LENGTH and text not in self._values:
                    self._values.add(text)
                    self._pattern = None
        elif isinstance(value, dict):
            for item in value.values():
                self.add(item)
        elif isinstance(value, (list, tuple, set)):
            for item in value:
                self.add(item)

    def redact(self, text: str) -> str:
        """``text`` with every registered secret replaced by ``********``."""
        if not self._values or not text:
            return text
        if self._pattern is None:
            ordered = sorted(self._values, key=len, reverse=True)  # longest first: no partial leaks
            self._pattern = re.compile("|".join(re.escape(v) for v in ordered))
        return self._pattern.sub(REDACTED, text)

    def redact_obj(self, value: Any) -> Any:
        """A copy of ``value`` (dicts, lists, strings; keys too) with secrets redacted."""
        if not self._values:
            return value
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, dict):
            return {self.redact_obj(k): self.redact_obj(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return type(value)(self.redact_obj(v) for v in value) if isinstance(value, tuple) else [
                self.redact_obj(v) for v in value]
        return value

    def result(self, result: TaskResult) -> TaskResult:
        """What reports show of ``result``: the same object when nothing is secret, else a copy
        whose message, diff, data, warnings, traceback and items are redacted."""
        if not self._values:
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
