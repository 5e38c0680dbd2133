"""Helpers of the bake and chroot integration tests: a lab root filesystem as a directory."""

from __future__ import annotations

import contextlib
import subprocess
from pathlib import Path
from typing import Any


def export_image(client: Any, image: str, dest: Path) -> Path:
    """The image's filesystem unpacked into ``dest`` (``docker create`` + ``docker export``).

    Faster than debootstrap, and the same tree the lab image was imported from.
    """
    dest.mkdir(parents=True, exist_ok=True)
    container = client.containers.create(image, ["/bin/true"])
    try:
        export = subprocess.Popen(["docker", "export", container.id], stdout=subprocess.PIPE)
        untar = subprocess.run(["tar", "-x", "--numeric-owner", "-C", str(dest)], stdin=export.stdout,
                               capture_output=True, text=True)
        assert export.stdout is not None
        export.stdout.close()
        if export.wait() != 0 or untar.returncode != 0:
            raise AssertionError(f"exporting {image} failed: {untar.stderr[-500:]}")
    finally:
        container.remove(force=True)
    (dest / ".dockerenv").unlink(missing_ok=True)  # docker's marker: this tree is no container
    return dest


def copy_tree(source: Path, dest: Path) -> Path:
    """A copy of a root filesystem (owners, modes, links, devices kept)."""
    subprocess.run(["cp", "-a", "--reflink=auto", str(source), str(dest)], check=True)
    return dest


def boot(client: Any, image: str, name: str, timeout: float = 90) -> Any:
    """A container from ``image`` started as the lab starts its hosts (systemd as PID 1),
    once systemd has finished booting."""
    import time

    container = client.containers.run(
        image, name=name, hostname=name, detach=True, environment={"container": "docker"},
        tmpfs={"/run": "rw,mode=755", "/run/lock": "rw"},
        volumes={"/sys/fs/cgroup": {"bind": "/sys/fs/cgroup", "mode": "ro"}}, stop_signal="SIGRTMIN+3")
    deadline = time.monotonic() + timeout
    state = ""
    while time.monotonic() < deadline:
        code, out = container.exec_run(["systemctl", "is-system-running"])
        state = out.decode().strip()
        if state in ("running", "degraded"):
            return container
        time.sleep(0.3)
    container.remove(force=True)
    raise AssertionError(f"{image}: systemd did not boot within {timeout:.0f} s ({state})")


def bake_containers(client: Any) -> list[str]:
    """Names of bake containers that exist (a clean bake leaves none)."""
    return [c.name for c in client.containers.list(all=True) if c.name.startswith("fleet-bake-")]


def remove_images(client: Any, *tags: str) -> None:
    import docker.errors

    for tag in tags:
        with contextlib.suppress(docker.errors.ImageNotFound):
            client.images.remove(tag, force=True)
