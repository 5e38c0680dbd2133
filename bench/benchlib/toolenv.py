"""The other tools' environments: one virtualenv per tool, pinned versions, outside the repo.

``python bench/setup_tools.py`` creates them under :func:`default_tools_dir`
(``$FLEET_BENCH_TOOLS``, else ``~/.cache/fleet-bench/venvs``), with pip, from the package
index pip is configured for. Each venv records what it holds in ``fleet-bench-tool.json``;
a runner refuses a venv whose pins differ from :data:`ENVS` (re-run the setup).

Current ansible-core needs Python >= 3.12 on the controller: the Ansible venvs use the first
Python 3.12 found (see :func:`find_python312`). pyinfra's venv uses the harness's own Python,
the one fleet runs with.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

MARKER = "fleet-bench-tool.json"


@dataclass(frozen=True)
class ToolEnv:
    """One venv: its name, the pinned requirements, and which Python builds it."""

    name: str
    requirements: tuple[str, ...]
    needs_python312: bool
    why: str

    def path(self, tools_dir: Path) -> Path:
        return tools_dir / self.name


# ansible-core 2.21.5: the newest release (needs Python >= 3.12). Mitogen 0.3.54, the newest,
# has code paths for ansible-core 2.21 (ansible_mitogen checks ">= (2, 21)") and only a lower
# bound on the Ansible version; it runs the workloads on 2.21.5 here. All three Ansible
# configurations therefore use the same ansible-core release.
ENVS: dict[str, ToolEnv] = {
    "ansible": ToolEnv("ansible", ("ansible-core==2.21.5",), True,
                       "ansible-core, latest release (used by `ansible` and `ansible-pipelining`)"),
    "ansible-mitogen": ToolEnv("ansible-mitogen", ("ansible-core==2.21.5", "mitogen==0.3.54"), True,
                               "ansible-core plus Mitogen, latest releases"),
    "pyinfra": ToolEnv("pyinfra", ("pyinfra==3.10.0",), False, "pyinfra, latest release"),
}


def default_tools_dir() -> Path:
    """``$FLEET_BENCH_TOOLS``, else ``~/.cache/fleet-bench/venvs``."""
    configured = os.environ.get("FLEET_BENCH_TOOLS")
    return Path(configured).expanduser() if configured else Path.home() / ".cache" / "fleet-bench" / "venvs"


def _python_version(python: str) -> tuple[int, int] | None:
    try:
        done = subprocess.run([python, "-c", "import sys; print(*sys.version_info[:2])"],
                              capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    parts = done.stdout.split()
    return (int(parts[0]), int(parts[1])) if done.returncode == 0 and len(parts) == 2 else None


def python312_candidates() -> list[str]:
    """Where a Python 3.12 may be: ``$FLEET_BENCH_PYTHON312``, pyenv's versions, then PATH."""
    found = [os.environ.get("FLEET_BENCH_PYTHON312", "")]
    found += sorted(glob.glob(str(Path.home() / ".pyenv" / "versions" / "3.12*" / "bin" / "python3.12")), reverse=True)
    found += [shutil.which("python3.12") or ""]
    return [c for c in found if c]


def find_python312() -> str | None:
    """The first candidate that really is a Python 3.12 (None when there is none)."""
    for candidate in python312_candidates():
        if _python_version(candidate) == (3, 12):
            return candidate
    return None


def venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def read_marker(venv: Path) -> dict[str, object] | None:
    """What the setup recorded in ``venv`` (None when it is not a finished setup)."""
    try:
        return json.loads((venv / MARKER).read_text())
    except (OSError, ValueError):
        return None


def problem(env: ToolEnv, tools_dir: Path) -> str | None:
    """Why ``env``'s venv cannot be used (missing, unfinished, other pins), or None."""
    venv = env.path(tools_dir)
    marker = read_marker(venv)
    fix = "run `python bench/setup_tools.py`"
    if marker is None or not venv_python(venv).exists():
        return f"no {env.name} environment in {tools_dir}: {fix}"
    if tuple(marker.get("requirements", ())) != env.requirements:
        return f"the {env.name} environment in {venv} has other pins than {list(env.requirements)}: {fix}"
    return None


def installed_versions(venv: Path) -> dict[str, str]:
    """Installed distributions of a venv and their versions, from its ``*.dist-info`` names."""
    versions = {}
    for info in venv.glob("lib/python*/site-packages/*.dist-info"):
        name, _, version = info.name.removesuffix(".dist-info").partition("-")
        versions[name.lower().replace("_", "-")] = version
    return versions


def venv_python_version(venv: Path) -> str:
    """The venv's Python version, from ``pyvenv.cfg``."""
    try:
        for line in (venv / "pyvenv.cfg").read_text().splitlines():
            key, _, value = line.partition("=")
            if key.strip() in ("version", "version_info"):
                return value.strip()
    except OSError:
        pass
    return "?"


def site_packages(venv: Path) -> Path | None:
    found = sorted(venv.glob("lib/python*/site-packages"))
    return found[0] if found else None


def create(env: ToolEnv, tools_dir: Path, python: str | None = None, log=print) -> Path:
    """(Re)create ``env``'s venv with pip and its pinned requirements; the venv's path.

    ``python`` defaults to a Python 3.12 for the Ansible venvs and the harness's own Python
    otherwise. RuntimeError when no suitable Python exists or pip fails.
    """
    if python is None:
        python = find_python312() if env.needs_python312 else sys.executable
    if python is None:
        raise RuntimeError(f"{env.name} needs Python 3.12 on the controller and none was found "
                           f"(looked at {', '.join(python312_candidates()) or 'nothing'}); "
                           "install one (e.g. `pyenv install 3.12`) or set FLEET_BENCH_PYTHON312")
    venv = env.path(tools_dir)
    shutil.rmtree(venv, ignore_errors=True)
    venv.parent.mkdir(parents=True, exist_ok=True)
    log(f"{env.name}: creating {venv} with {python}")
    subprocess.run([python, "-m", "venv", str(venv)], check=True)
    pip = [str(venv_python(venv)), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    log(f"{env.name}: pip install {' '.join(env.requirements)}")
    done = subprocess.run([*pip, *env.requirements], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"pip install for {env.name} failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    marker = {"tool": env.name, "requirements": list(env.requirements), "python": venv_python_version(venv),
              "installed": installed_versions(venv)}
    (venv / MARKER).write_text(json.dumps(marker, indent=2) + "\n")
    return venv
