"""become: one agent per become user on the same SSH connection, via sudo."""

from __future__ import annotations

import pwd
import shutil
import tempfile
from pathlib import Path

import pytest

from tests.conftest import fleet, require
from tests.e2e.conftest import Lab


def test_adhoc_become_user(lab: Lab) -> None:
    require(shutil.which("sudo") is not None, "sudo is not installed")
    result = fleet("run", "-i", str(lab.inventory), "h1", "-b", "--become-user", "nobody", "-a", "id -un")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "nobody" in result.stdout


def test_tasks_run_as_login_user_and_as_become_user_in_one_run(lab: Lab, tmp_path: Path,
                                                                request: pytest.FixtureRequest) -> None:
    require(shutil.which("sudo") is not None, "sudo is not installed")
    shared = Path(tempfile.mkdtemp(prefix="fleet-become-"))  # outside pytest's 0700 tree
    shared.chmod(0o1777)
    playbook = tmp_path / "become.yml"
    playbook.write_text(
        "- hosts: h1\n"
        "  gather_facts: false\n"
        "  tasks:\n"
        f"    - copy: {{dest: {shared}/as-login, content: x}}\n"
        f"    - copy: {{dest: {shared}/as-nobody, content: y}}\n"
        "      become: true\n"
        "      become_user: nobody\n"
        f"    - copy: {{dest: {shared}/as-login-again, content: z}}\n"
    )
    request.addfinalizer(lambda: shutil.rmtree(shared, ignore_errors=True))
    result = fleet("apply", "-i", str(lab.inventory), str(playbook))
    assert result.returncode == 0, result.stdout + result.stderr
    owner = {p.name: pwd.getpwuid(p.stat().st_uid).pw_name for p in shared.iterdir()}
    login = lab.sshd.user
    assert owner == {"as-login": login, "as-nobody": "nobody", "as-login-again": login}
