"""The README's first example works as written: its inventory exists and its host pattern
selects hosts; every inventory directory the README names exists."""

from __future__ import annotations

import re
import shlex

from fleet.inventory import Inventory
from tests.conftest import REPO

README = (REPO / "README.md").read_text()


def test_the_first_example_uses_an_inventory_that_exists_and_a_pattern_that_matches() -> None:
    block = README.split("```sh\n", 1)[1].split("```", 1)[0]
    commands = [shlex.split(line.split("#", 1)[0]) for line in block.splitlines() if line.strip()]
    assert commands and all(words[0] == "fleet" for words in commands)
    for words in commands:
        at = words.index("-i")
        inventory = REPO / words[at + 1]
        assert inventory.is_dir(), f"README example: {inventory} does not exist"
        if words[1] == "run":
            pattern = (words[2:at] + words[at + 2:])[0]
            assert Inventory.load(str(inventory)).select(pattern), f"README example: {pattern!r} selects no host"


def test_every_inventory_the_readme_names_exists() -> None:
    named = set(re.findall(r"\binventories/[\w.-]+", README))
    assert named and not [path for path in sorted(named) if not (REPO / path).exists()]
