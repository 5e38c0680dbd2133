"""How a leaked secret could look in fleet's output: the forms tests grep for."""

from __future__ import annotations

import base64
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


def key_forms(secret: str) -> list[str]:
    """How a multi-line secret (a key, a certificate: every line 8 characters or more) could
    leak: as :func:`forms`, each line raw and JSON-escaped, any 16 characters of a line (a
    message that quotes a text cut short), and its base64 -- what ``b64encode`` makes of it
    alone, and a stretch of what it makes of any larger text the secret sits in, for each of
    the 3 offsets the secret can have in base64's 3-byte groups."""
    found = forms(secret)
    for line in secret.splitlines():
        line = line.strip()
        found += [line, json.dumps(line)[1:-1]]
        found += [line[start:start + 16] for start in range(0, len(line) - 15, 4)]
    found.append(base64.b64encode(secret.encode()).decode())
    for offset in range(3):
        found.append(base64.b64encode(secret.encode()[offset:]).decode()[4:-8])
    return found


def key_form_in(secret: str, where: str, text: str) -> str | None:
    """What says which :func:`key_forms` of ``secret`` show in ``text``, or None."""
    shown = [form for form in key_forms(secret) if form and form in text]
    if not shown:
        return None
    return f"{len(shown)} forms of a multi-line secret leaked into {where}, e.g. {shown[0][:70]!r}"
