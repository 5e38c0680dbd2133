"""``fleet vault`` end to end (click's runner; one subprocess for the real exit and stderr)."""

from __future__ import annotations

import json
import stat
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result

from fleet.cli import cli
from fleet.vault import VaultKeyring, VaultSecret, is_encrypted, parse_envelope
from tests.conftest import fleet
from tests.unit.vault.conftest import PASSWORD
from tests.unit.vault.test_ansible_format import ANSIBLE_12

# $EDITOR for the tests: records the file it got (path, modes), then does what $EDIT_ACTION says.
EDITOR = """\
import json, os, stat, sys
path = sys.argv[-1]
with open(os.environ["EDIT_LOG"], "a") as log:
    log.write(json.dumps({"path": path, "content": open(path).read(),
                          "mode": stat.S_IMODE(os.stat(path).st_mode),
                          "dir_mode": stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode)}) + "\\n")
action = os.environ.get("EDIT_ACTION", "append")
if action == "append":
    with open(path, "a") as f:
        f.write(os.environ.get("EDIT_TEXT", "added: line\\n"))
elif action == "replace":  # as vim does: a new file renamed over the old one
    with open(path + ".new", "w") as f:
        f.write(os.environ["EDIT_TEXT"])
    os.replace(path + ".new", path)
elif action == "swapfile":
    open(path + ".swp", "w").write("plaintext in a swap file")
    with open(path, "a") as f:
        f.write("more: 1\\n")
elif action == "fail":
    open(path, "a").write("half: done\\n")
    sys.exit(3)
"""


@pytest.fixture
def env(tmp_path: Path, password_file: Callable[..., Path]) -> dict[str, str]:
    editor = tmp_path / "editor.py"
    editor.write_text(EDITOR)
    password_file()
    return {"EDITOR": f"{sys.executable} {editor}", "EDIT_LOG": str(tmp_path / "edits.jsonl"),
            "FLEET_VAULT_PASSWORD_FILE": str(tmp_path / "vault.pw"), "NO_COLOR": "1"}


def vault(env: dict[str, str], *args: str, input: str | bytes | None = None, **extra: str) -> Result:
    return CliRunner().invoke(cli, ["vault", *args], env={**env, **extra}, input=input,
                              catch_exceptions=False)


def edits(env: dict[str, str]) -> list[dict[str, object]]:
    log = Path(env["EDIT_LOG"])
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def ring(*ids: str, password: str = PASSWORD) -> VaultKeyring:
    return VaultKeyring([VaultSecret(i, password.encode()) for i in ids or ("default",)])


def one_error(result: Result, message: str) -> None:
    assert result.exit_code == 1, result.output
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("ERROR: "), result.stderr
    assert message in result.stderr, result.stderr
    assert "Traceback" not in result.output


def test_encrypt_view_decrypt_keep_the_mode(tmp_path: Path, env: dict[str, str]) -> None:
    path = tmp_path / "secrets.yml"
    path.write_text("token: abc\n")
    path.chmod(0o640)
    result = vault(env, "encrypt", str(path))
    assert result.exit_code == 0, result.output
    assert path.read_text().startswith("$FLEET_VAULT;2;AES256-GCM;SCRYPT;default\n")
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert vault(env, "view", str(path)).stdout == "token: abc\n"
    assert vault(env, "decrypt", str(path)).exit_code == 0
    assert path.read_text() == "token: abc\n" and stat.S_IMODE(path.stat().st_mode) == 0o640
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_refusals(tmp_path: Path, env: dict[str, str]) -> None:
    plain, secret = tmp_path / "plain.yml", tmp_path / "secret.yml"
    plain.write_text("a: 1\n")
    secret.write_text(ring().encrypt("b: 2\n"))
    before = secret.read_bytes()
    one_error(vault(env, "encrypt", str(secret)), f"{secret} is already vault-encrypted")
    one_error(vault(env, "decrypt", str(plain)), f"{plain} is not vault-encrypted")
    one_error(vault(env, "edit", str(plain)), "is not vault-encrypted: use 'fleet vault encrypt")
    one_error(vault(env, "create", str(plain)), "already exists: use 'fleet vault edit")
    one_error(vault(env, "view", str(tmp_path / "none.yml")), "cannot read")
    one_error(vault(env, "encrypt", "--output", "x", str(plain), str(secret)), "--output takes one input file")
    assert secret.read_bytes() == before and plain.read_text() == "a: 1\n"


