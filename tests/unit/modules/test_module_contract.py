"""Every module follows the contract (fleet.agent.contract): one stdlib-only file, a frozen
Params whose every field has a description, hooks with the contract's signatures, sane aliases.

Also runs the modules under a real Python 3.8 when one is installed (targets may be that
old), through the agent's runner, on a temp directory.
"""

from __future__ import annotations

import ast
import dataclasses
import glob
import json
import shutil
import subprocess
import sys
import textwrap

import pytest

from fleet.agent import AGENT_MODULES, contract
from tests.conftest import require

from .conftest import MODULES_DIR, ROOT, load_module

SYSTEM = ["apt", "package", "systemd", "hostname", "timezone", "locale", "user", "group", "authorized_key", "sudoers", "sysctl", "kernel_module", "pam_limits", "mount", "cron", "sshd_config", "nftables", "networkd", "hosts"]
OURS = ["file", "copy", "lineinfile", "blockinfile", "command", "shell", "stat", "ping", "setup", *SYSTEM]
SHAPES = {
    **{name: "state" for name in SYSTEM},
    "file": "state",
    "copy": "state",
    "lineinfile": "state",
    "blockinfile": "state",
    "command": "imperative",
    "shell": "imperative",
    "stat": "info",
    "ping": "info",
    "setup": "info",
}


AGENT_IMPORTS = {f"fleet.agent.{m}" for m in AGENT_MODULES}


@pytest.mark.parametrize("name", OURS)
def test_contract(name: str) -> None:
    path = MODULES_DIR / f"{name}.py"
    source = path.read_text("utf-8")
    assert len(source.splitlines()) <= 440, "keep a module to ~400 lines"
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots = [a.name.split(".")[0] for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.module in AGENT_IMPORTS or node.module == "__future__":
                continue
            roots = [(node.module or "").split(".")[0]]
        else:
            continue
        for root in roots:
            assert root in sys.stdlib_module_names, f"{name} imports {root}"
    module = load_module(name)
    doc = (module.__doc__ or "").strip()
    assert doc and len(doc.splitlines()[0]) <= 100 and doc.splitlines()[0].endswith(".")
    assert contract.problems(module, strict=True) == []
    fields = {f.name for f in dataclasses.fields(module.Params)}
    for alias, target in getattr(module, "ALIASES", {}).items():
        assert target in fields and alias not in fields, (alias, target)
    assert contract.shape(module) == SHAPES[name]
    assert all(len(line) <= 100 for line in source.splitlines()), "lines of at most 100 characters"


def _python38() -> str | None:
    candidates = [shutil.which("python3.8")] + sorted(
        glob.glob("/root/.pyenv/versions/3.8*/bin/python3.8")
    )
    candidates += sorted(glob.glob("/usr/bin/python3.8")) + sorted(
        glob.glob("/usr/local/bin/python3.8")
    )
    for candidate in candidates:
        if not candidate:
            continue
        probe = subprocess.run(
            [candidate, "-c", "import sys; print(sys.version_info[:2])"],
            capture_output=True,
            text=True,
        )
        if probe.returncode == 0 and probe.stdout.strip() == "(3, 8)":
            return candidate
    return None


SCRIPT = textwrap.dedent("""
    import json, os, sys, tempfile, types
    ROOT = sys.argv[1]
    sys.path.insert(0, ROOT)
    from fleet.agent import runner

    def load(name):
        module = types.ModuleType("fleet_module_" + name)
        sys.modules[module.__name__] = module
        with open(os.path.join(ROOT, "modules", name + ".py")) as handle:
            exec(compile(handle.read(), name, "exec"), module.__dict__)
        return module

    tmp = tempfile.mkdtemp()
    f = os.path.join(tmp, "f")
    calls = [
        ("ping", {}), ("setup", {}), ("stat", {"path": tmp}),
        ("file", {"path": os.path.join(tmp, "d/e"), "state": "directory", "mode": "0750"}),
        ("file", {"path": os.path.join(tmp, "t"), "state": "touch"}),
        ("file", {"path": os.path.join(tmp, "l"), "src": "t", "state": "link"}),
        ("copy", {"dest": f, "content": "a\\n", "validate": "grep -q a %s", "backup": True}),
        ("copy", {"dest": f, "content": "b\\n", "backup": True}),
        ("lineinfile", {"path": f, "regexp": "^b", "line": "c", "mode": "u=rw,go="}),
        ("blockinfile", {"path": f, "block": "x"}),
        ("command", {"argv": ["echo", "hi"]}),
        ("shell", {"cmd": "echo $((1+2))"}),
        ("command", {"cmd": "false", "creates": tmp}),
    ]
    out = []
    for name, params in calls:
        for check in (True, False):
            result = runner.execute(load(name), params, check, True)
            out.append([name, check, result["status"], result["msg"]])
    print(json.dumps(out))
""")


def test_modules_run_on_python38() -> None:
    python = _python38()
    require(python is not None, "no Python 3.8 interpreter on this machine")
    assert python is not None
    proc = subprocess.run(
        [python, "-c", SCRIPT, str(ROOT)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    results = json.loads(proc.stdout)
    for name, check, status, msg in results:
        assert status != "failed", (name, check, msg)
    applied = [(n, s) for n, check, s, _m in results if not check]
    assert applied == [
        ("ping", "ok"),
        ("setup", "ok"),
        ("stat", "ok"),
        ("file", "changed"),
        ("file", "changed"),
        ("file", "changed"),
        ("copy", "changed"),
        ("copy", "changed"),
        ("lineinfile", "changed"),
        ("blockinfile", "changed"),
        ("command", "changed"),
        ("shell", "changed"),
        ("command", "ok"),
    ]
