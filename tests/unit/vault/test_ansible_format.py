"""Ansible's vault 1.1/1.2: vectors made by ansible-vault, round trips, and a cross-check."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from fleet.vault import (
    DECRYPTION_FAILED,
    DecryptionFailed,
    VaultError,
    VaultKeyring,
    VaultSecret,
    ansiblefmt,
)
from tests.unit.vault.conftest import PASSWORD

# Made by ansible-vault (ansible-core 2.21) with the password "fleet-vector":
# `ansible-vault encrypt --vault-password-file pw` and `--vault-id prod@pw` of the same file.
ANSIBLE_11 = """\
$ANSIBLE_VAULT;1.1;AES256
31656638383032663836366166386535346662303662663433366366343432323133386232303363
6235626135353536313061653361326230343262623938620a353531636664653933313764363633
62626633663038313066303237626638626339393030666666633965363931623536643332363238
6539633761633532300a616564616261393834643433383163383066646436316263613862616263
33366434303365613461353663346238303133373334663664653365623761343065
"""
ANSIBLE_12 = """\
$ANSIBLE_VAULT;1.2;AES256;prod
65333630626564356361386339306462613134633934663232656230653436313864656335383866
3434643435633132663762633136646562363839383064310a613764663336613137666265393834
62613562303865363266633733663231643165316430646464346337306238363239393063376265
6565316534356365370a333435323131393237383236363561653033646665383835643633646239
64373732663362313531393230326162613232613065656238366339343563653363
"""
# `printf x | ansible-vault encrypt_string --vault-id prod@pw --stdin-name token`, as indented.
ANSIBLE_INLINE = """\
          $ANSIBLE_VAULT;1.2;AES256;prod
          63626334663533653931646531663166653765373736336331383161623363346633353630313965
          6432393635373061656133383939666566643134613738640a363130356639626464643435653639
          38363235366238343534393664396538393237373631323064666634393636376535356364636533
          6663336236303266640a353635623337356164663565323763336135623435313930613136346130
          3633
"""
PLAIN = "db_password: hunter2\n"

ANSIBLE_VAULT = next((p for p in Path.home().glob(".cache/fleet-bench/venvs/*/bin/ansible-vault")
                      if os.access(p, os.X_OK)), None)


def keyring(*secrets: tuple[str, str]) -> VaultKeyring:
    return VaultKeyring([VaultSecret(vid, pw.encode()) for vid, pw in secrets])


def test_vectors_made_by_ansible_vault() -> None:
    ring = keyring(("default", PASSWORD))
    assert ring.decrypt(ANSIBLE_11) == PLAIN
    assert ring.decrypt(ANSIBLE_12) == PLAIN  # another id's password is tried too, as Ansible does
    assert keyring(("prod", PASSWORD)).decrypt(ANSIBLE_INLINE.replace(" " * 10, "")) == "x"


def test_hand_derived_vector() -> None:
    """The 1.1 layout, step by step from the spec, on the first vector's salt."""
    import binascii

    inner = binascii.unhexlify("".join(ANSIBLE_11.splitlines()[1:]))
    salt_hex, mac_hex, ciphertext_hex = inner.split(b"\n")
    salt, ciphertext = binascii.unhexlify(salt_hex), binascii.unhexlify(ciphertext_hex)
    material = ansiblefmt.derive_key(PASSWORD.encode(), salt)
    assert len(salt) == 32 and len(material) == 80
    rebuilt = ansiblefmt.encrypt(PLAIN.encode(), material, salt, "default")
    assert rebuilt == ANSIBLE_11  # same salt, same password: ansible-vault's very bytes
    import hashlib
    import hmac

    assert hmac.new(material[32:64], ciphertext, hashlib.sha256).hexdigest().encode() == mac_hex


def test_round_trips_and_headers() -> None:
    ring = keyring(("default", PASSWORD), ("prod", "other"))
    one = ring.encrypt(PLAIN, "default", format="ansible")
    two = ring.encrypt(PLAIN, "prod", format="ansible")
    assert one.startswith("$ANSIBLE_VAULT;1.1;AES256\n")
    assert two.startswith("$ANSIBLE_VAULT;1.2;AES256;prod\n")
    assert ring.decrypt(one) == ring.decrypt(two) == PLAIN
    assert ring.decrypt_bytes(ring.encrypt(b"\x00" * 16, "default", format="ansible")) == b"\x00" * 16
    assert ring.open(two).secret.vault_id == "prod"


def test_wrong_password_and_tampering() -> None:
    with pytest.raises(DecryptionFailed, match=f"vault.yml: {DECRYPTION_FAILED}"):
        keyring(("default", "wrong")).decrypt(ANSIBLE_11, "vault.yml")
    ring = keyring(("default", PASSWORD))
    lines = ANSIBLE_11.splitlines()
    for row, col in [(1, 0), (1, 79), (2, 40), (3, 3), (4, 10), (5, 66)]:
        char = lines[row][col]
        swapped = "0" if char != "0" else "1"
        changed = list(lines)
        changed[row] = changed[row][:col] + swapped + changed[row][col + 1:]
        with pytest.raises(VaultError) as caught:
            ring.decrypt("\n".join(changed) + "\n")
        assert "\n" not in str(caught.value)
    for end in (30, 100, len(ANSIBLE_11) - 2):
        with pytest.raises(VaultError):
            ring.decrypt(ANSIBLE_11[:end])


@pytest.mark.skipif(ANSIBLE_VAULT is None, reason="no ansible-vault binary (an extra cross-check)")
def test_cross_check_with_ansible_vault(tmp_path: Path) -> None:
    assert ANSIBLE_VAULT is not None
    pw = tmp_path / "pw"
    pw.write_text(PASSWORD + "\n")
    pw.chmod(0o600)
    ring = keyring(("default", PASSWORD), ("prod", PASSWORD))
    env = dict(os.environ, ANSIBLE_LOCAL_TEMP=str(tmp_path), HOME=str(tmp_path))
    env.pop("ANSIBLE_CONFIG", None)

    def ansible_vault(*args: str, input: str | None = None) -> str:
        done = subprocess.run([str(ANSIBLE_VAULT), *args], capture_output=True, text=True,
                              env=env, cwd=tmp_path, input=input, timeout=120,
                              check=False)
        assert done.returncode == 0, done.stderr
        return done.stdout

    # fleet writes, ansible-vault reads
    for vault_id, option in (("default", f"--vault-password-file={pw}"), ("prod", f"--vault-id=prod@{pw}")):
        path = tmp_path / f"by-fleet-{vault_id}.yml"
        path.write_text(ring.encrypt("made: by fleet ✓\n", vault_id, format="ansible"))
        assert ansible_vault("view", option, str(path)) == "made: by fleet ✓\n"
    # ansible-vault writes, fleet reads
    for option in (f"--vault-password-file={pw}", f"--vault-id=prod@{pw}"):
        path = tmp_path / "by-ansible.yml"
        path.write_text("made: by ansible ✓\n")
        ansible_vault("encrypt", option, str(path))
        assert ring.decrypt(path.read_text()) == "made: by ansible ✓\n"
    inline = ansible_vault("encrypt_string", f"--vault-id=prod@{pw}", "--stdin-name", "token", input="s3cret")
    assert inline.startswith("token: !vault |")
    assert ring.decrypt("\n".join(line.strip() for line in inline.splitlines()[1:])) == "s3cret"
