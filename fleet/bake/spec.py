"""What one ``fleet bake`` is asked to do, checked before anything is created."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from fleet.errors import InputError

# docker's reference grammar, simplified: [registry[:port]/]path[:tag]
_TAG = re.compile(r"^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*(?::[0-9]+)?/)?"
                  r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*"
                  r"(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?$")
_HOST = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")

Boot = Literal["auto", "systemd", "keepalive"]


@dataclass
class BakeSpec:
    """The bake's inputs. ``playbook`` or ``roles`` (not both); an image or a rootfs target."""

    playbook: Path | None = None
    roles: list[str] = field(default_factory=list)
    name: str = "bake"
    extra_vars: dict[str, Any] = field(default_factory=dict)
    role_dirs: list[str] = field(default_factory=list)
    # image -> image
    base: str | None = None  # --from
    tag: str | None = None  # --tag
    boot: Boot = "auto"
    network: str | None = None
    verify: bool = False
    keep_on_failure: bool = False
    keep_host_keys: bool = False
    bootstrap_python: bool = False  # install python3 first if the target has none
    purge_python: bool = False  # and remove what that installed at the end
    # directory tree
    rootfs: Path | None = None
    tar: Path | None = None
    # output
    verbosity: int = 0
    diff: bool = False
    json_path: str | None = None
    secrets: Any = None  # fleet.secrets.Secrets: the vault keyring, and what to redact

    @property
    def target(self) -> str:
        return "rootfs" if self.rootfs is not None else "image"

    def check(self) -> None:
        """InputError naming the first problem with the options."""
        if self.playbook is not None and self.roles:
            raise InputError("give a PLAYBOOK or --role NAME (repeatable), not both")
        if self.playbook is None and not self.roles:
            raise InputError("nothing to bake: give a PLAYBOOK or --role NAME (repeatable)")
        if self.playbook is not None and not self.playbook.is_file():
            raise InputError(f"playbook not found: {self.playbook}")
        if self.purge_python and not self.bootstrap_python:
            raise InputError("--purge-python removes what --bootstrap-python installed: give both")
        if self.json_path == "-":
            raise InputError("--json -: stdout carries the result (image ID or path); give a file")
        if not _HOST.match(self.name):
            raise InputError(f"--name {self.name!r}: use a host name (letters, digits, '.', '_', '-')")
        if self.rootfs is not None:
            self._check_rootfs()
        else:
            self._check_image()

    def _check_rootfs(self) -> None:
        for option, value in (("--from", self.base), ("--tag", self.tag), ("--network", self.network)):
            if value:
                raise InputError(f"{option} is for image bakes; --rootfs bakes a directory tree in place")
        if self.verify:
            raise InputError("--verify needs a running host: testinfra cannot reach a chroot "
                             "(boot the tree as a container or VM and run fleet verify there)")
        if self.boot != "auto":
            raise InputError("--systemd/--keepalive are for image bakes: nothing boots in a chroot")
        if self.rootfs is not None and not self.rootfs.is_dir():
            raise InputError(f"--rootfs {self.rootfs}: not a directory")

    def _check_image(self) -> None:
        if self.tar is not None:
            raise InputError("--tar packs a --rootfs tree (for an image: docker save TAG)")
        if not self.base:
            raise InputError("--from IMAGE is required (or --rootfs DIR to bake a directory tree)")
        if not self.tag:
            raise InputError("--tag NAME[:TAG] is required: the image to create")
        if not _TAG.match(self.tag):
            raise InputError(f"--tag {self.tag!r} is not a valid image reference (name[:tag], lowercase name)")

    @property
    def tag_parts(self) -> tuple[str, str]:
        """``(repository, tag)`` of ``--tag`` (``latest`` when none is given)."""
        assert self.tag is not None
        repository, _, tag = self.tag.rpartition(":")
        if not repository or "/" in tag:  # no tag, or the colon was a registry port
            return self.tag, "latest"
        return repository, tag
