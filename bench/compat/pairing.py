"""Ansible's task results paired with fleet's, and the item's verdict.

Results pair by play, task name and order: the k-th result named N in play P on one side
with the k-th result named N in play P on the other. Names are compared with the
``ansible.builtin.``/``ansible.legacy.`` prefixes of unnamed tasks dropped and whitespace
collapsed. An Ansible result is *reproduced* when its pair exists and has the same status.

PASS needs all three: every Ansible result reproduced (and no result fleet has that Ansible
lacks), the same final state on the twins, and a second apply with no more changed tasks than
Ansible's. The first difference found, in that order, is the item's first error.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from compat.runs import ApplyResult, TaskRecord

PREFIX = re.compile(r"\b(?:ansible\.builtin|ansible\.legacy)\.")
SPACE = re.compile(r"\s+")
# a part of a task name that did not render: ansible-core <= 2.18 (and fleet) keep the template,
# 2.19 writes an error marker in its place
UNRENDERED = re.compile(r"\{\{.*?\}\}|<< error \d+ - .*? >>")


def task_key(record: TaskRecord) -> tuple[int, str]:
    """(play, normalised task name)."""
    return record.play_index, SPACE.sub(" ", UNRENDERED.sub("{?}", PREFIX.sub("", record.task))).strip()


@dataclass(frozen=True)
class Pair:
    """An Ansible result and fleet's result for the same task (either may be missing)."""

    ansible: TaskRecord | None
    fleet: TaskRecord | None

    @property
    def reproduced(self) -> bool:
        return self.ansible is not None and self.fleet is not None and self.ansible.status == self.fleet.status

    def describe(self, apply_number: int) -> str:
        """A one-line account of this pair's difference."""
        name = (self.ansible or self.fleet).task  # type: ignore[union-attr]
        where = f"apply {apply_number}, task '{name}'"
        if self.fleet is None:
            assert self.ansible is not None
            return f"{where}: ansible {self.ansible.status}, fleet did not run it"
        if self.ansible is None:
            return f"{where}: fleet {self.fleet.status}, ansible did not run it{_msg(self.fleet)}"
        return f"{where}: ansible {self.ansible.status}, fleet {self.fleet.status}{_msg(self.fleet)}"


def _msg(record: TaskRecord) -> str:
    text = SPACE.sub(" ", record.msg).strip()
    return f" ({text[:200]})" if text else ""


def pair(ansible: list[TaskRecord], fleet: list[TaskRecord]) -> list[Pair]:
    """Every result of both sides, paired, in Ansible's order (fleet's extra ones where they fell)."""
    by_key: dict[tuple[int, str], list[TaskRecord]] = defaultdict(list)
    for record in fleet:
        by_key[task_key(record)].append(record)
    taken: dict[tuple[int, str], int] = defaultdict(int)
    pairs: list[Pair] = []
    used: set[int] = set()
    for record in ansible:
        key = task_key(record)
        index = taken[key]
        taken[key] += 1
        match = by_key[key][index] if index < len(by_key[key]) else None
        if match is not None:
            used.add(id(match))
        pairs.append(Pair(record, match))
    # fleet's results with no Ansible twin go after the last pair that precedes them in fleet's order
    position = {id(p.fleet): i for i, p in enumerate(pairs) if p.fleet is not None}
    extras: list[tuple[int, Pair]] = []
    last = -1
    for record in fleet:
        if id(record) in used:
            last = position[id(record)]
        else:
            extras.append((last, Pair(None, record)))
    for offset, (after, extra) in enumerate(extras):
        pairs.insert(after + 1 + offset, extra)
    return pairs


@dataclass
class Verdict:
    """What one item's comparison found."""

    status: str  # PASS, FAIL, ERROR
    reproduced: int
    ansible_total: int
    first_error: str
    differences: list[str]


def judge(ansible_runs: list[ApplyResult], fleet_runs: list[ApplyResult], state_diff: list[str]) -> Verdict:
    """The verdict over both applies (lists index 0 = first apply) and the state diff."""
    reproduced = total = 0
    differences: list[str] = []
    for number, (a, f) in enumerate(zip(ansible_runs, fleet_runs, strict=True), start=1):
        if f.error and not f.records:
            differences.append(f"apply {number}: fleet: {f.error}")
        elif f.timed_out:
            differences.append(f"apply {number}: {f.error}")
        for p in pair(a.records, f.records):
            if p.ansible is not None:
                total += 1
                reproduced += p.reproduced
            if not p.reproduced:
                differences.append(p.describe(number))
    differences += [f"final state: {line}" for line in state_diff]
    if len(ansible_runs) > 1 and len(fleet_runs) > 1:
        a_changed, f_changed = ansible_runs[1].counts()["changed"], fleet_runs[1].counts()["changed"]
        if f_changed > a_changed:
            differences.append(f"second apply: fleet changed {f_changed} tasks, ansible {a_changed}")
    if ansible_runs and ansible_runs[0].error and not ansible_runs[0].records:
        # Ansible itself did not get going (missing role, syntax it rejects): nothing to compare with.
        return Verdict("ERROR", reproduced, total, f"ansible: {ansible_runs[0].error}", differences)
    status = "FAIL" if differences else "PASS"
    return Verdict(status, reproduced, total, differences[0] if differences else "", differences)
