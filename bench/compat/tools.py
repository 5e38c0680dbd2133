"""The ansible-playbook venvs of the harness, made with :mod:`benchlib.toolenv`.

* ``compat-ansible-2.18`` -- ansible-core 2.18 (the release of the 2024 snapshot of
  ansible/ansible's integration targets), on the harness's own Python (2.18 runs on 3.11-3.13);
* ``compat-ansible-current`` -- the current ``ansible`` package (ansible-core plus the
  collections public roles use), on Python 3.12.

Both live beside the benchmark's venvs (``~/.cache/fleet-bench/venvs`` or
``$FLEET_BENCH_TOOLS``) and record their pins; :func:`ensure` creates a missing one.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from benchlib import toolenv

ENVS: dict[str, toolenv.ToolEnv] = {
    "2.18": toolenv.ToolEnv("compat-ansible-2.18", ("ansible-core==2.18.19",), False,
                            "ansible-core 2.18 for ansible/ansible's stable-2.18 integration targets"),
    "current": toolenv.ToolEnv("compat-ansible-current", ("ansible==12.3.0",), True,
                               "the current ansible package (ansible-core and collections) for roles"),
}


def ensure(version: str, tools_dir: Path | None = None, log: Callable[[str], object] = print) -> Path:
    """The venv for Ansible ``version`` (``2.18`` or ``current``), created if missing or stale."""
    if version not in ENVS:
        raise ValueError(f"unknown Ansible version {version!r} (known: {', '.join(ENVS)})")
    env = ENVS[version]
    directory = tools_dir or toolenv.default_tools_dir()
    if toolenv.problem(env, directory) is None:
        return env.path(directory)
    return toolenv.create(env, directory, log=log)


def playbook_command(venv: Path) -> Path:
    """``ansible-playbook`` of a venv."""
    return venv / "bin" / "ansible-playbook"
