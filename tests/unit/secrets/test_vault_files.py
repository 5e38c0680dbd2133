"""Vault-encrypted files work wherever a vars file does, inline values anywhere a value does,
and every decrypted value becomes a secret of the run."""

from __future__ import annotations

from pathlib import Path

import pytest

from fleet import api
from fleet.cli.common import parse_extra_vars
from fleet.cli.vault import vault_yaml
from fleet.errors import InputError
from fleet.secrets import Secrets
from fleet.vault import VaultKeyring, VaultSecret

KEYRING = VaultKeyring([VaultSecret("default", b"pw-for-tests")])


def _site(tmp_path: Path) -> Path:
    enc = KEYRING.encrypt
    (tmp_path / "inventory").mkdir()
    (tmp_path / "inventory" / "hosts.ini").write_text("[web]\nw1 ansible_connection=local\n")
    (tmp_path / "inventory" / "host_vars").mkdir()
    (tmp_path / "inventory" / "host_vars" / "w1.yml").write_text(enc("from_host_vars: hv-secret-1\n"))
    (tmp_path / "play_vars.yml").write_text(enc("from_vars_files: vf-secret-2\n"))
    role = tmp_path / "roles" / "app"
    (role / "vars").mkdir(parents=True)
    (role / "defaults").mkdir()
    (role / "tasks").mkdir()
    (role / "vars" / "main.yml").write_text(enc("from_role_vars: rv-secret-3\n"))
    (role / "defaults" / "main.yml").write_text("from_inline: " + vault_yaml(enc("il-secret-4")))
    (role / "tasks" / "main.yml").write_text("- debug: msg=hi\n")
    (tmp_path / "extra.yml").write_text(enc("from_extra: ex-secret-5\n"))
    playbook = tmp_path / "site.yml"
    playbook.write_text("- hosts: web\n  gather_facts: false\n  vars_files: [play_vars.yml]\n  roles: [app]\n")
    return playbook


def test_every_vars_file_kind_decrypts_and_becomes_secret(tmp_path: Path) -> None:
    playbook = _site(tmp_path)
    secrets = Secrets(KEYRING)
    extra = parse_extra_vars((f"@{tmp_path / 'extra.yml'}",), secrets)
    prepared = api.prepare(playbook, [str(tmp_path / "inventory" / "hosts.ini")],
                           api.RunOptions(extra_vars=extra, secrets=secrets))
    variables = api.host_vars(prepared.inventory, "w1", prepared, extra)
    assert [variables[name] for name in ("from_host_vars", "from_vars_files", "from_role_vars", "from_inline",
                                         "from_extra")] == [
        "hv-secret-1", "vf-secret-2", "rv-secret-3", "il-secret-4", "ex-secret-5"]
    text = " ".join(["hv-secret-1", "vf-secret-2", "rv-secret-3", "il-secret-4", "ex-secret-5"])
    assert secrets.redact(text) == " ".join(["********"] * 5)


def test_without_a_password_the_file_is_named(tmp_path: Path) -> None:
    playbook = _site(tmp_path)
    with pytest.raises(InputError) as info:
        api.prepare(playbook, [str(tmp_path / "inventory" / "hosts.ini")], api.RunOptions(secrets=Secrets()))
    assert "no vault password was given" in str(info.value)
    assert str(info.value.location).endswith(".yml:1")


def test_an_inline_value_nobody_uses_needs_no_password(tmp_path: Path) -> None:
    (tmp_path / "hosts.yml").write_text(
        "all:\n  hosts:\n    h1:\n      unused: " + vault_yaml(KEYRING.encrypt("x-secret")).replace("\n", "\n  ")
        + "\n      used: plain\n")
    inventory = api.load_inventory([str(tmp_path / "hosts.yml")], Secrets())
    variables = api.host_vars(inventory, "h1")
    assert variables["used"] == "plain"
    with pytest.raises(InputError, match="no vault password"):
        variables["unused"]
