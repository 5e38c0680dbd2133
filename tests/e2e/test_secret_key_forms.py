"""A multi-line vault value -- a PEM private key from an encrypted vars file and a certificate
from an inline ``!vault`` value -- reaches the hosts intact and never shows, neither whole nor
one line at a time (a unified diff prefixes each line, YAML folds them), nor JSON-escaped,
shell-quoted or base64-encoded, in any output channel: terminal (``--diff`` at -v, -vv, -vvv),
``--json``, ``fleet check --diff``, ``fleet drift`` JSON/JUnit/Prometheus/HTML and state
directory (with and without ``--diff``) and ``--show``, ``fleet vars`` (JSON, YAML,
``--explain``), ``fleet inventory --list/--host`` (JSON, YAML), error messages."""

from __future__ import annotations

import base64
import os
import subprocess
from pathlib import Path

import yaml

from fleet.cli.vault import vault_yaml
from fleet.vault import VaultKeyring, VaultSecret
from tests.conftest import fleet
from tests.e2e.conftest import Lab
from tests.secretforms import key_form_in


def _pem(kind: str) -> str:
    """A PEM-like block of random base64, 64 characters a line (every line long enough to be
    hidden on its own)."""
    body = base64.b64encode(os.urandom(48 * 12)).decode()
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    return f"-----BEGIN {kind}-----\n" + "\n".join(lines) + f"\n-----END {kind}-----\n"


PLAYBOOK = """\
- hosts: fleet
  gather_facts: false
  tasks:
    - name: the key as a file
      copy: {dest: "{{ root }}/tls.key", content: "{{ tls_key }}", mode: "0600"}
    - name: key and certificate inside a config
      template: {src: app.conf.j2, dest: "{{ root }}/app.conf", mode: "0600"}
    - name: forms derived from the key
      copy:
        dest: "{{ root }}/derived"
        mode: "0600"
        content: |
          b64={{ tls_key | b64encode }}
          embedded={{ ('key=' ~ tls_key ~ ';cert=' ~ tls_cert) | b64encode }}
          json={{ {'key': tls_key} | to_json }}
          shell=printf '%s' {{ ('x' ~ tls_key) | quote }}
    - name: a command that prints the key
      command: cat {{ root }}/tls.key
      changed_when: false
    - name: a failure quoting the certificate
      fail: {msg: "refused {{ tls_cert }}"}
      ignore_errors: true
"""
TEMPLATE = "[tls]\nkey =\n{{ tls_key | indent(4, true) }}cert =\n{{ tls_cert | indent(4, true) }}"


def _setup(lab: Lab, key: str, cert: str) -> tuple[Path, Path]:
    for root in lab.roots.values():
        root.mkdir(parents=True, exist_ok=True)
    keyring = VaultKeyring([VaultSecret("default", b"vault-pass-123")])
    password_file = lab.workdir / "vault-pass"
    password_file.write_text("vault-pass-123\n")
    password_file.chmod(0o600)
    group_vars = lab.workdir / "group_vars" / "fleet"
    group_vars.mkdir(parents=True)
    (group_vars / "vault.yml").write_text(keyring.encrypt(yaml.safe_dump({"tls_key": key})))
    (group_vars / "main.yml").write_text(vault_yaml(keyring.encrypt(cert), "tls_cert")
                                         + 'tls_key_b64: "{{ tls_key | b64encode }}"\n')
    (lab.workdir / "templates").mkdir()
    (lab.workdir / "templates" / "app.conf.j2").write_text(TEMPLATE)
    playbook = lab.workdir / "keys.yml"
    playbook.write_text(PLAYBOOK)
    return password_file, playbook


def _tamper(path: Path, key: str) -> None:
    """The host's copy of the key with one line changed: its diff shows the other lines as
    context (prefixed with a blank) and the changed one as - and + lines."""
    lines = key.splitlines(True)
    lines[2] = "A" * 64 + "\n"
    path.write_text("".join(lines))


