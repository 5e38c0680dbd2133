"""sudoers: the rule text, file names sudo would skip, and visudo validation (a refused rule
installs nothing, in check mode or not). The visudo tests need visudo (sudo installed) and
root (the file is chowned to root): skipped otherwise, a failure under CI=true (which runs as root
with sudo installed); the lab tests prove them on real hosts too."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from fleet.agent import runner
from tests.conftest import require

from .conftest import controller_params, load_module, run_module

sudoers = load_module("sudoers")


@pytest.fixture
def as_root() -> None:
    """The module chowns the file to root."""
    require(os.geteuid() == 0, "the sudoers tests that install a file need root (it is chowned to root)")


@pytest.fixture
def visudo(as_root: None) -> None:
    """Validation runs visudo."""
    found = shutil.which("visudo", path=os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"]))
    require(found is not None, "visudo is not installed (install sudo)")


@pytest.mark.parametrize(("params", "text"), [
    ({"user": "bob", "commands": ["ALL"]}, "bob ALL=NOPASSWD: ALL\n"),
    ({"group": "wheel", "commands": "ALL", "nopassword": False}, "%wheel ALL= ALL\n"),
    ({"user": "bob", "commands": ["/a", "/b c"], "runas": "alice", "setenv": True},
     "bob ALL=(alice)NOPASSWD:SETENV: /a, /b c\n"),
    ({"user": "bob", "commands": ["/a"], "noexec": True, "host": "db", "defaults": ["!lecture"]},
     "Defaults:bob !lecture\nbob db=NOEXEC:NOPASSWD: /a\n"),
])
def test_content_as_community_general_writes_it(params: dict, text: str) -> None:
    assert sudoers.content(sudoers.Params(name="x", **params)) == text


@pytest.mark.parametrize(("name", "ok"), [
    ("deploy", True), ("90-cloud-init-users", True), ("a_b", True), ("deploy.conf", False),
    (".hidden", False), ("backup~", False), ("", False), ("a/b", False),
])
def test_names_sudo_reads(name: str, ok: bool) -> None:
    assert (sudoers.name_problem(name) is None) == ok


@pytest.fixture
def sudoers_d(tmp_path: Path) -> Path:
    directory = tmp_path / "sudoers.d"
    directory.mkdir()
    return directory


@pytest.mark.usefixtures("visudo")
def test_valid_rule_is_validated_and_installed(sudoers_d: Path) -> None:
    args = {"name": "deploy", "user": "deploy", "commands": ["/bin/true"], "runas": "root",
            "sudoers_path": str(sudoers_d), "validation": "required"}
    result = run_module("sudoers", args)
    assert result["status"] == "changed", result
    target = sudoers_d / "deploy"
    assert target.read_text() == "deploy ALL=(root)NOPASSWD: /bin/true\n"
    st = target.stat()
    assert (st.st_mode & 0o7777, st.st_uid, st.st_gid) == (0o440, 0, 0)
    assert run_module("sudoers", args)["status"] == "ok"


@pytest.mark.usefixtures("visudo")
@pytest.mark.parametrize("check", [True, False])
def test_invalid_rule_is_refused_and_nothing_installed(sudoers_d: Path, check: bool) -> None:
    old = sudoers_d / "deploy"
    old.write_text("deploy ALL=NOPASSWD: ALL\n")
    os.chmod(old, 0o440)
    args = {"name": "deploy", "user": "deploy", "commands": ["/bin/true"], "runas": "(root",
            "sudoers_path": str(sudoers_d)}
    result = run_module("sudoers", args, check=check)
    assert result["status"] == "failed"
    assert result["msg"].startswith("Failed to validate sudoers rule:")
    assert "syntax error" in result["msg"]
    assert old.read_text() == "deploy ALL=NOPASSWD: ALL\n"
    assert sorted(p.name for p in sudoers_d.iterdir()) == ["deploy"]  # no temp file left


def _without_visudo(args: dict, check: bool = False) -> dict:
    module = load_module("sudoers")
    vars(module)["visudo"] = lambda: None
    return runner.execute(module, controller_params("sudoers", args), check, False)


def test_validation_required_without_visudo_fails(sudoers_d: Path) -> None:
    args = {"name": "deploy", "user": "deploy", "commands": ["ALL"], "sudoers_path": str(sudoers_d),
            "validation": "required"}
    result = _without_visudo(args, check=True)
    assert result["status"] == "failed" and 'Failed to find required executable "visudo"' in result["msg"]


@pytest.mark.usefixtures("as_root")
def test_validation_detect_without_visudo_writes_unchecked(sudoers_d: Path) -> None:
    args = {"name": "deploy", "user": "deploy", "commands": ["ALL"], "sudoers_path": str(sudoers_d)}
    assert _without_visudo(args)["status"] == "changed"
    assert (sudoers_d / "deploy").read_text() == "deploy ALL=NOPASSWD: ALL\n"