def test_wrong_password(tmp_path: Path, env: dict[str, str], password_file: Callable[..., Path]) -> None:
    path = tmp_path / "secret.yml"
    path.write_text(ring().encrypt("b: 2\n"))
    wrong = password_file("wrong", "wrong.pw")
    one_error(vault(env, "view", "--vault-password-file", str(wrong), str(path)),
              f"{path}: decryption failed: wrong password or the data was modified")


def test_view_wrong_password_subprocess(tmp_path: Path, password_file: Callable[..., Path]) -> None:
    """The real command: exit 1, one line on stderr, nothing on stdout, no traceback."""
    path = tmp_path / "secret.yml"
    path.write_text(ring().encrypt("b: 2\n"))
    done = fleet("vault", "view", "--vault-password-file", str(password_file("wrong", "wrong.pw")),
                 str(path), cwd=tmp_path, env={"FLEET_VAULT_PASSWORD_FILE": ""})
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr == (f"ERROR: {path}: decryption failed: wrong password or the data was "
                           "modified (vault id 'default'; tried: default)\n")


def test_no_password_without_terminal(tmp_path: Path, env: dict[str, str]) -> None:
    path = tmp_path / "secret.yml"
    path.write_text(ring().encrypt("b: 2\n"))
    one_error(vault(env, "view", str(path), FLEET_VAULT_PASSWORD_FILE=""), "no vault password given")


def test_stdin_and_output(tmp_path: Path, env: dict[str, str]) -> None:
    encrypted = vault(env, "encrypt", "-", input="from: stdin\n").stdout
    assert ring().decrypt(encrypted) == "from: stdin\n"
    assert vault(env, "decrypt", "-", input=encrypted).stdout == "from: stdin\n"
    assert vault(env, "view", "-", input=encrypted).stdout == "from: stdin\n"
    source, target = tmp_path / "in.yml", tmp_path / "out.yml"
    source.write_text("x: 1\n")
    assert vault(env, "encrypt", "--output", str(target), str(source)).exit_code == 0
    assert source.read_text() == "x: 1\n" and stat.S_IMODE(target.stat().st_mode) == 0o600
    assert vault(env, "decrypt", "--output", "-", str(target)).stdout == "x: 1\n"
    assert is_encrypted(target.read_text())


def test_binary_file(tmp_path: Path, env: dict[str, str]) -> None:
    path = tmp_path / "key.p12"
    data = bytes(range(256)) * 10
    path.write_bytes(data)
    assert vault(env, "encrypt", str(path)).exit_code == 0
    assert vault(env, "decrypt", str(path)).exit_code == 0
    assert path.read_bytes() == data


def test_decrypt_all_or_nothing(tmp_path: Path, env: dict[str, str]) -> None:
    good, bad = tmp_path / "good.yml", tmp_path / "bad.yml"
    good.write_text(ring().encrypt("g: 1\n"))
    bad.write_text(ring(password="other").encrypt("b: 1\n"))
    before = good.read_bytes()
    one_error(vault(env, "decrypt", str(good), str(bad)), f"{bad}: decryption failed")
    assert good.read_bytes() == before


def test_create(tmp_path: Path, env: dict[str, str]) -> None:
    path = tmp_path / "new.yml"
    result = vault(env, "create", str(path), EDIT_TEXT="db: secret\n")
    assert result.exit_code == 0, result.output
    assert ring().decrypt(path.read_text()) == "db: secret\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    [edit] = edits(env)
    assert edit["content"] == "" and edit["mode"] == 0o600 and edit["dir_mode"] == 0o700
    assert str(edit["path"]).endswith("/new.yml") and not Path(str(edit["path"])).parent.exists()


