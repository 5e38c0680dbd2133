"""One apply of each tool: the command, its per-task results, and what stopped it early.

fleet runs with its default options and ``--json``; ansible-playbook runs from the item's
venv with the harness's callback (``callback/compat_record.py``). Both are given a deadline
and killed with their process group when it passes.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from compat.workspace import HOST, KEEP_SECONDS, Workspace, control_dir

# Statements of the play rather than tasks: their successes are left out on both sides (Ansible's
# recap does not count them as tasks); a statement that fails or is skipped stays a result.
STATEMENTS = {"include_tasks", "include_role", "import_tasks", "import_role", "include", "meta",
               "import_playbook"}
ERROR_PREFIXES = ("ERROR", "[ERROR]", "error:")


@dataclass(frozen=True)
class TaskRecord:
    """One task's result on the host, as a tool reported it."""

    play_index: int
    task: str
    action: str
    status: str  # ok, changed, failed, skipped, unreachable
    msg: str = ""
    ignored: bool = False
    handler: bool = False


@dataclass
class ApplyResult:
    """One tool's one apply."""

    tool: str
    exit_code: int | None
    duration_s: float
    records: list[TaskRecord] = field(default_factory=list)
    error: str = ""  # why there are no (or not all) results: a refusal, a crash, a timeout
    timed_out: bool = False
    log: str = ""

    def counts(self) -> dict[str, int]:
        """Results by status (a changed result is not also counted as ok)."""
        found = {"ok": 0, "changed": 0, "failed": 0, "skipped": 0, "unreachable": 0}
        for record in self.records:
            found[record.status] = found.get(record.status, 0) + 1
        return found

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["counts"] = self.counts()
        data["log"] = self.log[-4000:]
        return data


def _short(action: str) -> str:
    for prefix in ("ansible.builtin.", "ansible.legacy."):
        if action.startswith(prefix):
            return action[len(prefix):]
    return action


def _run(command: list[str], env: dict[str, str], cwd: Path, timeout: float) -> tuple[int | None, str, bool, float]:
    """(exit code or None, combined output, timed out, seconds); the whole group killed on timeout."""
    started = time.monotonic()
    with subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          stdin=subprocess.DEVNULL, text=True, errors="replace", start_new_session=True) as proc:
        try:
            out, _ = proc.communicate(timeout=max(timeout, 1))
            return proc.returncode, out, False, time.monotonic() - started
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, _ = proc.communicate()
            return None, out, True, time.monotonic() - started


