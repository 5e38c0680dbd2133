"""How a leaked secret could look in fleet's output: the forms tests grep for."""

from __future__ import annotations

import json


def forms(secret: str) -> list[str]:
    """``secret`` raw, as the inside of a Python repr of the text and of its UTF-8 bytes (with
    and without a line end: what a bootstrap's ValueError quoted), and JSON-escaped (with and
    without ASCII escapes)."""
    return [secret, repr(secret)[1:-1], repr(secret.encode())[2:-1], repr((secret + "\n").encode())[2:-1],
            json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1]]


def assert_hidden(secret: str, where: str, text: str) -> None:
    """AssertionError naming the form when ``secret`` shows in ``text``."""
    for form in forms(secret):
        assert form not in text, f"a secret leaked into {where} as {form!r}"