def test_create_nothing_written(tmp_path: Path, env: dict[str, str]) -> None:
    path = tmp_path / "new.yml"
    result = vault(env, "create", str(path), EDIT_ACTION="none")
    assert result.exit_code == 0 and "not created" in result.stderr
    assert not path.exists()


def test_edit_leaves_no_plaintext(tmp_path: Path, env: dict[str, str]) -> None:
    path = tmp_path / "secret.yml"
    path.write_text(ring().encrypt("a: 1\n"))
    path.chmod(0o640)
    result = vault(env, "edit", str(path), EDIT_ACTION="swapfile")
    assert result.exit_code == 0, result.output
    assert ring().decrypt(path.read_text()) == "a: 1\nmore: 1\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    [edit] = edits(env)
    assert edit["content"] == "a: 1\n" and edit["mode"] == 0o600 and edit["dir_mode"] == 0o700
    temp = Path(str(edit["path"]))
    assert not temp.exists() and not temp.parent.exists()  # the swap file went with it


def test_edit_replaced_file_and_no_change(tmp_path: Path, env: dict[str, str]) -> None:
    path = tmp_path / "secret.yml"
    path.write_text(ring().encrypt("a: 1\n"))
    assert vault(env, "edit", str(path), EDIT_ACTION="replace", EDIT_TEXT="b: 2\n").exit_code == 0
    assert ring().decrypt(path.read_text()) == "b: 2\n"
    before = path.read_bytes()
    result = vault(env, "edit", str(path), EDIT_ACTION="none")
    assert result.exit_code == 0 and "no changes" in result.stderr
    assert path.read_bytes() == before


def test_edit_failing_editor(tmp_path: Path, env: dict[str, str]) -> None:
    path = tmp_path / "secret.yml"
    path.write_text(ring().encrypt("a: 1\n"))
    before = path.read_bytes()
    one_error(vault(env, "edit", str(path), EDIT_ACTION="fail"), "the editor exited with status 3")
    assert path.read_bytes() == before
    assert not Path(str(edits(env)[0]["path"])).parent.exists()
    one_error(vault(env, "edit", str(path), EDITOR="/nonexistent/editor"), "cannot start the editor")


def test_edit_keeps_ansible_format_and_id(tmp_path: Path, env: dict[str, str],
                                          password_file: Callable[..., Path]) -> None:
    path = tmp_path / "from-ansible.yml"
    path.write_text(ANSIBLE_12)
    pw = password_file(name="prod.pw")
    assert vault(env, "edit", "--vault-id", f"prod@{pw}", str(path)).exit_code == 0
    envelope = parse_envelope(path.read_text())
    assert (envelope.format, envelope.vault_id) == ("ansible", "prod")
    assert ring("prod").decrypt(path.read_text()) == "db_password: hunter2\nadded: line\n"


def test_rekey(tmp_path: Path, env: dict[str, str], password_file: Callable[..., Path]) -> None:
    one, two = tmp_path / "one.yml", tmp_path / "two.yml"
    one.write_text(ring().encrypt("one: 1\n"))
    two.write_text(ANSIBLE_12)
    new = password_file("new-password", "new.pw")
    result = vault(env, "rekey", "--new-vault-id", f"prod@{new}", str(one), str(two))
    assert result.exit_code == 0, result.output
    for path, text, kind in ((one, "one: 1\n", "fleet"), (two, "db_password: hunter2\n", "ansible")):
        envelope = parse_envelope(path.read_text())
        assert (envelope.format, envelope.vault_id) == (kind, "prod")
        assert ring("prod", password="new-password").decrypt(path.read_text()) == text
    result = vault(env, "rekey", "--vault-id", f"prod@{new}", "--new-vault-password-file",
                   env["FLEET_VAULT_PASSWORD_FILE"], "--format", "fleet", str(two))
    assert result.exit_code == 0, result.output
    assert parse_envelope(two.read_text()).format == "fleet"
    assert ring().decrypt(two.read_text()) == "db_password: hunter2\n"
    one_error(vault(env, "rekey", str(two)), "no new vault password")


