"""The workloads: Ansible-format playbooks under ``bench/workloads/<name>/playbook.yml``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

WORKLOADS_DIR = Path(__file__).resolve().parent.parent / "workloads"
HOST_GROUP = "bench"


@dataclass(frozen=True)
class Workload:
    """One playbook and the number of tasks it declares (the per-task metrics' divisor)."""

    name: str
    playbook: Path
    tasks: int

    @classmethod
    def load(cls, name: str, base: Path = WORKLOADS_DIR) -> Workload:
        """The workload ``name``; ValueError naming the known ones when it does not exist."""
        playbook = base / name / "playbook.yml"
        if not playbook.is_file():
            known = ", ".join(available(base)) or "none"
            raise ValueError(f"unknown workload {name!r} (known: {known})")
        return cls(name, playbook, count_tasks(playbook))


def available(base: Path = WORKLOADS_DIR) -> list[str]:
    """Names of the workloads that have a playbook."""
    return sorted(p.parent.name for p in base.glob("*/playbook.yml"))


def count_tasks(playbook: Path) -> int:
    """Tasks declared in the plays' ``tasks`` lists and in the ``tasks/main.yml`` of the roles
    they list (handlers and fact gathering excluded).

    A looped task counts once: this is the number of task entries a user wrote, the same for
    every tool, so per-task numbers of different tools share one divisor.
    """
    plays = yaml.safe_load(playbook.read_text())
    total = 0
    for play in plays:
        total += len(play.get("tasks") or [])
        for role in play.get("roles") or []:
            name = role if isinstance(role, str) else role["role"]
            total += len(yaml.safe_load((playbook.parent / "roles" / name / "tasks" / "main.yml").read_text()) or [])
    return total
