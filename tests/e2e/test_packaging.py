"""`pip install .` into a fresh venv gives a working `fleet` with its modules and roles."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = subprocess.run([str(venv / "bin/pip"), "install", "-q", "--disable-pip-version-check", str(REPO)],
                         capture_output=True, text=True, timeout=900)
    assert pip.returncode == 0, pip.stdout + pip.stderr
    return venv


def _run(venv: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PATH=f"{venv / 'bin'}:{os.environ['PATH']}", NO_COLOR="1", COLUMNS="200")
    env.pop("PYTHONPATH", None)
    return subprocess.run([str(venv / "bin/fleet"), *args], capture_output=True, text=True, cwd=cwd, env=env,
                          timeout=120)


def test_installed_fleet_finds_builtin_modules_and_roles(installed: Path, tmp_path: Path) -> None:
    listing = _run(installed, "modules", cwd=tmp_path)
    assert listing.returncode == 0, listing.stderr
    names = {line.split()[0] for line in listing.stdout.splitlines() if line.strip()}
    assert {"file", "copy", "template", "lineinfile", "blockinfile", "command", "shell", "stat", "ping",
            "setup"} <= names
    doc = _run(installed, "modules", "lineinfile", cwd=tmp_path)
    assert "insertafter" in doc.stdout and "regexp" in doc.stdout

    (tmp_path / "uses-base.yml").write_text("- hosts: all\n  roles: [base]\n")
    code = ("from fleet import api; p = api.prepare('uses-base.yml', ['localhost,']); "
            "print(p.playbook.plays[0].roles[0].path)")
    where = subprocess.run([str(installed / "bin/python"), "-c", code], capture_output=True, text=True,
                           cwd=tmp_path)
    assert where.returncode == 0, where.stderr
    role_path = Path(where.stdout.strip())
    assert str(installed) in str(role_path) and (role_path / "tasks" / "main.yml").is_file()


def test_installed_fleet_applies_a_playbook(installed: Path, tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    (tmp_path / "play.yml").write_text(
        "- hosts: all\n"
        "  gather_facts: false\n"
        "  tasks:\n"
        f"    - copy: {{dest: {target}, content: installed}}\n"
    )
    result = _run(installed, "apply", "-i", "localhost,", "-c", "local", "play.yml", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert target.read_text() == "installed"
