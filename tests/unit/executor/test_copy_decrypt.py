"""copy's ``decrypt`` (default yes), as Ansible's copy action: a vault-encrypted controller
``src`` arrives decrypted; ``decrypt: no`` sends it as it is."""

from __future__ import annotations

import sys
from pathlib import Path

from fleet import api
from fleet.secrets import Secrets
from fleet.vault import VaultKeyring, VaultSecret

KEYRING = VaultKeyring([VaultSecret("default", b"pw-for-tests")])


def test_decrypt_on_and_off(tmp_path: Path) -> None:
    (tmp_path / "files").mkdir()
    sealed = KEYRING.encrypt("the plain text\n")
    (tmp_path / "files" / "sealed.txt").write_text(sealed)
    (tmp_path / "hosts").write_text(f"h1 ansible_connection=local ansible_python_interpreter={sys.executable}\n")
    (tmp_path / "site.yml").write_text(
        "- hosts: h1\n  gather_facts: false\n  tasks:\n"
        f"    - copy: {{src: sealed.txt, dest: '{tmp_path}/opened.txt'}}\n"
        f"    - copy: {{src: sealed.txt, dest: '{tmp_path}/kept.txt', decrypt: no}}\n")
    report = api.apply(tmp_path / "site.yml", [str(tmp_path / "hosts")],
                       api.RunOptions(persist=0, secrets=Secrets(KEYRING)))
    assert report.exit_code() == 0, [(r.task, r.msg) for h in report.hosts.values() for r in h.results]
    assert (tmp_path / "opened.txt").read_text() == "the plain text\n"
    assert (tmp_path / "kept.txt").read_text() == sealed


def test_mode_preserve_gives_each_copy_its_controller_files_mode(tmp_path: Path) -> None:
    """As Ansible's copy action (its copy target): a file and a tree's files keep their modes."""
    (tmp_path / "files" / "tree").mkdir(parents=True)
    for name, mode in (("odd.txt", 0o547), ("tree/a", 0o600), ("tree/b", 0o751)):
        (tmp_path / "files" / name).write_text(name)
        (tmp_path / "files" / name).chmod(mode)
    (tmp_path / "hosts").write_text(f"h1 ansible_connection=local ansible_python_interpreter={sys.executable}\n")
    (tmp_path / "site.yml").write_text(
        "- hosts: h1\n  gather_facts: false\n  tasks:\n"
        f"    - copy: {{src: odd.txt, dest: '{tmp_path}/out/odd.txt', mode: preserve}}\n"
        f"    - copy: {{src: tree, dest: '{tmp_path}/out', mode: preserve}}\n")
    (tmp_path / "out").mkdir()
    report = api.apply(tmp_path / "site.yml", [str(tmp_path / "hosts")], api.RunOptions(persist=0))
    assert report.exit_code() == 0, [(r.task, r.msg) for h in report.hosts.values() for r in h.results]
    modes = {name: (tmp_path / "out" / name).stat().st_mode & 0o7777 for name in ("odd.txt", "tree/a", "tree/b")}
    assert modes == {"odd.txt": 0o547, "tree/a": 0o600, "tree/b": 0o751}
