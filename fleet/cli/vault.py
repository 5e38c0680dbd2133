"""``fleet vault``: create, edit, view, encrypt, decrypt and rekey vault files; encrypt values.

The password options every command takes are in :mod:`fleet.cli.vaultopts`.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Mapping
from typing import Any

import click

from fleet.cli.common import fail, handle_errors
from fleet.cli.vaultopts import keyring_from_params, vault_options
from fleet.vault import (
    DEFAULT_ID,
    EditInterrupted,
    Format,
    VaultError,
    VaultKeyring,
    VaultSecret,
    edit_in_private,
    encrypt_with,
    is_encrypted,
    keyring_from_options,
    parse_envelope,
    prompt_secret,
    read_file,
    write_atomic,
)

FORMATS = click.Choice(["fleet", "ansible"])


def _keyring(params: Mapping[str, Any], new: bool = False) -> VaultKeyring:
    """The command's keyring; without any password option, ask on the terminal."""
    keyring = keyring_from_params(params, confirm=new)
    if keyring is None:
        if not sys.stdin.isatty():
            raise VaultError("no vault password given: use --vault-password-file, --vault-id or "
                             "--ask-vault-pass, or set FLEET_VAULT_PASSWORD_FILE")
        keyring = VaultKeyring([prompt_secret(DEFAULT_ID, confirm=new)])
    return keyring


def _encrypting_secret(params: Mapping[str, Any]) -> VaultSecret:
    return _keyring(params, new=True).secret_for(params.get("encrypt_vault_id"))


def _note(message: str) -> None:
    click.echo(message, err=True)


ANSIBLE_FORMAT_WARNING = (
    "warning: Ansible's vault format is weaker than fleet's: its key is PBKDF2-SHA256 with "
    "10,000 iterations (fleet's: scrypt n=2^17, 128 MiB per guess, far costlier to brute-force "
    "on GPUs) and its header is not authenticated; write it only for files ansible-vault must read")


def _format(format_: Format) -> Format:
    """The envelope format to write; Ansible's with a warning that it is weaker."""
    if format_ == "ansible":
        _note(ANSIBLE_FORMAT_WARNING)
    return format_


def _edit(content: bytes, file: str) -> bytes:
    """``$EDITOR`` on a private copy; a signal that ends it exits 128 + its number, as a
    shell reports a command killed by it (the copy is gone, nothing was saved)."""
    try:
        return edit_in_private(content, file, note=_note)
    except EditInterrupted as exc:
        fail(f"{file}: {exc}", 128 + exc.signum)


def _read_input(path: str) -> bytes:
    return sys.stdin.buffer.read() if path == "-" else read_file(path)


def _write_output(path: str, data: bytes) -> None:
    if path == "-":
        out = sys.stdout.buffer
        out.write(data)
        out.flush()
    else:
        write_atomic(path, data)


def _outputs(sources: tuple[str, ...], output: str | None) -> list[str]:
    if output is not None and len(sources) > 1:
        raise VaultError("--output takes one input file")
    if len(set(sources)) != len(sources):
        raise VaultError("a file is named twice")
    return [output if output is not None else ("-" if src == "-" else src) for src in sources]


encrypt_vault_id_option = click.option(
    "--encrypt-vault-id", metavar="ID", help="The vault id to encrypt with (when several are given).")
format_option = click.option(
    "--format", "format_", type=FORMATS, default=None,
    help="Envelope to write: fleet's (default) or Ansible's (1.1/1.2, readable by ansible-vault; "
         "weaker: PBKDF2 with 10,000 iterations, header not authenticated).")
output_option = click.option("--output", metavar="PATH", help="Write here instead of in place ('-' = stdout).")


@click.group("vault")
def vault() -> None:
    """Encrypted files and values (fleet's format; Ansible vault files are read too).

    The password comes from --vault-password-file, --vault-id ID@SOURCE, --ask-vault-pass or
    $FLEET_VAULT_PASSWORD_FILE; on a terminal fleet asks when none is given.
    """


@vault.command("create")
@vault_options
@encrypt_vault_id_option
@format_option
@click.argument("file")
@handle_errors
def create(file: str, format_: Format | None, **params: Any) -> None:
    """Write a new encrypted FILE with $EDITOR."""
    if os.path.lexists(file):
        raise VaultError(f"{file} already exists: use 'fleet vault edit {file}'")
    secret = _encrypting_secret(params)
    format_ = _format(format_ or "fleet")
    content = _edit(b"", file)
    if not content:
        _note(f"nothing written: {file} not created")
        return
    write_atomic(file, encrypt_with(secret, content, format_).encode(), exclusive=True)
    _note(f"{file}: created, encrypted with vault id {secret.vault_id!r}")


@vault.command("edit")
@vault_options
@click.argument("file")
@handle_errors
def edit(file: str, **params: Any) -> None:
    """Edit the encrypted FILE with $EDITOR; re-encrypt (same id and format) if it changed."""
    data = read_file(file)
    if not is_encrypted(data):
        raise VaultError(f"{file} is not vault-encrypted: use 'fleet vault encrypt {file}'")
    opened = _keyring(params).open(data, file)
    content = _edit(opened.plaintext, file)
    if content == opened.plaintext:
        _note(f"{file}: no changes")
        return
    write_atomic(file, encrypt_with(opened.secret, content,
                                                _format(opened.envelope.format)).encode())
    _note(f"{file}: saved")


@vault.command("view")
@vault_options
@click.argument("files", nargs=-1, required=True, metavar="FILE...")
@handle_errors
def view(files: tuple[str, ...], **params: Any) -> None:
    """Print the decrypted FILEs ('-' = stdin)."""
    keyring = _keyring(params)
    for file in files:
        data = _read_input(file)
        where = "<stdin>" if file == "-" else file
        if not is_encrypted(data):
            raise VaultError(f"{where} is not vault-encrypted")
        _write_output("-", keyring.decrypt_bytes(data, where))


