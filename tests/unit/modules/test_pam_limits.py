"""pam_limits: Ansible's use_max/use_min arithmetic and value validation."""

from __future__ import annotations

import pytest

from fleet.agent.hostio import ModuleFailure

from .conftest import load_module

pl = load_module("pam_limits")


@pytest.mark.parametrize(("item", "value", "actual", "use_max", "use_min", "picked"), [
    ("nofile", "4096", "1024", True, False, "4096"),
    ("nofile", "1024", "4096", True, False, "4096"),
    ("nofile", "4096", "unlimited", True, False, "unlimited"),
    ("nofile", "infinity", "4096", True, False, "infinity"),
    ("nofile", "4096", "1024", False, True, "1024"),
    ("nofile", "4096", "-1", False, True, "4096"),
    ("nofile", "unlimited", "4096", False, True, "4096"),
    ("nofile", "unlimited", "infinity", False, True, "infinity"),
    ("nofile", "7", "9", False, False, "7"),
    ("nice", "-1", "5", True, False, "5"),  # -1 is a number for nice, not "unlimited"
    ("priority", "-1", "5", False, True, "-1"),
])
def test_pick_value(item, value, actual, use_max, use_min, picked) -> None:
    assert pl.pick_value(item, value, actual, use_max, use_min) == picked


@pytest.mark.parametrize(("item", "value"), [("nofile", "0"), ("nofile", "-1"), ("core", "infinity"),
                                              ("nice", "-20"), ("priority", "19")])
def test_valid_values(item: str, value: str) -> None:
    pl.check_value(item, value)


@pytest.mark.parametrize(("item", "value"), [("nofile", "-5"), ("nofile", "1k"), ("nice", "20"),
                                              ("nice", "unlimited")])
def test_invalid_values(item: str, value: str) -> None:
    with pytest.raises(ModuleFailure):
        pl.check_value(item, value)


def test_every_matching_line_is_updated_and_the_message_is_the_line() -> None:
    p = pl.Params(domain="joe", limit_type="soft", limit_item="nproc", value="50")
    new, line = pl.edit(p, "joe soft nproc 10\njoe soft nproc 20\n")
    assert new == "joe\tsoft\tnproc\t50\njoe\tsoft\tnproc\t50\n" and line == "joe\tsoft\tnproc\t50\n"
