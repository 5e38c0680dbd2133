"""Helpers of the bake and chroot integration tests: a lab root filesystem as a directory."""

from __future__ import annotations

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