@vault.command("encrypt")
@vault_options
@encrypt_vault_id_option
@format_option
@output_option
@click.argument("files", nargs=-1, required=True, metavar="FILE...")
@handle_errors
def encrypt(files: tuple[str, ...], output: str | None, format_: Format | None, **params: Any) -> None:
    """Encrypt FILEs in place (or to --output; '-' = stdin)."""
    targets = _outputs(files, output)
    contents = [_read_input(file) for file in files]
    for file, data in zip(files, contents, strict=True):
        if is_encrypted(data):
            raise VaultError(f"{file} is already vault-encrypted")
    secret = _encrypting_secret(params)
    format_ = _format(format_ or "fleet")
    for file, data, target in zip(files, contents, targets, strict=True):
        _write_output(target, encrypt_with(secret, data, format_).encode())
        if target != "-":
            _note(f"{file}: encrypted" + (f" to {target}" if target != file else ""))


@vault.command("decrypt")
@vault_options
@output_option
@click.argument("files", nargs=-1, required=True, metavar="FILE...")
@handle_errors
def decrypt(files: tuple[str, ...], output: str | None, **params: Any) -> None:
    """Decrypt FILEs in place (or to --output; '-' = stdin). Nothing is written unless all open."""
    targets = _outputs(files, output)
    contents = [_read_input(file) for file in files]
    for file, data in zip(files, contents, strict=True):
        if not is_encrypted(data):
            raise VaultError(f"{file} is not vault-encrypted")
    keyring = _keyring(params)
    plain = [keyring.decrypt_bytes(data, "<stdin>" if file == "-" else file)
             for file, data in zip(files, contents, strict=True)]
    for file, data, target in zip(files, plain, targets, strict=True):
        _write_output(target, data)
        if target != "-":
            _note(f"{file}: decrypted" + (f" to {target}" if target != file else ""))


@vault.command("rekey")
@vault_options
@click.option("--new-vault-password-file", multiple=True, metavar="PATH",
              help="The new password: a file or an executable.")
@click.option("--new-vault-id", multiple=True, metavar="ID@SOURCE",
              help="The new vault id and its password source ('prompt' asks).")
@format_option
@click.argument("files", nargs=-1, required=True, metavar="FILE...")
@handle_errors
def rekey(files: tuple[str, ...], new_vault_password_file: tuple[str, ...],
          new_vault_id: tuple[str, ...], format_: Format | None, **params: Any) -> None:
    """Re-encrypt FILEs with a new password (and id). Nothing is written unless all open."""
    contents = [read_file(file) for file in files]
    for file, data in zip(files, contents, strict=True):
        if not is_encrypted(data):
            raise VaultError(f"{file} is not vault-encrypted")
        parse_envelope(data, file)
    keyring = _keyring(params)
    opened = [keyring.open(data, file) for file, data in zip(files, contents, strict=True)]
    new = keyring_from_options(new_vault_password_file, new_vault_id, False, confirm=True, env={})
    if new is None:
        if not sys.stdin.isatty():
            raise VaultError("no new vault password: use --new-vault-password-file or --new-vault-id")
        new = VaultKeyring([prompt_secret(DEFAULT_ID, confirm=True)])
    secret = new.secret_for(None)
    if format_ == "ansible" or (format_ is None and any(f.envelope.format == "ansible" for f in opened)):
        _note(ANSIBLE_FORMAT_WARNING)
    for file, found in zip(files, opened, strict=True):
        write_atomic(file, encrypt_with(secret, found.plaintext,
                                                    format_ or found.envelope.format).encode())
        _note(f"{file}: rekeyed (vault id {secret.vault_id!r})")


_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def vault_yaml(envelope: str, name: str | None = None, indent: int = 10) -> str:
    """``NAME: !vault |`` and the envelope indented: an inline value for a YAML vars file."""
    body = "".join(" " * indent + line + "\n" for line in envelope.splitlines())
    if name is None:
        return "!vault |\n" + body
    key = name if _PLAIN_KEY.fullmatch(name) else json.dumps(name)
    return f"{key}: !vault |\n{body}"


@vault.command("encrypt-string")
@vault_options
@encrypt_vault_id_option
@format_option
@click.option("-n", "--name", metavar="NAME", help="The variable name to print before the value.")
@click.option("--stdin-name", metavar="NAME", help="Read the value from stdin, name it NAME.")
@click.argument("value", required=False)
@handle_errors
def encrypt_string(value: str | None, name: str | None, stdin_name: str | None,
                   format_: Format | None, **params: Any) -> None:
    """Print VALUE encrypted as YAML ('NAME: !vault |' ...); no VALUE or '-' reads stdin.

    A value read from stdin is taken exactly, a trailing newline included (printf '%s' avoids it).
    """
    if stdin_name is not None:
        if name is not None or value not in (None, "-"):
            raise VaultError("--stdin-name reads the value from stdin: give no VALUE and no --name")
        name = stdin_name
    if value is None or value == "-":
        if sys.stdin.isatty():
            _note("Reading the value from stdin (end with Ctrl-D)")
        raw = sys.stdin.buffer.read()
        if not raw:
            raise VaultError("nothing to encrypt: stdin was empty")
        if raw.endswith(b"\n"):
            _note("note: the value read from stdin ends with a newline, which is encrypted too")
        data = raw
    else:
        data = value.encode("utf-8")
    secret = _encrypting_secret(params)
    click.echo(vault_yaml(encrypt_with(secret, data, _format(format_ or "fleet")), name), nl=False)
