"""Bake a directory tree in place through the chroot transport; ``--tar`` packs it.

Nothing boots in a chroot and nothing is mounted (no /proc, /sys, /dev). What a tree can
hold is applied: unit files are enabled, masked or disabled with systemctl's offline mode,
sysctl settings, the host name and the firewall ruleset are persisted, sshd's configuration
is checked with a throwaway host key. What needs the running system is never done on the
build machine's kernel instead (the agent knows it runs in a chroot): a unit cannot be
started, a sysctl value or a ruleset cannot be loaded, and every run says so in a warning
(``active: not started: systemd is not running here (a chroot or an image build?)``,
``runtime: persisted, not applied at runtime: /proc/sys is not mounted here (a chroot?)``).
Packages are installed from the tree's own apt sources, which needs name resolution inside
the tree. A failed apply leaves the tree as far as it got (there is no undo) and writes no
tar.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from fleet.bake import run as bake_run
from fleet.bake.spec import BakeSpec
from fleet.errors import FleetError
from fleet.result import RunReport
from fleet.transport import ChrootTransport, check_tree

# GNU tar picks the compressor from the suffix with --auto-compress
COMPRESSED = (".tar.gz", ".tgz", ".tar.xz", ".txz", ".tar.zst", ".tzst", ".tar.bz2", ".tbz2")


@dataclass
class RootfsBake:
    """What a rootfs bake did."""

    root: Path
    report: RunReport
    labels: dict[str, str]
    tar: Path | None
    timings: dict[str, float]


def bake_rootfs(spec: BakeSpec, say: Callable[[str], None] = print) -> RootfsBake:
    """Apply to ``spec.rootfs``; pack it into ``spec.tar``; FleetError naming a failed task."""
    spec.check()
    assert spec.rootfs is not None
    root = spec.rootfs.resolve()
    timings: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="fleet-bake-") as tmp:
        run = bake_run.prepare(spec, Path(tmp), "chroot", str(root))
        check_tree(str(root), None if spec.bootstrap_python else run.interpreter())
        started = time.monotonic()
        say(f"bake {root} (chroot)")
        bootstrapped = bake_run.bootstrap(run, _raw(root, run), say)
        report = bake_run.apply(run)
        timings["apply"] = round(time.monotonic() - started, 2)
        problem = bake_run.failure(report)
        if problem:
            raise FleetError(f"bake failed: {problem}\nthe tree {root} keeps what was applied before the "
                             f"failure" + ("; no tar was written" if spec.tar else ""))
        bake_run.purge(run, _raw(root, run), bootstrapped, say)
        labels = run.labels()
        _write_labels(root, labels)
    if spec.tar is not None:
        started = time.monotonic()
        pack(root, spec.tar)
        timings["tar"] = round(time.monotonic() - started, 2)
    say(f"baked {root}: {bake_run.summary(report)}" + (f"; packed into {spec.tar}" if spec.tar else ""))
    return RootfsBake(root, report, labels, spec.tar, timings)


def _raw(root: Path, run: bake_run.BakeRun) -> ChrootTransport:
    return ChrootTransport(str(root), run.interpreter(), check_python=False)


def _write_labels(root: Path, labels: dict[str, str]) -> None:
    """The labels as ``/etc/fleet-bake`` (KEY=VALUE lines): what an image's labels say."""
    text = "# written by fleet bake: what was applied to this tree\n"
    text += "".join(f"{key}={value}\n" for key, value in labels.items())
    (root / "etc" / "fleet-bake").write_text(text)


def pack(root: Path, tar: Path) -> None:
    """``tar`` of the tree (numeric owners, xattrs, ACLs); compressed by the file's suffix."""
    tar.parent.mkdir(parents=True, exist_ok=True)
    partial = tar.with_name(f".partial-{tar.name}")  # same suffix: --auto-compress reads it
    argv = ["tar", "--numeric-owner", "--xattrs", "--acls", "--one-file-system", "-C", str(root)]
    if tar.name.endswith(COMPRESSED):
        argv.append("--auto-compress")
    result = subprocess.run([*argv, "-cf", str(partial), "."], capture_output=True, text=True)
    if result.returncode != 0:
        partial.unlink(missing_ok=True)
        raise FleetError(f"packing {root} into {tar} failed: {result.stderr.strip()[-500:]}")
    os.replace(partial, tar)
