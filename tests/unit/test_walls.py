"""The walls between fleet's rooms, read from the source (every import statement, also those
inside functions and under ``if TYPE_CHECKING:``: a deferred import still ties two rooms).

- the agent (``fleet/agent/``) and the modules (``modules/``) run on the host with its Python
  alone: they import the standard library and ``fleet.agent`` only;
- the transports (``fleet/transport/``) start commands on a host: of fleet they import only its
  errors;
- the executor neither prints nor parses command lines: no click, no rich;
- the report and drift renderers, the persistence daemon and the connection layer work from
  what they are given: none imports the executor;
- a package with a face (an ``__all__`` in its ``__init__``) is entered through it: a module of
  another package imports ``fleet.X`` (or a sub-package's face), never ``fleet.X.module``.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FLEET = ROOT / "fleet"


@dataclass(frozen=True)
class Import:
    """One imported module name, where it is imported."""

    file: Path
    line: int
    module: str  # absolute dotted name ("" for a relative import that leaves fleet)

    def __str__(self) -> str:
        return f"{self.file.relative_to(ROOT)}:{self.line}: imports {self.module}"


def module_name(path: Path) -> str:
    """``fleet.executor.task`` for fleet/executor/task.py; ``fleet.executor`` for its __init__."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_package(dotted: str) -> bool:
    return (ROOT / dotted.replace(".", "/") / "__init__.py").is_file()


def _is_module(dotted: str) -> bool:
    return (ROOT / dotted.replace(".", "/")).with_suffix(".py").is_file() or _is_package(dotted)


def imports(path: Path) -> Iterator[Import]:
    """Every module ``path`` imports: ``import a.b`` gives a.b; ``from a import b`` gives a, and
    a.b as well when b is a module of package a."""
    own = module_name(path)
    package = own if path.name == "__init__.py" else own.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(path, node.lineno, alias.name)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(anchor + ([node.module] if node.module else []))
            yield Import(path, node.lineno, base)
            for alias in node.names:
                if _is_module(f"{base}.{alias.name}"):
                    yield Import(path, node.lineno, f"{base}.{alias.name}")


def files(*rooms: str) -> list[Path]:
    """The Python files under ``rooms`` (directories relative to the project root)."""
    found = [p for room in rooms for p in sorted((ROOT / room).rglob("*.py"))]
    assert found, f"no Python files under {rooms}: the wall guards nothing"
    return found


def breaches(paths: list[Path], allowed: Callable[[Import], bool]) -> list[str]:
    """The imports of ``paths`` that ``allowed(import)`` refuses."""
    return [str(imp) for path in paths for imp in imports(path) if not allowed(imp)]


def _top(name: str) -> str:
    return name.partition(".")[0]


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def test_agent_and_modules_import_only_the_stdlib_and_the_agent() -> None:
    def allowed(imp: Import) -> bool:
        if imp.file.name == "ansibleserver.py" and _within(imp.module, "ansible.module_utils"):
            return True  # the fork server imports it from the payload the controller sent, in memory
        return _top(imp.module) in sys.stdlib_module_names or _within(imp.module, "fleet.agent")

    assert breaches(files("fleet/agent", "modules"), allowed) == []


def test_transports_import_nothing_of_fleet_but_errors() -> None:
    def allowed(imp: Import) -> bool:
        return _top(imp.module) != "fleet" or _within(imp.module, "fleet.transport") or imp.module == "fleet.errors"

    assert breaches(files("fleet/transport"), allowed) == []


def test_the_executor_does_not_print_or_parse_command_lines() -> None:
    def allowed(imp: Import) -> bool:
        return _top(imp.module) not in ("click", "rich")

    assert breaches(files("fleet/executor"), allowed) == []


@pytest.mark.parametrize("room", ["fleet/report", "fleet/drift", "fleet/connection", "fleet/connection/mux"])
def test_renderers_daemon_and_connections_do_not_import_the_executor(room: str) -> None:
    def allowed(imp: Import) -> bool:
        return not _within(imp.module, "fleet.executor")

    assert breaches(files(room), allowed) == []


def faces() -> set[str]:
    """The packages (and sub-packages) of fleet whose ``__init__`` declares an ``__all__``."""
    found = set()
    for init in FLEET.rglob("__init__.py"):
        tree = ast.parse(init.read_text())
        if any(isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "__all__" for t in node.targets)
               for node in tree.body):
            found.add(module_name(init))
    return found


def deep_imports(paths: list[Path], with_faces: set[str]) -> list[str]:
    """Imports of a module inside another top-level package of fleet that has a face (itself
    or a sub-package's face is fine)."""
    out = []
    for path in paths:
        inside = path.relative_to(FLEET).parts
        own = inside[0] if len(inside) > 1 else None  # the top-level package the file is in
        for imp in imports(path):
            parts = imp.module.split(".")
            if parts[0] != "fleet" or len(parts) < 3 or parts[1] == own:
                continue  # not fleet, a top-level module or a face, or the package's own module
            if ".".join(parts[:2]) in with_faces and imp.module not in with_faces:
                out.append(str(imp))
    return out


def test_packages_with_a_face_are_entered_through_it() -> None:
    with_faces = faces()
    assert {"fleet.connection", "fleet.executor", "fleet.templating", "fleet.transport"} <= with_faces
    assert deep_imports(files("fleet"), with_faces) == []



def test_only_the_bridge_imports_ansible() -> None:
    """ansible-core (GPL-3.0, an optional extra) is imported by fleet/bridge alone (at run time,
    by name); the host's fork server imports the module_utils the payload brought."""
    def allowed(imp: Import) -> bool:
        if _top(imp.module) not in ("ansible", "ansible_collections"):
            return True
        inside = imp.file.relative_to(FLEET).parts
        return inside[0] == "bridge" or (imp.file.name == "ansibleserver.py"
                                         and _within(imp.module, "ansible.module_utils"))

    assert breaches(files("fleet"), allowed) == []
    executor = [str(imp) for path in files("fleet/executor") for imp in imports(path)
                if _within(imp.module, "fleet.bridge") and imp.module != "fleet.bridge"]
    assert executor == [], "the executor reaches the bridge through its face"
