"""Fuzzing the playbook loader: plays, tasks, blocks, handlers, roles and imports.

Random YAML structures (mostly right, with unknown keys and wrong types here and there) go
through :func:`fleet.playbook.loader.load_playbook` and :func:`fleet.api.prepare`. Property: a
Playbook, or one InputError naming a file of the playbook with its line -- never another
exception, never a hang.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import example, given
from hypothesis import strategies as st

from fleet import api
from fleet.errors import InputError
from fleet.executor.options import RunOptions
from fleet.inventory import Inventory
from fleet.playbook.loader import PLAY_KEYWORDS, load_playbook
from fleet.playbook.models import Block, Playbook, Task
from fleet.playbook.tasks import BLOCK_KEYWORDS, TASK_KEYWORDS
from tests.unit.fuzz.support import fuzz_settings, guarded, outcome, time_limit

MODULES = frozenset({"file", "copy", "command", "shell", "ping", "setup", "service", "user"})

scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 10**20), st.floats(allow_nan=True),
                    st.sampled_from(["", "yes", "no", "{{ x }}", "{{ x", "{% if %}", "a=1 b=2", "t.yml",
                                     "r1", "roles/r1", "../r1", "30%", "0", "-1", "linear", "free",
                                     "sudo", "su", "root", "item", "1 == 1", "x is defined", "all",
                                     "flush_handlers", "end_play", "bogus", "{{ item }}", "é", "\x00"]),
                    st.text(max_size=8))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3),
    st.dictionaries(st.one_of(st.text(max_size=6), st.sampled_from(sorted(TASK_KEYWORDS))), inner,
                    max_size=3)), max_leaves=12)
module_names = st.sampled_from(sorted(MODULES | {"debug", "set_fact", "assert", "fail", "meta",
                                                 "include_tasks", "import_tasks", "include_role",
                                                 "import_role", "include_vars", "nosuchmodule",
                                                 "ansible.builtin.copy", "action", "include"}))


@st.composite
def module_values(draw: st.DrawFn, module: str) -> Any:
    """Arguments that are often sensible for ``module``."""
    choices: dict[str, list[Any]] = {
        "import_tasks": ["t.yml", "missing.yml", "site.yml", "{{ f }}"],
        "include_tasks": ["t.yml", "{{ f }}"],
        "import_role": [{"name": "r1"}, {"name": "r1", "tasks_from": "nope"}, {"name": "nope"}],
        "include_role": [{"name": "r1"}, {"name": "{{ r }}"}, {"nam": "r1"}],
        "meta": ["flush_handlers", "bogus", ""],
        "debug": [{"msg": "hi"}, {"var": "x"}, "msg=hi"],
        "command": ["echo hi", "echo 'unbalanced", "creates=/x echo"],
    }
    likely = choices.get(module)
    if likely and draw(st.booleans()):
        return draw(st.sampled_from(likely))
    return draw(values)


@st.composite
def tasks(draw: st.DrawFn, depth: int = 0) -> Any:
    kind = draw(st.sampled_from(["task", "task", "block", "junk"] if depth < 2 else ["task", "junk"]))
    if kind == "junk":
        return draw(values)
    entry: dict[Any, Any] = {}
    if kind == "block":
        for key in draw(st.lists(st.sampled_from(["block", "rescue", "always", "name", "when", "loop",
                                                   "bogus", "vars", "become"]), max_size=4, unique=True)):
            entry[key] = draw(st.lists(tasks(depth + 1), max_size=3)) if key in ("block", "rescue", "always") \
                else draw(values)
        return entry
    for _ in range(draw(st.integers(0, 2))):
        module = draw(module_names)
        entry[module] = draw(module_values(module))
    for key in draw(st.lists(st.one_of(st.sampled_from(sorted(TASK_KEYWORDS | BLOCK_KEYWORDS |
                                                                {"delegate_to", "with_nested", "listen"})),
                                        st.text(max_size=5)), max_size=3, unique=True)):
        entry.setdefault(key, draw(values))
    return entry


task_lists = st.one_of(st.lists(tasks(), max_size=4), values)


@st.composite
def plays(draw: st.DrawFn) -> Any:
    if draw(st.integers(0, 9)) == 0:
        return draw(st.one_of(values, st.just({"import_playbook": draw(st.sampled_from(
            ["other.yml", "site.yml", "missing.yml", "{{ x }}"]))})))
    play: dict[Any, Any] = {"hosts": draw(st.one_of(st.just("all"), values))}
    keys = st.one_of(st.sampled_from(sorted(PLAY_KEYWORDS)), st.text(max_size=5))
    for key in draw(st.lists(keys, max_size=4, unique=True)):
        if key in ("tasks", "pre_tasks", "post_tasks", "handlers"):
            play[key] = draw(task_lists)
        elif key == "roles":
            play[key] = draw(st.one_of(
                st.lists(st.one_of(st.sampled_from(["r1", "r2", "nope", "roles/r1", "{{ r }}"]),
                                   st.fixed_dictionaries({"role": st.sampled_from(["r1", "r2"])},
                                                         optional={"when": values, "vars": values,
                                                                   "tags": values, "x": values})),
                         max_size=2),
                values))
        elif key == "vars_files":
            play[key] = draw(st.one_of(st.sampled_from(["vars.yml", ["vars.yml"], ["nope.yml"], [["a", "b"]]]),
                                       values))
        else:
            play[key] = draw(values)
    return play


playbooks = st.one_of(st.lists(plays(), min_size=0, max_size=3), values)
role_files = st.fixed_dictionaries({}, optional={
    "tasks/main.yml": task_lists, "handlers/main.yml": task_lists, "defaults/main.yml": values,
    "vars/main.yml": values,
    "meta/main.yml": st.one_of(values, st.fixed_dictionaries({"dependencies": st.one_of(
        st.lists(st.sampled_from(["r1", "r2", "nope", {"role": "r2"}]), max_size=2), values)})),
})


def dump(data: Any) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def write(root: Path, files: dict[str, Any]) -> None:
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(data if isinstance(data, str) else dump(data), encoding="utf-8")


def fresh(tmp_path: Path) -> Path:
    """A new directory per example (old roles and files must not leak between examples)."""
    counter = getattr(fresh, "n", 0) + 1
    fresh.n = counter  # type: ignore[attr-defined]
    root = tmp_path / f"ex{counter}"
    root.mkdir()
    return root


def check_playbook(book: Playbook) -> None:
    def walk(items: list[Any]) -> None:
        for item in items:
            assert isinstance(item, Task | Block), item
            assert item.location is not None
            if isinstance(item, Task):  # numbers the executor computes with are finite
                for number in (item.retries, item.delay, item.loop_control.pause):
                    assert number is None or isinstance(number, str) or math.isfinite(number), item
            if isinstance(item, Block):
                walk(item.block)
                walk(item.rescue)
                walk(item.always)

    for play in book.plays:
        assert isinstance(play.hosts, str) and play.hosts.strip()
        assert play.max_fail_percentage is None or 0 <= play.max_fail_percentage <= 100
        walk(play.tasks)
        walk(play.handlers)


def load(root: Path) -> Any:
    files = tuple(str(p) for p in root.rglob("*") if p.is_file())
    result = outcome(lambda: load_playbook(root / "site.yml", module_exists=MODULES.__contains__),
                     names=files, line=True, allowed=(InputError,))
    if isinstance(result, Playbook):
        guarded(lambda: check_playbook(result))
    return result


@fuzz_settings(300)
@given(book=playbooks, t=task_lists, r1=role_files, r2=role_files, other=playbooks)
@example(book=[{"hosts": "all", "tasks": [{"import_tasks": "t.yml"}]}], t=[{"import_tasks": "t.yml"}],
         r1={}, r2={}, other=[])
@example(book=[{"hosts": "all", "roles": ["r1"]}], t=[], r1={"meta/main.yml": {"dependencies": ["r2"]}},
         r2={"meta/main.yml": {"dependencies": ["r1"]}}, other=[])
@example(book=[{"hosts": "all", "tasks": [{"ping": None, "loop_control": {"pause": "1e999"}}]}], t=[],
         r1={}, r2={}, other=[])
@example(book=[{"hosts": "all", "max_fail_percentage": "nan"}], t=[], r1={}, r2={}, other=[])
@example(book=[{"hosts": "all", "tasks": [{"ping": None, "retries": "nan"}]}], t=[], r1={}, r2={}, other=[])
@example(book=[{"hosts": "all", "tasks": [{"ping": None, "delay": float("inf")}]}], t=[], r1={}, r2={},
         other=[])
@example(book=[{"hosts": "all", "tasks": [{"ping": None, "retries": "9" * 5000}]}], t=[], r1={}, r2={},
         other=[])
def test_playbook_structures(tmp_path: Path, book: Any, t: Any, r1: dict[str, Any], r2: dict[str, Any],
                             other: Any) -> None:
    root = fresh(tmp_path)
    write(root, {"site.yml": book, "t.yml": t, "other.yml": other, "vars.yml": {"v": 1},
                 **{f"roles/r1/{k}": v for k, v in r1.items()}, **{f"roles/r2/{k}": v for k, v in r2.items()}})
    load(root)


@fuzz_settings(120)
@given(text=st.lists(st.sampled_from(list("- :\n{}[]&*!|>'\"#%") + ["hosts", "tasks", "all", "ping",
                                                                    "block", "  ", "é"]), max_size=40).map("".join))
@example(text="- hosts: all\n  tasks: &a\n    - block: *a\n")
@example(text="- &p {hosts: all, tasks: [*p]}")
@example(text="- hosts: all\n  tasks:\n" + "  " * 2 + "- block:\n" * 1 + "[" * 3000)
def test_playbook_text(tmp_path: Path, text: str) -> None:
    root = fresh(tmp_path)
    write(root, {"site.yml": text})
    load(root)


@fuzz_settings(80)
@given(book=st.lists(plays(), min_size=1, max_size=2), t=task_lists)
def test_prepare(tmp_path: Path, book: Any, t: Any) -> None:
    """The whole validation ``fleet apply`` does before connecting (preflight included)."""
    root = fresh(tmp_path)
    write(root, {"site.yml": book, "t.yml": t, "vars.yml": {"v": 1}, "hosts": "localhost ansible_connection=local\n"})
    inventory = Inventory.load(str(root / "hosts"))
    files = tuple(str(p) for p in root.rglob("*") if p.is_file())
    outcome(lambda: api.prepare(root / "site.yml", inventory, RunOptions()), names=files,
            allowed=(InputError,))


def chain(root: Path, kind: str, length: int) -> None:
    """site.yml, then ``length`` task files, roles or playbooks each importing the next."""
    files: dict[str, Any] = {}
    for i in range(length):
        if kind == "import_tasks":
            files[f"t{i}.yml"] = [{"import_tasks": f"t{i + 1}.yml"}]
        elif kind == "import_role":
            files[f"roles/r{i}/tasks/main.yml"] = [{"import_role": {"name": f"r{i + 1}"}}]
        elif kind == "dependencies":
            files[f"roles/r{i}/meta/main.yml"] = {"dependencies": [f"r{i + 1}"]}
        else:
            files[f"p{i}.yml"] = [{"import_playbook": f"p{i + 1}.yml"}]
    leaf = {"import_tasks": f"t{length}.yml", "import_role": f"roles/r{length}/tasks/main.yml",
            "dependencies": f"roles/r{length}/tasks/main.yml", "import_playbook": f"p{length}.yml"}[kind]
    files[leaf] = [{"hosts": "all", "tasks": [{"ping": None}]}] if kind == "import_playbook" else [{"ping": None}]
    first = {"import_tasks": {"import_tasks": "t0.yml"}, "import_role": {"import_role": {"name": "r0"}}}
    if kind in first:
        files["site.yml"] = [{"hosts": "all", "tasks": [first[kind]]}]
    elif kind == "dependencies":
        files["site.yml"] = [{"hosts": "all", "roles": ["r0"]}]
    else:
        files["site.yml"] = [{"import_playbook": "p0.yml"}]
    write(root, files)


KINDS = ["import_tasks", "import_role", "dependencies", "import_playbook"]


@pytest.mark.parametrize("kind", KINDS)
def test_import_chains_too_deep_are_an_input_error(tmp_path: Path, kind: str) -> None:
    """Found probing nesting: a chain of ~150-200 task files (or roles) importing the next
    raised RecursionError; imports now nest at most 50 deep, one InputError at the entry."""
    chain(tmp_path, kind, 300)
    with time_limit(), pytest.raises(InputError) as info:
        load_playbook(tmp_path / "site.yml", module_exists=MODULES.__contains__)
    assert "nested more than 50 levels deep" in str(info.value)
    location = info.value.location
    assert location is not None and location.line > 0 and str(tmp_path) in location.path


@pytest.mark.parametrize("kind", KINDS)
def test_import_chains_of_45_load(tmp_path: Path, kind: str) -> None:
    chain(tmp_path, kind, 45)
    with time_limit():
        book = load_playbook(tmp_path / "site.yml", module_exists=MODULES.__contains__)
    pings = [t for play in book.plays for t in play.tasks if isinstance(t, Task) and t.module == "ping"]
    assert len(pings) == 1
