"""Fuzz findings whose fix belongs to files outside the fuzz suite's scope, pinned as strict
xfails: each passes (and so fails the suite, as XPASS) once the fix lands -- then delete it and
its entry in ``support.KNOWN_WITHOUT_LINE``."""

from __future__ import annotations

from pathlib import Path

import pytest

from fleet.errors import InputError
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
