"""Bulk loading pauses the cyclic collector and always gives it back as it was."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from fleet.errors import InputError
from fleet.inventory import Inventory
from fleet.inventory.gcpause import gc_paused


def test_paused_inside_restored_after_even_on_error(tmp_path: Path) -> None:
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    bad = tmp_path / "hosts.yml"
    bad.write_text("all:\n  hosts: [unclosed\n")
    with pytest.raises(InputError):
        Inventory.load(str(bad))
    assert gc.isenabled()


def test_a_caller_that_disabled_the_collector_keeps_it_disabled() -> None:
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
