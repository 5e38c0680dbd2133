"""Making sure a Docker engine answers: on Debian as root, install and start it if needed."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable

from fleet.errors import FleetError

PACKAGES = ("docker.io", "debootstrap")


def engine_answers() -> bool:
    try:
        import docker

        docker.from_env().ping()
    except Exception:
        return False
    return True


def ensure_engine(say: Callable[[str], None] = print, timeout: float = 60.0) -> None:
    """Install docker.io + debootstrap (apt, as root) and start dockerd when nothing answers."""
    missing = [p for p, tool in (("docker.io", "dockerd"), ("debootstrap", "debootstrap")) if not _have(tool)]
    if missing:
        if os.geteuid() != 0 or shutil.which("apt-get") is None:
            raise FleetError(f"missing {' and '.join(missing)}: install them (Debian: apt-get install "
                             f"{' '.join(missing)}) and start dockerd, or run this as root on Debian")
        say(f"installing {' '.join(missing)} with apt-get")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        install = ["apt-get", "install", "-y", "-q", *missing]
        if subprocess.run(install, env=env, capture_output=True).returncode != 0:
            subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True)
            result = subprocess.run(install, env=env, capture_output=True, text=True)
            if result.returncode != 0:
                raise FleetError(f"apt-get install {' '.join(missing)} failed: {result.stderr.strip()[-500:]}")
    if engine_answers():
        return
    if os.geteuid() != 0:
        raise FleetError("no Docker engine answers: start dockerd (or run this as root to start it)")
    say("starting dockerd")
    log = open("/var/log/fleet-dockerd.log", "ab")  # noqa: SIM115 - handed to the daemon
    subprocess.Popen(["dockerd"], stdout=log, stderr=log, start_new_session=True)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if engine_answers():
            return
        time.sleep(0.5)
    raise FleetError(f"dockerd did not answer within {timeout:.0f} s (see /var/log/fleet-dockerd.log)")


def _have(tool: str) -> bool:
    return shutil.which(tool) is not None or os.access(f"/usr/sbin/{tool}", os.X_OK)
