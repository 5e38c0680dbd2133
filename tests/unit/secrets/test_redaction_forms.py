"""Redaction of the forms a multi-line or derived secret takes: each line, base64 at any offset,
shell quoting inside a larger word, texts cut short with "...", and the matcher's levels."""

from __future__ import annotations

import base64
import difflib
import json
import os
import shlex

import yaml

from fleet.result import REDACTED
from fleet.secrets import Secrets
from fleet.secrets.forms import FormMatcher
from fleet.vault import VaultKeyring, VaultSecret


def _key() -> str:
    body = base64.b64encode(os.urandom(48 * 6)).decode() + "QUI="  # a short last line
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    return "-----BEGIN PRIVATE KEY-----\n" + "\n".join(lines) + "\n-----END PRIVATE KEY-----\n"


def _visible_lines(secret: str, text: str) -> list[str]:
    return [line for line in secret.splitlines() if len(line) >= 8 and line in text]


def test_every_line_of_a_multi_line_secret_is_hidden_in_a_diff_and_in_folded_yaml() -> None:
    key = _key()
    secrets = Secrets()
    secrets.add({"tls_key": key})
    old = key.splitlines(True)
    old[2] = "A" * 64 + "\n"
    diff = "".join(difflib.unified_diff(old, key.splitlines(True), "before", "after"))
    for shown in (diff, yaml.safe_dump({"k": key}), yaml.safe_dump({"k": key}, default_style="'"),
                  json.dumps({"k": "pre\n" + key}), "  " + key.replace("\n", "\n  ")):
        redacted = secrets.redact(shown)
        assert not _visible_lines(key, redacted), redacted
        assert REDACTED in redacted
    assert "-" + "A" * 64 in secrets.redact(diff)  # what is not secret still shows


def test_short_lines_of_a_secret_are_not_hidden_inside_other_text() -> None:
    secrets = Secrets()
    secrets.add("[client]\nuser=backup\npw=Zq\n")
    assert secrets.redact("x user=backup y") == f"x {REDACTED} y"  # 11 characters: hidden
    assert secrets.redact("pw=Zq is short") == "pw=Zq is short"  # 5: would hide too much elsewhere
    assert secrets.redact("[client]\nuser=backup\npw=Zq\n") == REDACTED  # the whole value is


def test_base64_of_the_secret_alone_and_inside_a_larger_text_at_every_offset() -> None:
    secret = "correct-horse-battery-staple\nsecond line of it"
    secrets = Secrets()
    secrets.add(secret)
    encoded = base64.b64encode(secret.encode()).decode()
    assert secrets.redact(f"b64={encoded}") == f"b64={REDACTED}"
    assert REDACTED in secrets.redact(base64.urlsafe_b64encode(secret.encode()).decode())
    for prefix in ("", "a", "ab", "abc", "abcd"):
        whole = base64.b64encode(f"{prefix}{secret};tail".encode()).decode()
        redacted = secrets.redact(whole)
        assert REDACTED in redacted
        around = 4 * ((len(prefix) + 2) // 3 + 1) + 4 * ((len(";tail") + 2) // 3 + 1)
        assert len(redacted.replace(REDACTED, "")) <= around, redacted  # only the groups around it show


def test_shell_quoted_inside_a_larger_word() -> None:
    secret = "it's-a-secret"
    secrets = Secrets()
    secrets.add(secret)
    for shown in (shlex.quote("x" + secret), shlex.quote(secret + "\nmore"), f"echo {shlex.quote(secret)}"):
        assert "s-a-secret" not in secrets.redact(shown), shown


def test_a_text_cut_short_hides_the_beginning_of_a_secret() -> None:
    token = "tok-0123456789abcdefghij-klmnopqrstuvwxyz"
    secrets = Secrets()
    secrets.add(token)
    for cut in ("...", "\u2026"):
        assert secrets.redact(f"in 'x = {token[:20]}{cut}'") == f"in 'x = {REDACTED}{cut}'"
    assert secrets.redact("Loading... done...") == "Loading... done..."
    assert secrets.redact("tok... is not") == f"{REDACTED}... is not"  # 3 characters are enough


def test_a_vault_document_is_hidden_whole_not_line_by_line() -> None:
    keyring = VaultKeyring([VaultSecret("default", b"pw")])
    secrets = Secrets(keyring)
    document = "users:\n  - name: alice-the-admin\n    shell: /bin/bash\n"
    plain = secrets.decrypt(keyring.encrypt(document), document=True)
    assert plain == document and secrets.redact(document) == REDACTED
    assert secrets.redact("shell: /bin/bash") == "shell: /bin/bash"  # structure, not a secret
    inline = secrets.decrypt(keyring.encrypt("line-one-secret\nline-two-secret\n"))
    assert secrets.redact("x line-two-secret") == f"x {REDACTED}" and inline


def test_the_longest_form_wins_across_levels_and_levels_stay_few() -> None:
    matcher = FormMatcher()
    matcher.add(["hunter2"])
    assert matcher.sub("*", "a hunter2 b") == "a * b"
    for index in range(200):
        matcher.add([f"filler-{index:03d}-value"])
        matcher.sub("*", "compile the levels")
    matcher.add(["my-hunter2-extended"])
    assert matcher.sub("*", "x my-hunter2-extended y") == "x * y"  # not "x my-*-extended y"
    assert matcher.sub("*", "filler-150-value and filler-007-value") == "* and *"
    assert len(matcher._levels) <= 9  # log2(200 forms) + 1: each form compiled few times