def first_error_line(text: str) -> str:
    """The first line that says ERROR (a tool's refusal), else the last non-empty line."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for index, line in enumerate(lines):
        if line.startswith(ERROR_PREFIXES):
            # Ansible puts the reason on the lines after "ERROR! ..." sometimes; keep it to one line.
            return line if len(line) > 20 or index + 1 >= len(lines) else f"{line} {lines[index + 1]}"
    return lines[-1] if lines else ""


def _clean_env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "FLEET_"))}
    env.pop("VIRTUAL_ENV", None)
    env.update(COLUMNS="200", NO_COLOR="1", TERM="dumb", **extra)
    return env


def fleet_records(report: dict[str, Any]) -> list[TaskRecord]:
    """The task results of ``testhost`` in a fleet ``--json`` report, statements left out."""
    host = report.get("hosts", {}).get(HOST, {})
    records = []
    play_index, last_play = -1, None
    for result in host.get("results", []):
        play = result.get("play", "")
        if play != last_play:
            play_index, last_play = play_index + 1, play
        action = _short(str(result.get("module", "")))
        if action in STATEMENTS and result.get("status") in ("ok", "changed"):
            continue
        records.append(TaskRecord(play_index, str(result.get("task", "")), action, str(result.get("status", "")),
                                  str(result.get("msg", ""))[:2000], bool(result.get("ignored", False)),
                                  bool(result.get("handler", False))))
    return records


def ansible_records(lines: list[str]) -> list[TaskRecord]:
    """The task results the callback wrote, statements left out."""
    records = []
    for line in lines:
        data = json.loads(line)
        if "stats" in data or data.get("host") != HOST:
            continue
        action = _short(str(data.get("action", "")))
        if action in STATEMENTS and data.get("status") in ("ok", "changed"):
            continue
        records.append(TaskRecord(int(data["play_index"]), str(data["task"]), action, str(data["status"]),
                                  str(data.get("msg", "")), bool(data.get("ignored")), bool(data.get("handler"))))
    return records


def apply_fleet(ws: Workspace, apply_number: int, timeout: float) -> ApplyResult:
    """``fleet apply`` with its defaults, a JSON report, and its own persistence daemon (kept
    as long as ansible-playbook's ControlPersist: the harness waits for the slower tool)."""
    report = ws.root / "fleet" / f"report-{apply_number}.json"
    env = _clean_env({"FLEET_MUX_DIR": str(ws.root / "fleet" / "mux"),
                      "FLEET_PERSIST": str(KEEP_SECONDS)})  # as Ansible's ControlPersist here
    collections = ws.fleet_collections or ws.collections
    if collections is not None:  # the item's collection, as ansible-playbook gets it
        env["ANSIBLE_COLLECTIONS_PATH"] = str(collections)
    command = [sys.executable, "-m", "fleet", "apply", "-i", str(ws.fleet_inventory),
               str(ws.fleet_playbook or ws.playbook),
               "--json", str(report)]
    code, out, timed_out, seconds = _run(command, env, ws.root, timeout)
    (ws.root / "fleet" / f"apply-{apply_number}.log").write_text(out)
    result = ApplyResult("fleet", code, round(seconds, 1), timed_out=timed_out, log=out)
    if report.exists():
        result.records = fleet_records(json.loads(report.read_text()))
    if timed_out:
        result.error = f"fleet timed out after {timeout:.0f} s"
    elif not report.exists():
        result.error = first_error_line(out) or f"fleet exited {code} without a report"
    return result


def stop_fleet_daemon(ws: Workspace) -> None:
    """End the item's persistence daemon (its hosts are about to go)."""
    env = _clean_env({"FLEET_MUX_DIR": str(ws.root / "fleet" / "mux")})
    subprocess.run([sys.executable, "-m", "fleet", "mux", "stop"], env=env, capture_output=True, timeout=60,
                   stdin=subprocess.DEVNULL)


def stop_ansible_masters(ws: Workspace) -> None:
    """End the ControlPersist masters ansible-playbook left (they would outlive the item)."""
    for socket in control_dir(ws.root / "ansible").glob("*"):
        subprocess.run(["ssh", "-o", f"ControlPath={socket}", "-O", "exit", "compat-twin"], capture_output=True,
                       timeout=30, stdin=subprocess.DEVNULL)


def apply_ansible(ws: Workspace, venv: Path, apply_number: int, timeout: float) -> ApplyResult:
    """``ansible-playbook`` from ``venv`` with the recording callback."""
    record_file = ws.root / "ansible" / f"records-{apply_number}.jsonl"
    record_file.unlink(missing_ok=True)
    env = _clean_env({**ws.ansible_env(), "COMPAT_RECORD_FILE": str(record_file)})
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    command = [str(venv / "bin" / "ansible-playbook"), "-i", str(ws.ansible_inventory), str(ws.playbook)]
    code, out, timed_out, seconds = _run(command, env, ws.root, timeout)
    (ws.root / "ansible" / f"apply-{apply_number}.log").write_text(out)
    result = ApplyResult("ansible", code, round(seconds, 1), timed_out=timed_out, log=out)
    lines = record_file.read_text().splitlines() if record_file.exists() else []
    result.records = ansible_records(lines)
    if timed_out:
        result.error = f"ansible-playbook timed out after {timeout:.0f} s"
    elif not any('"stats"' in line for line in lines):
        result.error = first_error_line(out) or f"ansible-playbook exited {code} without a recap"
    return result
