"""Ansible's vault 1.1/1.2: vectors made by ansible-vault, read and rebuilt byte for byte, round trips."""

from __future__ import annotations

import pytest

from fleet.cli.vault import vault_yaml
from fleet.vault import (
    DECRYPTION_FAILED,
    DecryptionFailed,
    VaultError,
    VaultKeyring,
    VaultSecret,
    ansiblefmt,
    parse_envelope,
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

# Made by tests/unit/vault/make_ansible_vectors.py with ansible-core 2.19.14 (the newest for
# Python 3.11), password "fleet-vector": ansible-vault encrypt of CORE_219_TEXT with
# --vault-password-file and with --vault-id prod@FILE, and encrypt_string --vault-id prod@FILE
# --stdin-name token of "s3cret".
CORE_219_TEXT = "made: by ansible \u2713\n"
CORE_219_11 = """\
$ANSIBLE_VAULT;1.1;AES256
37396632363731386364353162326262306230313464383839653233376562333436336231303433
6630376233643661623036366139393461663462653733660a386261306132633663356665306634
32656633646662393463346264326363393466343634643739363866306365666532396266626533
3935353962323633340a643932323036396432643437383439653237643531663233636662353265
34646231303238633733386565353764616331383338366633333735663534383134
"""
CORE_219_12 = """\
$ANSIBLE_VAULT;1.2;AES256;prod
36663666633634333336643936646165383433393063343166333261616565376339656336646635
3861383633353135346363346264623661373636303966350a666337646534653231386538393662
38316332623262643964313162356330356166343664313933626133383638636435383536626563
6364366462346632640a306463653062626263323162363361333130653231346635373061383432
66633363356430333065336132613033623831626638313430666535353361366366
"""
CORE_219_INLINE = """\
token: !vault |
          $ANSIBLE_VAULT;1.2;AES256;prod
          38326665373339393534656338653035366638633737663831633162326162313832613539363539
          6530656161346130333239376630313237396334323534620a313935653436316130666131373861
          36653932376231323630653763343461376539336537616635323930363139393537663239323462
          6638333939313361360a376365653435393434353165626339386561643537353139343032616438
          6339
"""


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


def _rebuilt(vector: str, plain: str, vault_id: str) -> str:
    """What fleet writes for ``plain`` with the salt of ``vector``: ansible-vault's bytes, if
    fleet writes the format as ansible-vault does (the salt is the only random input)."""
    salt, _, _ = ansiblefmt.split(parse_envelope(vector), None)
    return ansiblefmt.encrypt(plain.encode(), ansiblefmt.derive_key(PASSWORD.encode(), salt), salt, vault_id)


def test_both_ways_with_ansible_core_2_19() -> None:
    """What a live run of ansible-vault would check, from vectors it made: fleet reads what
    ansible-vault writes (a file with the default id and with an id, a non-ASCII text, an
    encrypt_string value), and writes the very bytes ansible-vault writes, so ansible-vault
    reads fleet's files (checked live when the vectors were made, with the files fleet wrote)."""
    ring = keyring(("default", PASSWORD), ("prod", PASSWORD))
    for vector, vault_id in ((CORE_219_11, "default"), (CORE_219_12, "prod")):
        assert ring.decrypt(vector) == CORE_219_TEXT
        assert _rebuilt(vector, CORE_219_TEXT, vault_id) == vector
    assert CORE_219_INLINE.startswith("token: !vault |\n")
    envelope = "".join(line.strip() + "\n" for line in CORE_219_INLINE.splitlines()[1:])
    assert ring.decrypt(envelope) == "s3cret"
    assert vault_yaml(_rebuilt(envelope, "s3cret", "prod"), "token") == CORE_219_INLINE
