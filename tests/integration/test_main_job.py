"""The README's main-job command works from a fresh clone with Debian's own python3.

Debian 12's python3 refuses global pip installs (PEP 668), so the command makes its own venv;
it then starts 3 lab hosts, converges them to site.yml and verifies them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

from tests.conftest import REPO, require

LAB = "itmain"


def _debian_first_path() -> str:
    """PATH with Debian's /usr/bin first, so `python3` is the distribution's (pyenv's shims out)."""
    rest = [d for d in os.environ.get("PATH", "").split(":") if d and ".pyenv" not in d]
    return ":".join(["/usr/local/sbin", "/usr/sbin", "/usr/bin", "/sbin", "/bin", *rest])


def test_main_job_command_from_a_fresh_clone(tmp_path: Path) -> None:
    require(shutil.which("git") is not None and (REPO / ".git").exists(), "the main-job test needs a git checkout")
    require(os.path.exists("/usr/lib/python3.11/EXTERNALLY-MANAGED"), "Debian's python3 (PEP 668) is needed")
    clone = tmp_path / "fleet"
    subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True, timeout=120)
    env = dict(os.environ, PATH=_debian_first_path(), FLEET_LAB_DIR=str(tmp_path / "labs"), NO_COLOR="1",
               COLUMNS="200", FLEET_PERSIST="0")
    env.pop("PYTHONPATH", None)
    env.pop("VIRTUAL_ENV", None)

    # What the README used to say fails on this python3 (PEP 668): the reason for the script.
    old = subprocess.run(["python3", "-m", "pip", "install", "--dry-run", "."], cwd=clone, env=env,
                         capture_output=True, text=True, timeout=300)
    assert old.returncode != 0 and "externally-managed-environment" in old.stdout + old.stderr

    started = time.monotonic()
    try:
        done = subprocess.run(["contrib/main-job", "--name", LAB], cwd=clone, env=env, capture_output=True,
                              text=True, timeout=1800, stdin=subprocess.DEVNULL)
        output = done.stdout + done.stderr
        assert done.returncode == 0, output[-6000:]
        assert "Traceback" not in output
        assert "OK —" in output and "3 hosts" in output  # the apply's recap
        assert "passed" in output  # fleet verify's summary
    finally:
        subprocess.run([str(clone / ".venv/bin/fleet"), "lab", "down", "--name", LAB], env=env,
                       capture_output=True, timeout=300)
    print(f"main job from a fresh clone: {time.monotonic() - started:.0f} s")
