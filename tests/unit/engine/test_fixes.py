"""Regression tests: playbook-adjacent vars dirs, k=v escapes, unclosed INI headers."""

from __future__ import annotations

from pathlib import Path

import pytest

from fleet import api
from fleet.errors import InputError
from fleet.inventory import Inventory
from fleet.playbook.kv import parse_kv


def test_group_and_host_vars_beside_the_playbook_rank_above_the_inventorys(tmp_path: Path) -> None:
    inv_dir = tmp_path / "inventory"
    (inv_dir / "group_vars").mkdir(parents=True)
    (inv_dir / "hosts.ini").write_text("[web]\nw1 ansible_connection=local\n")
    (inv_dir / "group_vars" / "web.yml").write_text("colour: inventory\nsize: inventory\n")
    play_dir = tmp_path / "play"
    (play_dir / "group_vars").mkdir(parents=True)
    (play_dir / "host_vars").mkdir()
    (play_dir / "group_vars" / "web.yml").write_text("colour: playbook\n")
    (play_dir / "host_vars" / "w1.yml").write_text("shape: round\n")
    (play_dir / "site.yml").write_text("- hosts: web\n  gather_facts: false\n  tasks: []\n")
    inventory = Inventory.load([str(inv_dir)])
    prepared = api.prepare(play_dir / "site.yml", inventory)
    variables = api.host_vars(prepared.inventory, "w1", prepared)
    assert (variables["colour"], variables["size"], variables["shape"]) == ("playbook", "inventory", "round")
    sources = [row.source for row in variables.explain("colour")]
    assert sources[-1].endswith("play/group_vars/web.yml")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (r'content="a\nb"', {"content": "a\nb"}),
        (r"line=tab\there", {"line": "tab\there"}),
        (r"path=C:\\dir", {"path": "C:\\dir"}),
        (r"x=\x41", {"x": "A"}),
        ("plain=value", {"plain": "value"}),
    ],
)
def test_kv_values_decode_escapes_like_ansible(text: str, expected: dict[str, str]) -> None:
    assert parse_kv(text) == (expected, [])


def test_unclosed_ini_section_header_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "hosts.ini"
    path.write_text("[web\nw1\n")
    with pytest.raises(InputError, match=r"hosts.ini:1: unclosed section header"):
        Inventory.load([str(path)])
