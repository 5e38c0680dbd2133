"""The vault password options every command that reads vaulted data takes.

``vault_options`` adds them to a command; ``keyring_from_params`` turns its parameters into a
``VaultKeyring`` (or None when no password was given). They live apart from ``fleet vault``
(:mod:`fleet.cli.vault`) so that :mod:`fleet.cli.common` can use them without importing it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

import click

from fleet.vault import VaultKeyring, keyring_from_options


def vault_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``--vault-password-file``, ``--vault-id``, ``--ask-vault-pass`` (Ansible's names).

    The command receives ``vault_password_file`` (tuple), ``vault_id`` (tuple) and
    ``ask_vault_pass`` (bool); pass its parameters to ``keyring_from_params``.
    """
    options = [
        click.option("--vault-password-file", "vault_password_file", multiple=True, metavar="PATH",
                     help="Vault password: a file (first line) or an executable printing it "
                          "(repeatable; default $FLEET_VAULT_PASSWORD_FILE)."),
        click.option("--vault-id", "vault_id", multiple=True, metavar="ID@SOURCE",
                     help="A vault id and its password source: a file, an executable or "
                          "'prompt' (repeatable)."),
        click.option("-J", "--ask-vault-pass", "--ask-vault-password", "ask_vault_pass",
                     is_flag=True, help="Ask for the vault password."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def keyring_from_params(params: Mapping[str, Any], confirm: bool = False,
                        config_file: str | None = None) -> VaultKeyring | None:
    """The keyring of a command decorated with ``vault_options`` (None: no password given).

    ``config_file``: ansible.cfg's ``vault_password_file`` (or ``ANSIBLE_VAULT_PASSWORD_FILE``),
    used when no option and no ``FLEET_VAULT_PASSWORD_FILE`` gives a password."""
    given = params.get("vault_password_file") or params.get("vault_id") or params.get("ask_vault_pass")
    if config_file and not given and not os.environ.get("FLEET_VAULT_PASSWORD_FILE"):
        params = {**params, "vault_password_file": (config_file,)}
    return keyring_from_options(params.get("vault_password_file") or (),
                                params.get("vault_id") or (),
                                bool(params.get("ask_vault_pass")), confirm=confirm)
