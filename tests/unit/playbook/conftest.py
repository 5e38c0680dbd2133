"""Fixtures for playbook loader tests: write playbooks and roles under tmp_path and load them."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from fleet.errors import InputError
from fleet.playbook.loader import load_playbook
from fleet.playbook.models import Block, Item, Playbook, Task

MODULES = frozenset({
    "file", "copy", "template", "lineinfile", "blockinfile", "command", "shell", "stat", "ping",
    "setup", "service", "yum", "apt", "user", "group", "raw", "script",
})

WriteTree = Callable[[dict[str, str]], Path]
Load = Callable[..., Playbook]
LoadError = Callable[..., InputError]


@pytest.fixture
def write_tree(tmp_path: Path) -> WriteTree:
    """Write ``{relative path: text}`` (dedented) under tmp_path; returns tmp_path."""

    def write(files: dict[str, str]) -> Path:
        for rel, text in files.items():
            path = tmp_path / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return tmp_path

    return write


@pytest.fixture
def load(write_tree: WriteTree) -> Load:
    """Write the files and load ``site.yml`` (or ``main=``) with the test module set."""

    def run(files: dict[str, str], main: str = "site.yml", **kwargs: object) -> Playbook:
        root = write_tree(files)
        return load_playbook(root / main, module_exists=MODULES.__contains__, **kwargs)  # type: ignore[arg-type]

    return run


@pytest.fixture
def load_error(load: Load, tmp_path: Path) -> LoadError:
    """Load and expect an InputError; checks its location is ``file:line`` when given."""

    def run(files: dict[str, str], where: str | None = None, main: str = "site.yml") -> InputError:
        with pytest.raises(InputError) as info:
            load(files, main=main)
        if where is not None:
            assert str(info.value).startswith(f"{tmp_path / where}: "), str(info.value)
        return info.value

    return run


def flat(items: list[Item]) -> list[Task]:
    """Every task in ``items``, blocks (block, rescue, always) flattened in order."""
    out: list[Task] = []
    for item in items:
        if isinstance(item, Block):
            out += flat(item.block) + flat(item.rescue) + flat(item.always)
        else:
            out.append(item)
    return out


def is_implicit_flush(task: Task, play_location: object) -> bool:
    """The ``meta: flush_handlers`` tasks the loader inserts carry the play's location."""
    return task.module == "meta" and task.location == play_location


def body(pb: Playbook, play: int = 0) -> list[Task]:
    """The flattened tasks of a play without the implicit flushes."""
    location = pb.plays[play].location
    return [t for t in flat(pb.plays[play].tasks) if not is_implicit_flush(t, location)]


def names(items: list[Item]) -> list[str]:
    """Display names of the flattened tasks; implicit flushes show as 'flush'."""
    return ["flush" if t.module == "meta" and t.args == {"_raw_params": "flush_handlers"}
            and t.name is None else t.display_name for t in flat(items)]
