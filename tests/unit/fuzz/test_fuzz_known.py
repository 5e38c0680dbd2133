"""Fuzz findings in fleet/yamlsrc.py, kept as regression tests: a character YAML does not allow
is reported with its line, a YAML alias bomb is refused at load, YAML nested too deeply is one
InputError. (A new finding whose fix is elsewhere goes here as a strict xfail until fixed.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from fleet.errors import InputError
from fleet.inventory import Inventory
from fleet.playbook.loader import load_playbook


def test_control_character_in_yaml_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "site.yml"
    path.write_text("- hosts: all\n  tasks:\n    - ping: \x1f\n")
    with pytest.raises(InputError) as info:
        load_playbook(path, module_exists=lambda name: True)
    assert info.value.location is not None and info.value.location.line == 3, str(info.value)


LAUGHS = """\
all:
  hosts:
    h1:
  vars:
    a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]
    b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
    c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
    d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
    e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
    f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
    g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
    h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
    i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]
"""


def test_yaml_alias_bomb_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "hosts.yml"
    path.write_text(LAUGHS)
    with pytest.raises(InputError) as info:
        Inventory.load(str(path))
    assert info.value.location is not None and info.value.location.path == str(path)
    assert info.value.location.line > 0


@pytest.mark.parametrize("depth", [200, 400])
def test_deeply_nested_yaml_is_an_input_error(depth: int) -> None:
    from fleet import yamlsrc

    with pytest.raises(InputError) as info:
        yamlsrc.loads("a: " + "[" * depth + "]" * depth, "deep.yml")
    assert info.value.location is not None and info.value.location.path == "deep.yml"
