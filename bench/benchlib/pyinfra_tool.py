"""pyinfra: the workload's ``pyinfra_deploy.py`` (the playbook's equivalent) over the same hosts.

Runs from the venv ``bench/setup_tools.py`` creates, as

    pyinfra inventory.py pyinfra_deploy.py --parallel N --json --yes   # apply
    pyinfra inventory.py pyinfra_deploy.py --parallel N --json --dry   # check

``--yes`` is how pyinfra applies non-interactively (it skips the confirmation prompt and the
change-detection pass before executing); ``--dry`` plans without executing. ``--json`` prints
one JSON document on stdout (the log also holds pyinfra's stderr): for an apply, ``results``
with per-operation ``success`` (hosts changed), ``error`` and ``no_change`` lists and
``failed_hosts``; for a dry run, ``plan`` with ``hosts_with_change`` per operation (operations
guarded by ``_if`` on another operation's outcome are listed as *conditional* changes and are
not counted: they run only if that operation changes, which a count of definite changes
already shows).

The inventory is a Python file: group ``bench`` with hosts ``h1..hN``, each with the same
address, port, user and key as the other tools, the harness's known_hosts and
``ssh_strict_host_key_checking = "yes"``, plus the workload's ``root`` and ``bench_user``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from benchlib import toolenv
from benchlib.hosts import HostSet
from benchlib.toolbase import Outcome, Phase, ToolRunner, base_env
from benchlib.workloads import HOST_GROUP

DEPLOY = "pyinfra_deploy.py"


def known_hosts_file(common_args: str) -> str | None:
    """The ``UserKnownHostsFile`` named in an ``ansible_ssh_common_args`` string."""
    for word in common_args.split():
        key, _, value = word.partition("=")
        if key.lower() == "userknownhostsfile" and value:
            return value
    return None


def find_json(text: str) -> dict[str, object] | None:
    """The last line of ``text`` that is a JSON object with a ``plan`` key."""
    for line in reversed(text.splitlines()):
        if line.startswith('{"plan"'):
            try:
                return json.loads(line)
            except ValueError:
                return None
    return None


class PyinfraRunner(ToolRunner):
    """The ``pyinfra`` CLI."""

    name = "pyinfra"

    def __init__(self, tools_dir: Path | None = None) -> None:
        self.env_spec = toolenv.ENVS["pyinfra"]
        self.venv = self.env_spec.path(tools_dir or toolenv.default_tools_dir())

    def unavailable(self) -> str | None:
        return toolenv.problem(self.env_spec, self.venv.parent)

    def version(self) -> str:
        installed = toolenv.installed_versions(self.venv)
        return f"pyinfra {installed.get('pyinfra', '?')} (Python {toolenv.venv_python_version(self.venv)})"

    def write_inventory(self, hosts: HostSet, path: Path) -> Path:
        """A Python inventory ``inventory.py`` beside ``path`` (pyinfra needs the suffix)."""
        conn = hosts.connection
        common = {
            "ssh_hostname": conn["ansible_host"], "ssh_port": int(conn["ansible_port"]),
            "ssh_user": conn["ansible_user"], "ssh_key": conn["ansible_ssh_private_key_file"],
            "ssh_known_hosts_file": known_hosts_file(str(conn.get("ansible_ssh_common_args", ""))),
            "ssh_strict_host_key_checking": "yes",
        }
        members = [(name, {**common, **hosts.host_vars(name)}) for name in hosts.roots]
        target = path.with_name("inventory.py")
        target.write_text(f"# pyinfra inventory written by the benchmark harness\n{HOST_GROUP} = {members!r}\n")
        return target

    def command(self, phase: Phase, inventory: Path, playbook: Path, report: Path, forks: int) -> list[str]:
        mode = ["--dry"] if phase is Phase.CHECK else ["--yes"]
        return [str(self.venv / "bin" / "pyinfra"), str(inventory), str(playbook.parent / DEPLOY),
                "--parallel", str(forks), "--json", *mode]

    def env(self, inventory: Path) -> dict[str, str]:
        env = {k: v for k, v in base_env().items() if not k.startswith("PYINFRA_")}
        env.update(PYINFRA_PROGRESS="off", PATH=f"{self.venv / 'bin'}{os.pathsep}{env.get('PATH', '')}")
        env.pop("VIRTUAL_ENV", None)
        return env

    def outcome(self, phase: Phase, exit_code: int, report: Path, log: Path) -> Outcome:
        text = log.read_text(errors="replace") if log.exists() else ""
        data = find_json(text)
        if data is None:
            return Outcome(None, 0, 0, error=f"no JSON document in the output; it ends: {text[-400:]}")
        results = data.get("results")
        if phase is Phase.CHECK or results is None:
            plan = data.get("plan") or []
            changed = sum(len(op.get("hosts_with_change", [])) for op in plan)
            return Outcome(changed, 1 if exit_code else 0, 0)
        totals = results["totals"]
        failed = max(len(results.get("failed_hosts", [])), totals["error"])
        return Outcome(totals["success"], failed, 0, totals["success"] + totals["no_change"])
