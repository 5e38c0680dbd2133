"""``timeout`` and ``module_defaults`` at load time: where they are allowed, how levels
inherit and merge (Ansible's rules), what the loader folds into a task's arguments, and the
errors (file:line) for bad values."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from fleet.errors import InputError, Location
from fleet.playbook.loader import load_playbook
from fleet.playbook.moduledefaults import applicable, fold, merged, task_names

from .conftest import MODULES, Load, LoadError, WriteTree, body


def test_timeout_at_every_level_nearest_wins(load: Load) -> None:
    pb = load({
        "site.yml": """
        - hosts: all
          timeout: 50
          roles:
            - role: r
              timeout: 40
          tasks:
            - name: play's
              ping:
            - timeout: "{{ t }}"
              block:
                - name: block's
                  ping:
                - name: own
                  ping:
                  timeout: 3
            - include_tasks:
                file: inc.yml
                apply: {timeout: 7}
        """,
        "roles/r/tasks/main.yml": "- name: role's\n  ping:\n",
    })
    seen = {t.name: t.timeout for t in body(pb) if t.name}
    assert seen == {"role's": 40, "play's": 50, "block's": "{{ t }}", "own": 3}


def test_timeout_must_be_a_number(load_error: LoadError) -> None:
    error = load_error({"site.yml": "- hosts: all\n  tasks:\n    - ping:\n      timeout: soon\n"}, "site.yml:3")
    assert "timeout must be a number" in str(error)


def test_module_defaults_fold_into_args_task_args_win(load: Load) -> None:
    pb = load({"site.yml": """
        - hosts: all
          module_defaults:
            file: {state: directory, mode: "0700"}
            ansible.builtin.copy: {content: play}
          tasks:
            - name: play level
              file: {path: /a}
            - name: args win
              ansible.builtin.file: {path: /b, mode: "0755"}
            - module_defaults:
                ansible.legacy.file: {state: touch}
              block:
                - name: the block's file entry replaces the play's whole
                  file: {path: /c}
                - name: untouched module
                  copy: {dest: /d}
                - name: not a module's default
                  command: echo
        """})
    args = {t.name: t.args for t in body(pb)}
    assert args["play level"] == {"state": "directory", "mode": "0700", "path": "/a"}
    assert args["args win"] == {"state": "directory", "mode": "0755", "path": "/b"}
    assert args["the block's file entry replaces the play's whole"] == {"state": "touch", "path": "/c"}
    assert args["untouched module"] == {"content": "play", "dest": "/d"}
    assert args["not a module's default"] == {"cmd": "echo"}


def test_a_template_value_waits_for_the_host(load: Load) -> None:
    (task,) = body(load({"site.yml": """
        - hosts: all
          tasks:
            - file: {path: /a}
              module_defaults:
                group/ns.coll.never: {}
                file: "{{ file_defaults }}"
        """}, foreign=_Groups({"ns.coll.never": frozenset()})))
    assert task.args == {"path": "/a"}
    assert task.late_defaults == ["{{ file_defaults }}"]


def test_roles_and_includes_pass_them_on(load: Load) -> None:
    pb = load({
        "site.yml": """
        - hosts: all
          roles:
            - role: r
              module_defaults: {file: {state: absent}}
          tasks:
            - include_tasks: inc.yml
              module_defaults: {file: {mode: "0600"}}
        """,
        "roles/r/tasks/main.yml": "- name: in role\n  file: {path: /r}\n",
    })
    (in_role,) = [t for t in body(pb) if t.name == "in role"]
    assert in_role.args == {"state": "absent", "path": "/r"}
    (include,) = [t for t in body(pb) if t.module == "include_tasks"]
    assert include.args == {"file": "inc.yml"}  # never an include's own arguments
    assert include.inherited.module_defaults == ({"file": {"mode": "0600"}},)


class _Groups:
    """The bridge's side for group/NAME (fleet.bridge.Bridge.action_group)."""

    def __init__(self, groups: dict[str, frozenset[str]]) -> None:
        self.groups = groups

    def exists(self, name: str, collections: Sequence[str] = (), role: Path | None = None) -> bool:
        return False

    def unknown(self, name: str, collections: Sequence[str] = (), role: Path | None = None,
                location: Location | None = None) -> Exception:
        return InputError(f"unknown module {name!r}", location)

    def action_group(self, group: str, location: Location | None = None) -> frozenset[str]:
        if group not in self.groups:
            raise InputError(f"Error loading module_defaults: could not resolve the module_defaults group {group}",
                             location)
        return self.groups[group]


def test_group_defaults_lie_under_the_modules_own(write_tree: WriteTree) -> None:
    root = write_tree({"site.yml": """
        - hosts: all
          module_defaults:
            file: {mode: "0600"}
            group/ns.coll.files: {mode: "0700", owner: root}
          tasks:
            - file: {path: /a}
            - copy: {dest: /b}
        """})
    groups = _Groups({"ns.coll.files": frozenset({"ansible.builtin.file", "ansible.builtin.copy"})})
    pb = load_playbook(root / "site.yml", module_exists=MODULES.__contains__, foreign=groups)
    file_task, copy_task = body(pb)
    assert file_task.args == {"mode": "0600", "owner": "root", "path": "/a"}
    assert copy_task.args == {"mode": "0700", "owner": "root", "dest": "/b"}


def test_an_unknown_group_is_an_error_at_its_task(write_tree: WriteTree, tmp_path: Path) -> None:
    root = write_tree({"site.yml": "- hosts: all\n  tasks:\n    - ping:\n      module_defaults:\n"
                                   "        group/nothing: {}\n"})
    with pytest.raises(InputError, match="could not resolve the module_defaults group ansible.builtin.nothing") as info:
        load_playbook(root / "site.yml", module_exists=MODULES.__contains__, foreign=_Groups({}))
    assert str(info.value).startswith(f"{tmp_path / 'site.yml'}:3: ")
    with pytest.raises(InputError, match="action groups are defined by collections"):
        load_playbook(root / "site.yml", module_exists=MODULES.__contains__)


@pytest.mark.parametrize(("value", "says"), [
    ("[1]", "must be a mapping (or a list of mappings)"),
    ("{'{{ m }}': {}}", "is not a module or group name"),
    ("{file: [a]}", "the defaults of file must be a mapping"),
])
def test_bad_module_defaults(load_error: LoadError, value: str, says: str) -> None:
    error = load_error({"site.yml": f"- hosts: all\n  tasks:\n    - ping:\n      module_defaults: {value}\n"})
    assert says in str(error)


def test_merge_and_order_as_ansible() -> None:
    levels = merged([{"file": {"a": 1}, "group/x.y.g": {"b": 1}}, {"file": {"c": 2}}])
    assert levels == {"file": {"c": 2}, "group/x.y.g": {"b": 1}}
    names = task_names("file", True)
    assert "community.general.file" in names and "file" in names
    assert task_names("ini_file", False, ["community.general"]) == {"ini_file", "community.general.ini_file"}
    assert applicable(levels, names, lambda group: frozenset({"file"})) == [{"b": 1}, {"c": 2}]
    assert fold([{"a": 1}, {"a": 2, "b": 2}], {"b": 3}) == ({"a": 2, "b": 3}, [])
    assert fold([{"a": 1}, "{{ t }}"], {"b": 3}) == ({"b": 3}, [{"a": 1}, "{{ t }}"])
