"""A project directory as a user has it, with modules planted in it that must never be imported.

fleet runs from the directory it was started in; nothing fleet starts (the persistence daemon,
``fleet verify``'s pytest) may import modules from there. Each planted module leaves a marker.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import yaml

from tests.conftest import require
from tests.e2e.conftest import Lab

PLANTED = ("json", "fleet", "asyncssh", "pytest", "conftest", "testinfra", "paramiko")


def plant(directory: Path, markers: Path) -> None:
    """Modules in ``directory`` that leave a marker in ``markers`` when imported."""
    markers.mkdir(exist_ok=True)
    for name in PLANTED:
        (directory / f"{name}.py").write_text(f"open({str(markers / name)!r}, 'w').close()\n")


def console_script() -> str:
    """The ``fleet`` entry point (``python -m fleet`` would itself import from the cwd)."""
    script = shutil.which("fleet", path=str(Path(sys.executable).parent))
    require(script is not None, "the fleet console script is not installed beside this Python")
    assert script is not None
    return script


def fleet_in(cwd: Path, env: dict[str, str], *args: str,
             preexec: Callable[[], None] | None = None) -> subprocess.CompletedProcess[str]:
    """The ``fleet`` command run in ``cwd``, as a user runs it."""
    full_env = dict(os.environ, COLUMNS="200", NO_COLOR="1", TERM="dumb", **env)
    return subprocess.run([console_script(), *args], cwd=cwd, capture_output=True, text=True, timeout=180,
                          env=full_env, stdin=subprocess.DEVNULL, preexec_fn=preexec)


def make_project(lab: Lab, directory: Path) -> None:
    """An inventory with paths relative to ``directory``: the key, known_hosts."""
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copy(lab.sshd.client_key, directory / "id_ed25519")
    (directory / "id_ed25519").chmod(0o600)
    shutil.copy(lab.sshd.known_hosts, directory / "known_hosts")
    hostvars = dict(lab.sshd.host_vars(), ansible_ssh_private_key_file="id_ed25519",
                    ansible_ssh_common_args="-o UserKnownHostsFile=known_hosts")
    (directory / "inventory.yml").write_text(yaml.safe_dump(
        {"all": {"hosts": {"h1": {"root": str(lab.roots["h1"])}}, "vars": hostvars}}))
