"""Vault values work on the hosts and never show: after a full run with ``--diff -vvv``, every
output channel (terminal, JSON report, drift JSON/JUnit/Prometheus/HTML and state directory,
``fleet vars``, ``fleet inventory``, error lines) is grepped for the secrets and has none."""

from __future__ import annotations

import subprocess
from pathlib import Path

from fleet.cli.vault import vault_yaml
from fleet.vault import VaultKeyring, VaultSecret
from tests.conftest import fleet
from tests.e2e.conftest import Lab

WHOLE = "S3cr3t-Whole-File-Value"  # from a vault-encrypted group_vars file
INLINE = "T0ken-Inline-Value"  # an inline !vault value
BECOME = "Sudo-Pass-Never-Shown"  # a connection password
SECRETS = (WHOLE, INLINE, BECOME)

PLAYBOOK = """\
- hosts: fleet
  gather_facts: false
  vars:
    ansible_become_password: "{{ become_pw }}"
  tasks:
    - name: config rendered from secrets
      copy:
        dest: "{{ root }}/app.secret"
        content: "password={{ db_password }}\\ntoken={{ api_token }}\\n"
        mode: "0600"
    - name: a command that prints a secret
      command: echo "{{ api_token }}"
      changed_when: false
    - name: debug of a secret
      debug:
        msg: "token is {{ api_token }}"
    - name: a failure quoting a secret
      fail:
        msg: "refused {{ db_password }}"
      ignore_errors: true
"""


def _setup(lab: Lab) -> tuple[Path, Path]:
    for root in lab.roots.values():
        root.mkdir(parents=True, exist_ok=True)
    keyring = VaultKeyring([VaultSecret("default", b"vault-pass-123")])
    password_file = lab.workdir / "vault-pass"
    password_file.write_text("vault-pass-123\n")
    password_file.chmod(0o600)
    group_vars = lab.workdir / "group_vars" / "fleet"
    group_vars.mkdir(parents=True)
    (group_vars / "vault.yml").write_text(keyring.encrypt(f"db_password: {WHOLE}\nbecome_pw: {BECOME}\n"))
    (group_vars / "main.yml").write_text("plain_var: visible\n" + vault_yaml(keyring.encrypt(INLINE), "api_token"))
    playbook = lab.workdir / "secrets.yml"
    playbook.write_text(PLAYBOOK)
    return password_file, playbook


