"""One item, start to end: skip rules, sources, fresh twins, two applies of each tool, snapshots.

The two tools run on their twins at the same time; the item has one deadline for everything
(default 15 min), so a hanging item cannot hold up the corpus.
"""

from __future__ import annotations

import json
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from compat import runs, snapshot, sources, tools, twins, workspace
from compat.corpus import Item
from compat.pairing import Verdict, judge
from compat.runs import ApplyResult

# ansible-test aliases that a Debian container on the lab's network cannot honour.
SKIP_ALIASES = ("disabled", "unsupported", "skip/docker", "skip/debian", "skip/python3", "needs/privileged",
                "needs/httptester", "needs/ssh", "cloud/", "windows", "network/", "skip/posix")


@dataclass
class Settings:
    """What every item shares: where sources and venvs are, the lab, the deadline."""

    sources: Path
    mirror: Path | None
    tools_dir: Path | None
    workdir: Path
    lab: str
    timeout: float = 900.0
    keep: bool = False
    log: Any = print
    release: str = "bookworm"  # Debian release of the twins (fleet lab up --release)


@dataclass
class ItemResult:
    """An item's outcome: its verdict and the raw runs."""

    item: Item
    status: str  # PASS, FAIL, SKIP, ERROR
    first_error: str = ""
    reproduced: int = 0
    ansible_total: int = 0
    ansible_runs: list[ApplyResult] = field(default_factory=list)
    fleet_runs: list[ApplyResult] = field(default_factory=list)
    differences: list[str] = field(default_factory=list)
    seconds: float = 0.0
    lab: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"name": self.item.name, "kind": self.item.kind, "repo": self.item.repo,
                "commit": self.item.commit, "path": self.item.path, "ansible": self.item.ansible,
                "status": self.status, "first_error": self.first_error, "reproduced": self.reproduced,
                "ansible_total": self.ansible_total, "seconds": round(self.seconds, 1),
                "differences": self.differences[:200], "lab": self.lab,
                "ansible_runs": [r.to_json() for r in self.ansible_runs],
                "fleet_runs": [r.to_json() for r in self.fleet_runs]}


def skip_reason(item: Item, item_dir: Path) -> str | None:
    """Why ansible-test's conventions rule this target out here (None: run it)."""
    if item.kind != "target":
        return None
    aliases_file = item_dir / "aliases"
    aliases = []
    if aliases_file.exists():
        aliases = [line.split("#", 1)[0].strip() for line in aliases_file.read_text().splitlines()]
    for alias in filter(None, aliases):
        if alias.startswith(SKIP_ALIASES):
            return f"alias {alias}"
    if (item_dir / "runme.sh").exists() and not item.as_role:
        return "runme.sh target (a script drives ansible-playbook; no roles: [target] run)"
    if not (item_dir / "tasks" / "main.yml").exists() and not item.as_role:
        return "no tasks/main.yml"
    return None


def _both(ws: workspace.Workspace, venv: Path, number: int, deadline: float) -> tuple[ApplyResult, ApplyResult]:
    remaining = deadline - time.monotonic()
    with ThreadPoolExecutor(2) as pool:
        a = pool.submit(runs.apply_ansible, ws, venv, number, remaining)
        f = pool.submit(runs.apply_fleet, ws, number, remaining)
        return a.result(), f.result()


def run_item(item: Item, index: int, settings: Settings) -> ItemResult:
    """Run one item with both tools and judge it (never raises for the item's own problems)."""
    started = time.monotonic()
    deadline = started + settings.timeout
    result = ItemResult(item, "ERROR")
    lab = f"{settings.lab}-{index}" if settings.keep else settings.lab
    try:
        repo_root, item_dir = sources.item_dir(item, settings.sources, settings.mirror)
        reason = skip_reason(item, item_dir)
        if reason:
            result.status, result.first_error = "SKIP", reason
            return result
        venv = tools.ensure(item.ansible, settings.tools_dir, log=settings.log)
        root = settings.workdir / f"{index:03d}-{item.name}"
        root.mkdir(parents=True, exist_ok=True)
        pair = twins.reset(lab, root, settings.release)
        result.lab = lab
        ws = None
        try:
            ws = workspace.prepare(item, repo_root, item_dir, root / "work", pair.ansible, pair.fleet)
            if item.kind == "target":
                for host in (pair.ansible, pair.fleet):
                    twins.exec_root(host, f"mkdir -p {workspace.TARGET_VARS['output_dir']}")
            for number in (1, 2):
                a, f = _both(ws, venv, number, deadline)
                result.ansible_runs.append(a)
                result.fleet_runs.append(f)
                settings.log(f"  apply {number}: ansible {a.counts()} in {a.duration_s}s, "
                             f"fleet {f.counts()} in {f.duration_s}s")
                if a.timed_out or f.timed_out:
                    break
            with ThreadPoolExecutor(2) as pool:
                a_state = pool.submit(snapshot.take, pair.ansible.container)
                f_state = pool.submit(snapshot.take, pair.fleet.container)
                states = {"ansible": a_state.result(), "fleet": f_state.result()}
            for tool, state in states.items():  # kept for a later look (or a new diff)
                (ws.root / tool / "state.json").write_text(json.dumps(state, indent=0, sort_keys=True))
            state_diff = snapshot.diff(states["ansible"], states["fleet"])
            verdict: Verdict = judge(result.ansible_runs, result.fleet_runs, state_diff)
            # messages name files by the work directory's path: shown relative to it
            prefix = f"{ws.root}/"
            verdict.first_error = verdict.first_error.replace(prefix, "")
            verdict.differences = [d.replace(prefix, "") for d in verdict.differences]
            result.status, result.first_error = verdict.status, verdict.first_error
            result.reproduced, result.ansible_total = verdict.reproduced, verdict.ansible_total
            result.differences = verdict.differences
        finally:
            if ws is not None:
                runs.stop_fleet_daemon(ws)
                runs.stop_ansible_masters(ws)
            if not settings.keep:
                twins.down(lab)
    except Exception as exc:  # the item's own breakage is its result, not the corpus run's end
        result.status = "ERROR"
        result.first_error = f"harness: {type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
        settings.log(traceback.format_exc())
    finally:
        result.seconds = time.monotonic() - started
    return result
