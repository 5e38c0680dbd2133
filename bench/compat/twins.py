"""Two fresh lab hosts per item: one for Ansible, one for fleet (``fleet lab up -n 2``).

A twin pair is a lab of its own (name starting with ``compat``) started through fleet's CLI;
``reset`` removes it and starts it again, so every item begins on hosts fresh from the image.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

LAB_TIMEOUT = 300


@dataclass(frozen=True)
class Host:
    """One twin: its address and container, and how to log in (the lab's key and known_hosts)."""

    address: str
    container: str
    user: str
    key: str
    ssh_common_args: str

    def connection_vars(self) -> dict[str, Any]:
        """The inventory variables that reach this host (the same shape for both tools)."""
        return {"ansible_host": self.address, "ansible_user": self.user,
                "ansible_ssh_private_key_file": self.key,
                "ansible_ssh_common_args": self.ssh_common_args,
                "ansible_python_interpreter": "/usr/bin/python3"}


@dataclass(frozen=True)
class Twins:
    """The two hosts of one item."""

    lab: str
    ansible: Host
    fleet: Host


class LabError(RuntimeError):
    """The lab could not start the twins."""


def _fleet(*args: str, timeout: float = LAB_TIMEOUT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "fleet", *args], capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


def down(lab: str) -> None:
    """Remove the lab ``lab`` (its containers and network; nothing else)."""
    _fleet("lab", "down", "--name", lab)


def up(lab: str, workdir: Path, release: str = "bookworm") -> Twins:
    """Start the lab ``lab`` with two hosts of Debian ``release``; LabError naming fleet's message
    when it cannot."""
    if not lab.startswith("compat"):
        raise LabError(f"the harness's labs are named compat*: {lab!r}")
    inventory = workdir / f"{lab}-inventory.yml"
    done = _fleet("lab", "up", "-n", "2", "--name", lab, "--release", release, "--inventory-out", str(inventory))
    if done.returncode != 0:
        raise LabError(f"fleet lab up --name {lab} failed: {(done.stderr or done.stdout).strip()[-500:]}")
    data = yaml.safe_load(inventory.read_text())
    group = data["all"]["children"][lab]
    common = group["vars"]
    hosts = [Host(address=str(values["ansible_host"]), container=str(values["lab_container"]),
                  user=str(common.get("ansible_user", "root")), key=str(common["ansible_ssh_private_key_file"]),
                  ssh_common_args=str(common.get("ansible_ssh_common_args", "")))
             for _, values in sorted(group["hosts"].items())]
    return Twins(lab=lab, ansible=hosts[0], fleet=hosts[1])


def reset(lab: str, workdir: Path, release: str = "bookworm") -> Twins:
    """Fresh twins: the lab removed (if it exists) and started again."""
    down(lab)
    return up(lab, workdir, release)


def exec_root(host: Host, command: str, timeout: float = 120) -> str:
    """Run a shell command as root in the twin's container (harness setup, not a task)."""
    done = subprocess.run(["docker", "exec", host.container, "sh", "-c", command], capture_output=True,
                          text=True, timeout=timeout)
    if done.returncode != 0:
        raise LabError(f"{host.container}: {command!r} exited {done.returncode}: {done.stderr.strip()[-300:]}")
    return done.stdout
