"""Names that dynamically included files define, for the preflight's undefined-variable check.

``include_tasks``/``include_role`` are loaded at run time, but a later task may use what they
``register`` or ``set_fact``. When every include of a play names a file (or role) that can be
found now, its YAML is scanned (recursively) for those names; when one cannot be resolved
statically (a templated name, a missing file, an ``include_vars`` without ``name``), the
answer is None and the preflight does not check names in that play rather than guess.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from fleet import yamlsrc
from fleet.errors import InputError
from fleet.playbook import Task
from fleet.registry import builtin_dir
from fleet.templating import is_template

INCLUDE_TASKS = ("include_tasks", "import_tasks", "ansible.builtin.include_tasks", "ansible.builtin.import_tasks")
INCLUDE_ROLE = ("include_role", "import_role", "ansible.builtin.include_role", "ansible.builtin.import_role")
SET_FACT = ("set_fact", "ansible.builtin.set_fact")
INCLUDE_VARS = ("include_vars", "ansible.builtin.include_vars")
_KV_NAME = re.compile(r"(?:^|\s)([A-Za-z_][A-Za-z0-9_]*)=")


class Unknown(Exception):
    """An include that cannot be resolved before the run."""


def included_names(tasks: Iterable[Task], playbook_dir: Path) -> set[str] | None:
    """Names the includes among ``tasks`` define, or None when some include is not static."""
    names: set[str] = set()
    seen: set[Path] = set()
    try:
        for task in tasks:
            if task.module in ("include_tasks", "include_role"):
                if task.module == "include_tasks":
                    name = task.args.get("file") or task.args.get("_raw_params")
                    dirs = ([task.role.path / "tasks"] if task.role else []) + [task.base_dir, playbook_dir]
                    _scan_file(_find(name, dirs), playbook_dir, names, seen)
                else:
                    _scan_role(task.args.get("name"), task.args.get("tasks_from"),
                               [task.base_dir.parent.parent, task.base_dir.parent], playbook_dir, names, seen)
    except Unknown:
        return None
    return names


def _find(name: Any, dirs: list[Path]) -> Path:
    if not isinstance(name, str) or not name or is_template(name):
        raise Unknown(name)
    for directory in dirs:
        path = directory / name
        if path.is_file():
            return path
    raise Unknown(name)


def included_handlers(tasks: Iterable[Task], playbook_dir: Path) -> set[str] | None:
    """Names (and listen topics) of the handlers that ``include_role`` tasks bring in, or None."""
    names: set[str] = set()
    try:
        for task in tasks:
            if task.module != "include_role":
                continue
            role = _role_dir(task.args.get("name"), [task.base_dir.parent.parent], playbook_dir)
            path = role / "handlers" / "main.yml"
            handlers = _load(path) if path.is_file() else []
            for handler in handlers if isinstance(handlers, list) else []:
                if isinstance(handler, dict) and isinstance(handler.get("name"), str):
                    names |= {handler["name"], f"{role.name} : {handler['name']}"}
                listen = handler.get("listen") if isinstance(handler, dict) else None
                names.update([listen] if isinstance(listen, str) else listen if isinstance(listen, list) else [])
    except Unknown:
        return None
    return names


def _role_dir(name: Any, near: list[Path], playbook_dir: Path) -> Path:
    if not isinstance(name, str) or not name or is_template(name):
        raise Unknown(name)
    for base in [playbook_dir / "roles", *near, builtin_dir("roles")]:
        if (base / name / "tasks").is_dir():
            return base / name
    raise Unknown(name)


def _scan_role(name: Any, tasks_from: Any, near: list[Path], playbook_dir: Path, names: set[str],
               seen: set[Path]) -> None:
    if tasks_from is not None and not isinstance(tasks_from, str):
        raise Unknown(tasks_from)
    role = _role_dir(name, near, playbook_dir)
    for path in sorted((role / "tasks").glob("*.y*ml")):
        _scan_file(path, playbook_dir, names, seen)
    for section in ("defaults", "vars"):
        data = _load(role / section / "main.yml") if (role / section / "main.yml").is_file() else None
        if isinstance(data, dict):
            names.update(str(k) for k in data)


def _load(path: Path) -> Any:
    try:
        return yamlsrc.load_file(path)
    except InputError:
        raise Unknown(path) from None


def _scan_file(path: Path, playbook_dir: Path, names: set[str], seen: set[Path]) -> None:
    if path in seen:
        return
    seen.add(path)
    _scan(_load(path), path.parent, playbook_dir, names, seen)


def _scan(data: Any, here: Path, playbook_dir: Path, names: set[str], seen: set[Path]) -> None:
    if isinstance(data, list):
        for element in data:
            _scan(element, here, playbook_dir, names, seen)
        return
    if not isinstance(data, dict):
        return
    if isinstance(data.get("register"), str):
        names.add(data["register"])
    for key, value in data.items():
        if key in SET_FACT:
            if any(is_template(str(k)) for k in (value if isinstance(value, dict) else [str(value).split("=")[0]])):
                raise Unknown(value)  # a templated name ("{{ item.key }}": value): known when it runs
            names.update(str(k) for k in value) if isinstance(value, dict) else names.update(
                _KV_NAME.findall(str(value)))
        elif key in INCLUDE_VARS:
            scope = value.get("name") if isinstance(value, dict) else None
            if not scope:
                raise Unknown(value)
            names.add(str(scope))
        elif key in INCLUDE_TASKS:
            name = value.get("file") if isinstance(value, dict) else value
            _scan_file(_find(name, [here, here.parent, playbook_dir]), playbook_dir, names, seen)
        elif key in INCLUDE_ROLE and isinstance(value, dict):
            _scan_role(value.get("name"), value.get("tasks_from"), [here.parent.parent], playbook_dir, names, seen)
        elif key in ("block", "rescue", "always"):
            _scan(value, here, playbook_dir, names, seen)
