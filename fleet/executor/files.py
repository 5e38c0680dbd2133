"""Finding a task's local files: ``src`` of copy/template, include_vars files.

Ansible's search order: the role's ``files/`` or ``templates/`` (or ``vars/``), the role
directory, the directory of the task file and its ``files/``/``templates/`` neighbour, then the
playbook directory and its subfolder. A relative path may not escape those directories.
"""

from __future__ import annotations

from pathlib import Path

from fleet.errors import InputError, Location
from fleet.playbook import Task


def search_dirs(task: Task, playbook_dir: Path, subdir: str) -> list[Path]:
    dirs: list[Path] = []
    if task.role is not None:
        dirs += [task.role.path / subdir, task.role.path]
    dirs += [task.base_dir / subdir, task.base_dir.parent / subdir, task.base_dir]
    dirs += [playbook_dir / subdir, playbook_dir]
    unique: list[Path] = []
    for directory in dirs:
        if directory not in unique:
            unique.append(directory)
    return unique


def find_file(name: str, task: Task, playbook_dir: Path, subdir: str) -> Path:
    """Resolve ``name`` for ``task``; InputError naming the places searched if absent."""
    path = Path(name).expanduser()
    if path.is_absolute():
        if path.exists():
            return path
        raise InputError(f"{subdir[:-1] if subdir.endswith('s') else subdir} source not found: {path}", task.location)
    dirs = search_dirs(task, playbook_dir, subdir)
    for directory in dirs:
        candidate = (directory / path).resolve()
        if not candidate.is_relative_to(directory.resolve()):
            raise InputError(f"path {name!r} escapes {directory} ('..' is not allowed here)", task.location)
        if candidate.exists():
            return candidate
    searched = ", ".join(str(d) for d in dirs)
    raise InputError(f"could not find {name!r} (searched: {searched})", task.location)


def location_str(location: Location | None) -> str:
    return str(location) if location else ""


class LocalFiles:
    """A run's view of the controller files tasks use (template and copy sources, vars files).

    Lookups are memoised per task context, and contents per path while the file's size and
    mtime stay the same: a template looped over 200 items is found and read once.
    """

    def __init__(self, playbook_dir: Path) -> None:
        self.playbook_dir = playbook_dir
        self._found: dict[tuple, Path] = {}
        self._contents: dict[Path, tuple[int, int, bytes]] = {}

    def find(self, name: str, task: Task, subdir: str) -> Path:
        key = (name, subdir, task.role.path if task.role else None, task.base_dir)
        path = self._found.get(key)
        if path is None:
            path = self._found[key] = find_file(name, task, self.playbook_dir, subdir)
        return path

    def read_bytes(self, path: Path) -> bytes:
        st = path.stat()
        cached = self._contents.get(path)
        if cached is not None and cached[0] == st.st_mtime_ns and cached[1] == st.st_size:
            return cached[2]
        data = path.read_bytes()
        self._contents[path] = (st.st_mtime_ns, st.st_size, data)
        return data
