"""Fuzz findings whose fix belongs to files outside the fuzz suite's scope, pinned as strict
xfails: each passes (and so fails the suite, as XPASS) once the fix lands -- then delete it and
its entry in ``support.KNOWN_WITHOUT_LINE``."""

from __future__ import annotations

from pathlib import Path

import pytest

from fleet.errors import InputError
from fleet.inventory import Inventory
from fleet.playbook.loader import load_playbook


@pytest.mark.xfail(strict=True, reason="fleet/yamlsrc.py turns yaml.ReaderError (a control character "
                                       "in the file) into an InputError without a line: ReaderError "
                                       "has a position, not a mark")
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


@pytest.mark.xfail(strict=True, reason="fleet/yamlsrc.py loads a YAML alias bomb (9**9 values once "
                                       "expanded) without complaint; `fleet inventory --list` or "
                                       "templating the variable then runs out of memory")
def test_yaml_alias_bomb_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "hosts.yml"
    path.write_text(LAUGHS)
    with pytest.raises(InputError) as info:
        Inventory.load(str(path))
    assert info.value.location is not None and info.value.location.path == str(path)
    assert info.value.location.line > 0
