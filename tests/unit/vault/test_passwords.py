"""Password sources: files, executables, client scripts, --vault-id, prompts, the environment."""

from __future__ import annotations

import io
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from fleet.vault import VaultError, VaultKeyring, keyring_from_options
from fleet.vault.passwords import split_vault_id, terminal_prompt

NO_ENV: dict[str, str] = {}


def passwords(ring: VaultKeyring | None) -> list[tuple[str, bytes]]:
    assert ring is not None
    return [(s.vault_id, s.password) for s in ring.secrets]


def test_nothing_given() -> None:
    assert keyring_from_options([], [], False, env=NO_ENV) is None


def test_file_first_line(tmp_path: Path, password_file: Callable[..., Path]) -> None:
    path = password_file()
    path.write_bytes(b" pass word \r\nsecond line\n")
    assert passwords(keyring_from_options([str(path)], env=NO_ENV)) == [("default", b" pass word ")]
    path.write_bytes(b"no-newline")
    assert passwords(keyring_from_options([str(path)], env=NO_ENV)) == [("default", b"no-newline")]


@pytest.mark.parametrize("content", [b"", b"\n", b"\r\nlater\n"])
def test_empty_file(password_file: Callable[..., Path], content: bytes) -> None:
    path = password_file()
    path.write_bytes(content)
    with pytest.raises(VaultError, match=f"vault password file {path} is empty"):
        keyring_from_options([str(path)], env=NO_ENV)


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(VaultError, match="cannot read vault password file .*/nope: No such file"):
        keyring_from_options([str(tmp_path / "nope")], env=NO_ENV)
    with pytest.raises(VaultError, match="is not a regular file"):
        keyring_from_options([str(tmp_path)], env=NO_ENV)


def test_readable_by_others_warns(password_file: Callable[..., Path]) -> None:
    warnings: list[str] = []
    keyring_from_options([str(password_file(mode=0o644))], env=NO_ENV, warn=warnings.append)
    assert len(warnings) == 1 and "can be read by other users (mode 0644): chmod 600" in warnings[0]
    warnings.clear()
    keyring_from_options([str(password_file(mode=0o600))], env=NO_ENV, warn=warnings.append)
    keyring_from_options([str(password_file(mode=0o400))], env=NO_ENV, warn=warnings.append)
    assert warnings == []


def test_default_warning_goes_to_stderr(password_file: Callable[..., Path],
                                        capsys: pytest.CaptureFixture[str]) -> None:
    keyring_from_options([str(password_file(mode=0o640))], env=NO_ENV)
    assert capsys.readouterr().err.startswith("WARNING: vault password file ")


def test_executable(script: Callable[..., Path]) -> None:
    path = script("echo 'from script'; echo ignored")
    assert passwords(keyring_from_options([str(path)], env=NO_ENV)) == [("default", b"from script")]
    with pytest.raises(VaultError, match=r"vault password script .* failed \(exit status 3\)"):
        keyring_from_options([str(script("echo pw; exit 3"))], env=NO_ENV)
    with pytest.raises(VaultError, match="printed no password"):
        keyring_from_options([str(script("true"))], env=NO_ENV)


def test_executable_that_cannot_run(tmp_path: Path) -> None:
    path = tmp_path / "not-a-script"
    path.write_bytes(b"\x7fELF garbage")
    path.chmod(0o700)
    with pytest.raises(VaultError, match="cannot run vault password script"):
        keyring_from_options([str(path)], env=NO_ENV)


def test_client_script_gets_the_vault_id(script: Callable[..., Path]) -> None:
    body = 'if [ "$1 $2" = "--vault-id prod" ]; then echo prodpw; else exit 2; fi'
    path = script(body, name="vault-keyring-client.sh")
    assert passwords(keyring_from_options([], [f"prod@{path}"], env=NO_ENV)) == [("prod", b"prodpw")]
    with pytest.raises(VaultError, match="has no password for vault id 'dev'"):
        keyring_from_options([], [f"dev@{path}"], env=NO_ENV)


def test_vault_ids_and_their_order(password_file: Callable[..., Path]) -> None:
    prod, dev, plain = password_file("p", "prod.pw"), password_file("d", "dev.pw"), password_file("x", "x.pw")
    ring = keyring_from_options([str(plain)], [f"prod@{prod}", str(dev), "qa@prompt"], True,
                                prompt=lambda text: {"Vault password (qa): ": "q",
                                                     "Vault password: ": "asked"}[text], env=NO_ENV)
    assert passwords(ring) == [("prod", b"p"), ("default", b"d"), ("qa", b"q"),
                               ("default", b"x"), ("default", b"asked")]
    assert ring is not None and ring.ids == ("prod", "default", "qa")


def test_split_vault_id() -> None:
    assert split_vault_id("prod@/a/b") == ("prod", "/a/b")
    assert split_vault_id("/a/b") == ("default", "/a/b")
    assert split_vault_id("prod@x@y") == ("prod", "x@y")
    for bad in ("@file", "prod@", "a b@file"):
        with pytest.raises(VaultError):
            split_vault_id(bad)


def test_confirmed_prompt() -> None:
    answers = iter(["new", "new"])
    ring = keyring_from_options(ask=True, confirm=True, prompt=lambda _: next(answers), env=NO_ENV)
    assert passwords(ring) == [("default", b"new")]
    answers = iter(["new", "other"])
    with pytest.raises(VaultError, match="do not match"):
        keyring_from_options(ask=True, confirm=True, prompt=lambda _: next(answers), env=NO_ENV)
    with pytest.raises(VaultError, match="empty vault password entered"):
        keyring_from_options(ask=True, prompt=lambda _: "", env=NO_ENV)


def test_no_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("typed\n"))
    with pytest.raises(VaultError, match="no terminal to ask for the vault password"):
        terminal_prompt("Vault password: ")
    with pytest.raises(VaultError, match="no terminal"):
        keyring_from_options(ask=True, env=NO_ENV)


def test_environment(password_file: Callable[..., Path]) -> None:
    fleet_pw, ansible_pw, option = password_file("f", "f.pw"), password_file("a", "a.pw"), password_file("o", "o.pw")
    both = {"FLEET_VAULT_PASSWORD_FILE": str(fleet_pw), "ANSIBLE_VAULT_PASSWORD_FILE": str(ansible_pw)}
    assert passwords(keyring_from_options(env=both)) == [("default", b"f")]
    assert passwords(keyring_from_options(env={"ANSIBLE_VAULT_PASSWORD_FILE": str(ansible_pw)})) == [("default", b"a")]
    assert passwords(keyring_from_options([str(option)], env=both)) == [("default", b"o")]
    with pytest.raises(VaultError, match=r"^\$FLEET_VAULT_PASSWORD_FILE: cannot read vault password file"):
        keyring_from_options(env={"FLEET_VAULT_PASSWORD_FILE": str(fleet_pw) + ".missing"})