class VaultLoader(yaml.SafeLoader):
    """A loader that reads ``!vault`` values as their envelope text."""


def _vault_tag(loader: yaml.SafeLoader, node: yaml.Node) -> tuple[str, str]:
    assert isinstance(node, yaml.ScalarNode)
    return ("vault", loader.construct_scalar(node))


VaultLoader.add_constructor("!vault", _vault_tag)


def test_encrypt_string(env: dict[str, str]) -> None:
    result = vault(env, "encrypt-string", "--name", "db_password", "s3cr3t")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("db_password: !vault |\n          $FLEET_VAULT;2;AES256-GCM;SCRYPT;default\n")
    tag, text = yaml.load(result.stdout, Loader=VaultLoader)["db_password"]
    assert tag == "vault" and ring().decrypt(text) == "s3cr3t"
    bare = vault(env, "encrypt-string", "x").stdout
    assert bare.startswith("!vault |\n") and ring().decrypt(yaml.load(bare, Loader=VaultLoader)[1]) == "x"
    quoted = vault(env, "encrypt-string", "--name", "a key: with colon", "x").stdout
    assert list(yaml.load(quoted, Loader=VaultLoader)) == ["a key: with colon"]


def test_encrypt_string_from_stdin(env: dict[str, str]) -> None:
    result = vault(env, "encrypt-string", "--stdin-name", "token", input="line\n")
    assert result.exit_code == 0 and "ends with a newline" in result.stderr
    assert ring().decrypt(yaml.load(result.stdout, Loader=VaultLoader)["token"][1]) == "line\n"
    dash = vault(env, "encrypt-string", "--name", "t", "-", input="no-newline")
    assert ring().decrypt(yaml.load(dash.stdout, Loader=VaultLoader)["t"][1]) == "no-newline"
    one_error(vault(env, "encrypt-string", input=""), "nothing to encrypt: stdin was empty")
    one_error(vault(env, "encrypt-string", "--stdin-name", "a", "value"), "--stdin-name reads the value from stdin")


def test_encrypt_string_vault_ids(tmp_path: Path, env: dict[str, str],
                                  password_file: Callable[..., Path]) -> None:
    prod, dev = password_file("p", "prod.pw"), password_file("d", "dev.pw")
    ids = ["--vault-id", f"prod@{prod}", "--vault-id", f"dev@{dev}"]
    one_error(vault(env, "encrypt-string", *ids, "x"), "several vault ids can encrypt (prod, dev)")
    result = vault(env, "encrypt-string", *ids, "--encrypt-vault-id", "dev", "--format", "ansible", "x")
    _, text = yaml.load(result.stdout, Loader=VaultLoader)
    assert text.startswith("$ANSIBLE_VAULT;1.2;AES256;dev\n")
    assert ring("dev", password="d").decrypt(text) == "x"


def test_password_file_option_and_executable(tmp_path: Path, env: dict[str, str],
                                             script: Callable[..., Path]) -> None:
    path = tmp_path / "s.yml"
    path.write_text("s: 1\n")
    exe = script("echo from-script")
    assert vault(env, "encrypt", "--vault-password-file", str(exe), str(path)).exit_code == 0
    assert ring(password="from-script").decrypt(path.read_text()) == "s: 1\n"
    one_error(vault(env, "view", str(path)), "decryption failed")  # the environment's password


def test_vault_is_registered() -> None:
    result = CliRunner().invoke(cli, ["vault", "--help"])
    assert result.exit_code == 0
    for command in ("create", "edit", "view", "encrypt", "decrypt", "rekey", "encrypt-string"):
        assert command in result.output
