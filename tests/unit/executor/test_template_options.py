"""The template module's Jinja2 options (newline_sequence, escaped or not; trim_blocks,
lstrip_blocks; the six delimiters; output_encoding; mode: preserve), as Ansible's template
action applies them: tests/fixtures/template_options under fleet and ansible-playbook write the
same bytes with the same modes."""

from __future__ import annotations

import shutil
import stat

import pytest

from fleet.errors import InputError
from fleet.templating import file_options
from tests.conftest import REPO
from tests.unit.executor.twins import Twins, run_twins

FIXTURE = REPO / "tests" / "fixtures" / "template_options"


@pytest.fixture(scope="module")
def twins(tmp_path_factory: pytest.TempPathFactory) -> Twins:
    fixture = tmp_path_factory.mktemp("fixture") / "template_options"
    shutil.copytree(FIXTURE, fixture)
    (fixture / "templates" / "accent.j2").chmod(0o640)  # git keeps no such mode: mode: preserve copies it
    return run_twins(fixture, tmp_path_factory.mktemp("template_options"))


@pytest.mark.parametrize("name", ["crlf.txt", "cr.txt", "blocks.txt", "delims.txt", "latin1.txt"])
def test_bytes_and_mode_as_ansible(name: str, twins: Twins) -> None:
    mine, theirs = twins.fleet_out / name, twins.ansible_out / name
    assert mine.read_bytes() == theirs.read_bytes()
    assert stat.S_IMODE(mine.stat().st_mode) == stat.S_IMODE(theirs.stat().st_mode)


def test_what_the_fixture_exercises(twins: Twins) -> None:
    out = twins.fleet_out
    assert out.joinpath("crlf.txt").read_bytes().startswith(b"first hello\r\n")
    assert b"a\nb\r\n" in out.joinpath("crlf.txt").read_bytes()  # a value's own newline stays
    assert out.joinpath("delims.txt").read_bytes() == b"hello {{ kept }}\nyes{# kept #}\n"  # trim_blocks after %>
    assert out.joinpath("latin1.txt").read_bytes() == b"caf\xe9 hello\n"
    assert stat.S_IMODE(out.joinpath("latin1.txt").stat().st_mode) == 0o640


def test_options_that_differ_from_the_defaults() -> None:
    assert file_options({"newline_sequence": "\\r\\n", "trim_blocks": "no", "lstrip_blocks": False}) == {
        "newline_sequence": "\r\n", "trim_blocks": False}


def test_a_newline_sequence_ansible_refuses() -> None:
    with pytest.raises(InputError, match="newline_sequence needs to be one of"):
        file_options({"newline_sequence": "\\t"})