def test_a_multi_line_secret_never_shows_in_any_form(lab: Lab) -> None:
    key, cert = _pem("PRIVATE KEY"), _pem("CERTIFICATE")
    password_file, playbook = _setup(lab, key, cert)
    vault = ("--vault-password-file", str(password_file))
    inv = ("-i", str(lab.inventory))
    outputs: dict[str, str] = {}

    def run(name: str, *args: str, expect: int | None = 0) -> subprocess.CompletedProcess[str]:
        done = fleet(*args, cwd=lab.workdir)
        outputs[name] = done.stdout + done.stderr
        if expect is not None:
            assert done.returncode == expect, outputs[name]
        return done

    _tamper(lab.roots["h1"] / "tls.key", key)
    for level in ("-v", "-vv"):
        run(f"check {level}", "check", *inv, str(playbook), *vault, "--diff", level, expect=2)
    run("apply", "apply", *inv, str(playbook), *vault, "--diff", "-vvv", "--json", str(lab.workdir / "apply.json"))
    for root in lab.roots.values():  # the secrets reached the hosts as they are
        assert (root / "tls.key").read_text() == key
        assert (root / "app.conf").read_text() == (
            "[tls]\nkey =\n" + "".join("    " + line for line in key.splitlines(True))
            + "cert =\n" + "".join("    " + line for line in cert.splitlines(True)))
        derived = (root / "derived").read_text().splitlines()
        assert base64.b64decode(derived[0].removeprefix("b64=")).decode() == key

    _tamper(lab.roots["h1"] / "tls.key", key)
    run("check", "check", *inv, str(playbook), *vault, "--diff", "-vvv", "--json", str(lab.workdir / "check.json"),
        expect=2)
    for state, extra in (("state", ()), ("state-diff", ("--diff",))):
        reports = [f"--{fmt}={lab.workdir / (state + '.' + fmt)}" for fmt in ("json", "junit", "prom", "html")]
        run(f"drift {state}", "drift", *inv, str(playbook), *vault, *extra, "-vvv",
            "--state-dir", str(lab.workdir / state), *reports, expect=2)
        run(f"drift --show {state}", "drift", "--state-dir", str(lab.workdir / state), "--show", expect=2)
    for fmt in ((), ("-y",)):
        run(f"vars {fmt}", "vars", "h1", *inv, *vault, "-p", str(playbook), *fmt)
        run(f"inventory --host {fmt}", "inventory", *inv, *vault, "--host", "h1", *fmt)
        run(f"inventory --list {fmt}", "inventory", *inv, *vault, "--list", *fmt)
    for name in ("tls_key", "tls_cert", "tls_key_b64"):
        run(f"explain {name}", "vars", "h1", *inv, *vault, "--explain", name)
    bad = lab.workdir / "bad.yml"
    bad.write_text("- hosts: fleet\n  gather_facts: false\n  tasks:\n"
                   "    - command: echo hi\n      failed_when: \"{{ tls_key }} == x\"\n")
    run("error", "apply", *inv, str(bad), *vault, "-vvv", expect=None)

    files = [*lab.workdir.glob("*.json"), *lab.workdir.glob("state*.*"),
             *(path for path in lab.workdir.glob("state*/**/*") if path.is_file())]
    assert len(files) >= 12, files
    channels = {**outputs, **{str(path): path.read_text(errors="replace") for path in files}}
    leaks = [leak for where, text in channels.items() for secret in (key, cert, f"key={key};cert={cert}")
             if (leak := key_form_in(secret, where, text))]
    assert not leaks, "\n".join(leaks)
    assert "+********" in outputs["check -v"] and " ********" in outputs["check -v"]  # redacted, not hidden
    assert "********" in (lab.workdir / "state-diff.html").read_text()

    shown = run("shown", "vars", "h1", *inv, *vault, "--show-secrets", "-y")  # the positive control
    assert all(line in shown.stdout for line in key.splitlines()[1:-1])
