"""Where vault passwords come from: files, executables, prompts, and the environment.

- ``--vault-password-file PATH``: a file (its first line, without the line end) or an
  executable (run with no arguments; the first line it prints). An executable whose name ends
  in ``-client`` (before any extension) is run with ``--vault-id ID``, as Ansible's client
  scripts are; its exit status 2 means "no password for that id".
- ``--vault-id ID@SOURCE`` (repeatable): SOURCE is such a path or ``prompt``; without ``ID@``
  the id is ``default``.
- ``--ask-vault-pass``: prompt for the default id's password (needs a terminal).
- ``FLEET_VAULT_PASSWORD_FILE`` (else Ansible's ``ANSIBLE_VAULT_PASSWORD_FILE``): a password
  file for the default id, used only when none of the options above is given.

A password file that group or others can read draws a warning on stderr.
"""

from __future__ import annotations

import getpass
import os
import stat
import subprocess
import sys
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from fleet.vault.envelope import DEFAULT_ID, check_vault_id
from fleet.vault.errors import VaultError
from fleet.vault.keyring import VaultKeyring, VaultSecret

ENV_VARS = ("FLEET_VAULT_PASSWORD_FILE", "ANSIBLE_VAULT_PASSWORD_FILE")
PROMPT = "prompt"

Prompt = Callable[[str], str]
Warn = Callable[[str], None]


def _stderr_warning(message: str) -> None:
    print(f"WARNING: {message}", file=sys.stderr)


def terminal_prompt(text: str) -> str:
    """Ask on the terminal without echo; ``VaultError`` when there is no terminal."""
    if not sys.stdin.isatty():
        raise VaultError("no terminal to ask for the vault password: "
                         "use --vault-password-file or --vault-id ID@FILE")
    try:
        return getpass.getpass(text)
    except EOFError:
        raise VaultError("no vault password entered") from None


def split_vault_id(spec: str) -> tuple[str, str]:
    """``ID@SOURCE`` -> (ID, SOURCE); a bare ``SOURCE`` is the default id's."""
    vault_id, at, source = spec.partition("@")
    if not at:
        vault_id, source = DEFAULT_ID, spec
    if not source:
        raise VaultError(f"--vault-id {spec!r}: expected ID@FILE, ID@prompt, FILE or prompt")
    return check_vault_id(vault_id), source


def _first_line(data: bytes) -> bytes:
    return data.split(b"\n", 1)[0].rstrip(b"\r")


def _is_client_script(path: Path) -> bool:
    return path.name.split(".", 1)[0].endswith("-client")


def read_password_source(path: str, vault_id: str = DEFAULT_ID, warn: Warn | None = None) -> bytes:
    """The password in a file, or printed by an executable; ``VaultError`` if none."""
    file = Path(path).expanduser()
    try:
        info = file.stat()
    except OSError as exc:
        raise VaultError(f"cannot read vault password file {path}: {exc.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        raise VaultError(f"vault password file {path} is not a regular file")
    if os.access(file, os.X_OK):
        password = _run_password_script(file, vault_id)
    else:
        if info.st_mode & 0o044:
            (warn or _stderr_warning)(
                f"vault password file {path} can be read by other users "
                f"(mode {stat.S_IMODE(info.st_mode):04o}): chmod 600 {path}")
        try:
            password = _first_line(file.read_bytes())
        except OSError as exc:
            raise VaultError(f"cannot read vault password file {path}: {exc.strerror}") from None
        if not password:
            raise VaultError(f"vault password file {path} is empty (its first line is the password)")
    return password


def _run_password_script(file: Path, vault_id: str) -> bytes:
    args = [str(file)] + (["--vault-id", vault_id] if _is_client_script(file) else [])
    try:
        # stdin and stderr stay the user's: a script may ask (gpg, a password manager).
        done = subprocess.run(args, stdout=subprocess.PIPE, check=False)
    except OSError as exc:
        raise VaultError(f"cannot run vault password script {file}: {exc.strerror}") from None
    if done.returncode == 2 and _is_client_script(file):
        raise VaultError(f"vault password client {file} has no password for vault id {vault_id!r}")
    if done.returncode != 0:
        raise VaultError(f"vault password script {file} failed (exit status {done.returncode})")
    password = _first_line(done.stdout)
    if not password:
        raise VaultError(f"vault password script {file} printed no password")
    return password


def prompt_secret(vault_id: str, prompt: Prompt | None = None, confirm: bool = False) -> VaultSecret:
    """Ask for ``vault_id``'s password (twice when ``confirm``: a new password)."""
    ask = prompt or terminal_prompt
    label = "" if vault_id == DEFAULT_ID else f" ({vault_id})"
    kind = "New vault password" if confirm else "Vault password"
    password = ask(f"{kind}{label}: ")
    if not password:
        raise VaultError(f"empty vault password entered (vault id {vault_id!r})")
    if confirm and ask(f"Confirm {kind.lower()}{label}: ") != password:
        raise VaultError("the vault passwords entered do not match")
    return VaultSecret(vault_id, password.encode("utf-8"), PROMPT)


def load_secret(vault_id: str, source: str, prompt: Prompt | None = None, confirm: bool = False,
                warn: Warn | None = None) -> VaultSecret:
    """The secret for ``vault_id`` from ``source``: a path, or ``prompt``."""
    if source == PROMPT:
        return prompt_secret(vault_id, prompt, confirm)
    return VaultSecret(check_vault_id(vault_id), read_password_source(source, vault_id, warn), source)


def keyring_from_options(password_files: Iterable[str] = (), vault_ids: Iterable[str] = (),
                         ask: bool = False, *, confirm: bool = False, prompt: Prompt | None = None,
                         env: Mapping[str, str] | None = None,
                         warn: Warn | None = None) -> VaultKeyring | None:
    """The keyring the command-line options describe, or None when they give no password.

    Order of the secrets: ``--vault-id`` ones, then ``--vault-password-file`` ones, then the
    ``--ask-vault-pass`` prompt; the environment's file only when no option was given.
    ``confirm`` asks prompted passwords twice (for encrypting). ``prompt``/``env``/``warn``
    replace the terminal, ``os.environ`` and stderr (tests).
    """
    environ = os.environ if env is None else env
    secrets = [load_secret(*split_vault_id(spec), prompt=prompt, confirm=confirm, warn=warn)
               for spec in vault_ids]
    secrets += [load_secret(DEFAULT_ID, path, warn=warn) for path in password_files]
    if ask:
        secrets.append(prompt_secret(DEFAULT_ID, prompt, confirm))
    if not secrets:
        for name in ENV_VARS:
            if environ.get(name):
                try:
                    secrets.append(load_secret(DEFAULT_ID, environ[name], warn=warn))
                except VaultError as exc:
                    raise VaultError(f"${name}: {exc.message}") from None
                break
    return VaultKeyring(secrets) if secrets else None