def _clean(what: str, text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"{secret!r} leaked into {what}"


def test_no_output_channel_shows_a_secret(lab: Lab) -> None:
    password_file, playbook = _setup(lab)
    vault = ("--vault-password-file", str(password_file))
    inv = ("-i", str(lab.inventory))
    outputs: dict[str, str] = {}

    def run(name: str, *args: str, expect: int | None = 0) -> subprocess.CompletedProcess[str]:
        done = fleet(*args)
        outputs[name] = done.stdout + done.stderr
        if expect is not None:
            assert done.returncode == expect, outputs[name]
        return done

    run("apply", "apply", *inv, str(playbook), *vault, "--diff", "-vvv", "--json", str(lab.workdir / "apply.json"))
    for root in lab.roots.values():  # the secrets did reach the hosts
        assert (root / "app.secret").read_text() == f"password={WHOLE}\ntoken={INLINE}\n"
    (lab.roots["h1"] / "app.secret").write_text("password=old\n")
    run("check", "check", *inv, str(playbook), *vault, "--diff", "-vvv", expect=2)
    assert "+password=********" in outputs["check"]  # a redacted diff, not a hidden one
    state = lab.workdir / "state"
    reports = [f"--{fmt}={lab.workdir / ('drift.' + fmt)}" for fmt in ("json", "junit", "prom", "html")]
    run("drift", "drift", *inv, str(playbook), *vault, "-vvv", "--state-dir", str(state), *reports, expect=2)
    run("vars", "vars", "h1", *inv, *vault, "-p", str(playbook))
    run("explain", "vars", "h1", *inv, *vault, "--explain", "db_password")
    run("inventory", "inventory", *inv, *vault, "--host", "h1")
    run("inventory list", "inventory", *inv, *vault, "--list", "-y")
    bad = lab.workdir / "bad.yml"
    bad.write_text("- hosts: fleet\n  gather_facts: false\n  tasks:\n"
                   "    - command: echo {{ db_password }}\n      failed_when: \"{{ db_password }} == x\"\n")
    run("error", "apply", *inv, str(bad), *vault, "-vvv", expect=None)

    for name, text in outputs.items():
        _clean(f"the output of fleet {name}", text)
    for path in [*lab.workdir.glob("*.json"), *lab.workdir.glob("drift.*"), *state.rglob("*.json")]:
        _clean(str(path), path.read_text())
    assert "********" in (lab.workdir / "drift.html").read_text()

    shown = run("shown", "vars", "h1", *inv, *vault, "--show-secrets")
    assert WHOLE in shown.stdout and INLINE in shown.stdout  # the positive control


def test_wrong_or_missing_vault_password_is_one_clear_error(lab: Lab) -> None:
    _, playbook = _setup(lab)
    wrong = lab.workdir / "wrong"
    wrong.write_text("not-the-password\n")
    wrong.chmod(0o600)
    done = fleet("apply", "-i", str(lab.inventory), str(playbook), "--vault-password-file", str(wrong))
    assert done.returncode == 1
    assert "decryption failed: wrong password or the data was modified" in done.stderr, done.stderr
    assert "group_vars/fleet/vault.yml" in done.stderr and "Traceback" not in done.stderr
    assert not (lab.roots["h1"] / "app.secret").exists()  # nothing half-applied
    missing = fleet("apply", "-i", str(lab.inventory), str(playbook))
    assert missing.returncode == 1 and "no vault password" in missing.stderr, missing.stderr


def test_a_short_secret_is_hidden_where_it_is_a_whole_value(lab: Lab) -> None:
    """A vault value of 2 characters: replaced where a field, a message or a line of output is
    exactly it, never inside other text (that would hide every 'Q7' in a report)."""
    keyring = VaultKeyring([VaultSecret("default", b"vault-pass-123")])
    password_file = lab.workdir / "vault-pass"
    password_file.write_text("vault-pass-123\n")
    password_file.chmod(0o600)
    play_dir = lab.workdir / "short"
    (play_dir / "group_vars" / "fleet").mkdir(parents=True)
    (play_dir / "group_vars" / "fleet" / "vault.yml").write_text(keyring.encrypt("pin: Q7\n"))
    playbook = play_dir / "short.yml"
    playbook.write_text("- hosts: h1\n  gather_facts: false\n  tasks:\n"
                        "    - debug: {var: pin}\n"
                        "    - command: echo {{ pin }}\n      changed_when: false\n"
                        "    - debug: {msg: \"{{ pin }}\"}\n"
                        "    - debug: {msg: \"Q7X is a model name\"}\n")
    done = fleet("apply", "-i", str(lab.inventory), str(playbook), "--vault-password-file", str(password_file),
                 "-vv", "--json", str(lab.workdir / "short.json"))
    assert done.returncode == 0, done.stdout + done.stderr
    shown = done.stdout + done.stderr + (lab.workdir / "short.json").read_text()
    for whole in ('"Q7"', "=> Q7\n", "'Q7'"):
        assert whole not in shown, f"{whole!r} in the output"
    assert '"pin": "********"' in done.stdout and '"stdout": "********"' in done.stdout
    assert "Q7X is a model name" in done.stdout  # not inside other text


def test_a_vault_value_first_used_late_is_hidden_in_every_file(lab: Lab) -> None:
    """An inline value is decrypted when a template first uses it: a host that showed it before
    (a file's old content in a diff) printed it on the terminal before fleet knew it (the README
    says so), but every file written at the end of the run -- ``--json``, drift's reports and
    state -- is redacted with every secret known by then."""
    late = "L4te-Used-Inline-Token"
    keyring = VaultKeyring([VaultSecret("default", b"vault-pass-123")])
    password_file = lab.workdir / "vault-pass"
    password_file.write_text("vault-pass-123\n")
    password_file.chmod(0o600)
    (lab.workdir / "group_vars" / "fleet").mkdir(parents=True)
    (lab.workdir / "group_vars" / "fleet" / "main.yml").write_text(vault_yaml(keyring.encrypt(late), "late_token"))
    lab.roots["h1"].mkdir(parents=True)
    (lab.roots["h1"] / "seen.conf").write_text(f"token={late}\n")
    playbook = lab.workdir / "late.yml"
    playbook.write_text("- hosts: h1\n  gather_facts: false\n  tasks:\n"
                        "    - copy: {dest: \"{{ root }}/seen.conf\", content: \"token=rotated\\n\"}\n"
                        "    - debug: {msg: \"{{ late_token | length }} characters\"}\n")
    args = ("-i", str(lab.inventory), str(playbook), "--vault-password-file", str(password_file), "--diff")
    check = fleet("check", *args, "--json", str(lab.workdir / "check.json"))
    assert check.returncode == 2, check.stdout + check.stderr
    assert "22 characters" in check.stdout  # the value was used, after the diff that held it
    reports = [f"--{fmt}={lab.workdir / ('drift.' + fmt)}" for fmt in ("json", "junit", "prom", "html")]
    drift = fleet("drift", *args, "--state-dir", str(lab.workdir / "state"), *reports)
    assert drift.returncode == 2, drift.stdout + drift.stderr
    shown = fleet("drift", "--state-dir", str(lab.workdir / "state"), "--show")
    files = [lab.workdir / "check.json", *lab.workdir.glob("drift.*"), *(lab.workdir / "state").rglob("*.json")]
    for where, text in [("drift", drift.stdout), ("drift --show", shown.stdout),
                        *((str(path), path.read_text()) for path in files)]:
        assert late not in text, f"{late!r} leaked into {where}"
    assert "-token=********" in (lab.workdir / "check.json").read_text()
