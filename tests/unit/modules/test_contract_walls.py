"""The contract's guarantees, and that its checks catch a module breaking them: params are
read-only, observe/would_run get a handle that cannot write, and modules write only through
the runner's HostWriter (no file or process call of their own)."""

from __future__ import annotations

import ast
import dataclasses
import types
from dataclasses import dataclass

import pytest

from fleet.agent import contract, runner
from fleet.agent.errors import ReadOnlyHostError
from fleet.agent.hostio import HostReader, HostWriter

from .conftest import MODULES_DIR, load_module

NAMES = sorted(p.stem for p in MODULES_DIR.glob("*.py"))
# what only the writer may call: the modules' own source must not
WRITES = {
    "os": {"chmod", "chown", "lchown", "fchmod", "fchown", "rename", "replace", "unlink", "remove",
           "rmdir", "removedirs", "mkdir", "makedirs", "symlink", "link", "write", "truncate",
           "ftruncate", "utime", "mkfifo", "mknod", "system", "popen", "execv", "execvp", "spawnv",
           "kill", "setxattr", "removexattr"},
    "shutil": {"copy", "copy2", "copyfile", "copytree", "copymode", "copystat", "move", "rmtree",
               "chown"},
    "subprocess": {"run", "call", "check_call", "check_output", "Popen"},
    "tempfile": {"mkstemp", "mkdtemp", "NamedTemporaryFile", "TemporaryDirectory"},
}
METHODS = {"write_text", "write_bytes", "touch", "unlink", "rmdir", "mkdir", "rename", "chmod"}


def forbidden_writes(source: str) -> list:
    """``line: call`` for every write a module's source makes without the writer."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        fn = node.func
        named = isinstance(fn, ast.Attribute) and isinstance(fn.value, ast.Name)
        if named and fn.attr in WRITES.get(fn.value.id, ()):
            found.append(f"{node.lineno}: {fn.value.id}.{fn.attr}")
            continue
        if isinstance(fn, ast.Attribute) and fn.attr in METHODS and not (
                isinstance(fn.value, ast.Name) and fn.value.id in ("host", "writer")):
            found.append(f"{node.lineno}: .{fn.attr}()")
        if isinstance(fn, ast.Name) and fn.id == "open":
            mode = node.args[1] if len(node.args) > 1 else next(
                (k.value for k in node.keywords if k.arg == "mode"), None)
            text = mode.value if isinstance(mode, ast.Constant) else "r" if mode is None else "?"
            if not isinstance(text, str) or set(text) & set("wax+?"):
                found.append(f"{node.lineno}: open(..., {text!r})")
    return found


@pytest.mark.parametrize("name", NAMES)
def test_module_writes_only_through_the_writer(name: str) -> None:
    assert forbidden_writes((MODULES_DIR / f"{name}.py").read_text("utf-8")) == []


@pytest.mark.parametrize("snippet", [
    "open(path, 'w').write('x')", "open(path, mode='ab')", "os.chmod(path, 0o600)",
    "os.rename(a, b)", "shutil.copytree(a, b)", "subprocess.run(['ls'])", "Path(p).write_text('x')",
    "os.rmdir(path)",
])
def test_the_scan_catches_a_direct_write(snippet: str) -> None:
    assert forbidden_writes(snippet) != []
    assert forbidden_writes("host.write_file(path, b'x'); open(path).read(); host.rmdir(p)") == []


def test_reader_refuses_every_write_the_writer_offers() -> None:
    """observe and would_run get a HostReader: each of the writer's own methods raises there."""
    reader = HostReader()
    own = [n for n, v in vars(HostWriter).items() if callable(v) and not n.startswith("_")]
    assert {"write_file", "overwrite", "rmdir", "copy_tree", "run"} <= set(own)
    for name in own:
        with pytest.raises(ReadOnlyHostError):
            getattr(reader, name)("/nonexistent", b"", 0, 0, 0)


def _module(**hooks) -> types.ModuleType:
    @dataclass(frozen=True)
    class Params:
        path: str = contract.param("a path", "/nonexistent")

    module = types.ModuleType("fleet_module_test")
    module.Params = Params
    for key, value in hooks.items():
        setattr(module, key, value)
    return module


def test_a_module_cannot_change_its_params() -> None:
    def observe(p, host):
        return {"seen": p.path}

    def apply(p, host, cur, want, outcome):
        p.path = "/elsewhere"  # a v1 habit: smuggling a value through params

    module = _module(observe=observe, desired=lambda p, cur: {"seen": "/x"}, apply=apply)
    result = runner.execute(module, {}, False, False)
    assert result["status"] == "failed" and "cannot assign to field 'path'" in result["msg"], result
    for name in NAMES:
        fields = dataclasses.fields(load_module(name).Params)
        assert load_module(name).Params.__dataclass_params__.frozen, name
        assert fields, name


def test_observe_gets_a_handle_that_cannot_write(tmp_path) -> None:
    target = tmp_path / "f"

    def observe(p, host):
        host.write_file(str(target), b"x")
        return {}

    module = _module(observe=observe, desired=lambda p, cur: {}, apply=lambda *a: None)
    result = runner.execute(module, {}, True, False)
    assert result["status"] == "failed" and "read-only" in result["msg"], result
    assert not target.exists()


def test_what_apply_produced_comes_through_the_outcome() -> None:
    state = {"v": 1}

    def apply(p, host, cur, want, outcome):
        state["v"] = 2
        outcome.report(backup_file="/b")
        outcome.warn("other", "the host keeps it")

    module = _module(observe=lambda p, host: dict(state), desired=lambda p, cur: {"v": 2},
                     apply=apply)
    result = runner.execute(module, {}, False, False)
    assert result["status"] == "changed" and result["data"]["backup_file"] == "/b", result
    assert result["warnings"] == ["other: the host keeps it"]


@pytest.mark.parametrize(("hooks", "frozen", "documented", "problem"), [
    ({"observe": lambda p, h: {}, "desired": lambda p, c: {}, "apply": lambda p, h, c, w, o: None},
     False, True, "Params must be frozen"),
    ({"observe": lambda p, h: {}, "desired": lambda p, c: {}, "apply": lambda p, h, c, w, o: None},
     True, False, "Params.path has no description"),
    ({"observe": lambda p, h: {}, "desired": lambda p, c: {}, "apply": lambda p, h, c, w: {}},
     True, True, "apply takes 4 arguments, the contract 5"),
    ({"run": lambda p, h, o: None, "check": lambda p, extra: None}, True, True,
     "check takes 2 arguments, the contract 1"),
    ({"observe": lambda p, h: {}, "desired": lambda p, c: {}}, True, True, "needs apply()"),
    ({"run": lambda p, h, o: None, "snapshot": lambda p, h: {}}, True, True,
     "snapshot and revert come together"),
    ({"run": lambda p, h, o: None, "ALIASES": ["x"]}, True, True, "ALIASES must be a dict"),
])
def test_the_contract_check_catches_a_broken_module(hooks, frozen, documented, problem) -> None:
    field = contract.param("a path", "/x") if documented else dataclasses.field(default="/x")
    namespace = {"__annotations__": {"path": str}, "path": field}
    params = dataclass(frozen=frozen)(type("Params", (), namespace))
    module = types.ModuleType("fleet_module_broken")
    module.Params = params
    for key, value in hooks.items():
        setattr(module, key, value)
    found = contract.problems(module, strict=True)
    assert any(problem in text for text in found), found


def test_hooks_are_read_only_through_the_contract() -> None:
    with pytest.raises(KeyError, match="not part of the module contract"):
        contract.hook(load_module("ping"), "_ran")
