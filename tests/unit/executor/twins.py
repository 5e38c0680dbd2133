"""A fixture playbook run by fleet (in process) and by ansible-playbook over the local
connection, each writing into its own ``out`` folder: what fleet-vs-Ansible tests compare."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from fleet import api
from fleet.executor.options import RunOptions
from fleet.result import RunReport

ANSIBLE_PLAYBOOK = Path(sys.executable).parent / "ansible-playbook"


def local_inventory(out: Path) -> str:
    """One host, h1, on the local connection with fleet's Python, ``out`` as a variable."""
    return f"h1 ansible_connection=local out={out} ansible_python_interpreter={sys.executable}\n"


@dataclass(frozen=True)
class Twins:
    """Where both tools wrote, fleet's report and ansible-playbook's output."""

    site: Path
    fleet_out: Path
    ansible_out: Path
    report: RunReport
    ansible: subprocess.CompletedProcess[str]

    def outputs(self, tool: str) -> dict[str, str]:
        """The files ``tool`` ("fleet" or "ansible") wrote, by name."""
        out = self.fleet_out if tool == "fleet" else self.ansible_out
        return {p.name: p.read_text() for p in sorted(out.iterdir())}


def run_twins(fixture: Path, base: Path, inventory: Callable[[Path], str] = local_inventory,
              env: Mapping[str, str] | None = None) -> Twins:
    """Copy ``fixture`` under ``base``, apply its site.yml with both tools (each must succeed)."""
    site = base / "site"
    shutil.copytree(fixture, site)
    fleet_out, ansible_out = site / "out-fleet", site / "out-ansible"
    fleet_out.mkdir()
    ansible_out.mkdir()
    (site / "fleet.ini").write_text(inventory(fleet_out))
    (site / "ansible.ini").write_text(inventory(ansible_out))
    report = asyncio.run(api.apply_async(api.prepare(site / "site.yml", [site / "fleet.ini"], RunOptions())))
    failed = [(r["task"], r["msg"]) for host in report.to_dict()["hosts"].values() for r in host["results"]
              if r["status"] == "failed"]
    assert report.exit_code() == 0, failed
    done = subprocess.run([str(ANSIBLE_PLAYBOOK), "-i", "ansible.ini", "site.yml"], cwd=site, capture_output=True,
                          text=True, env=dict(env) if env is not None else None, timeout=600, check=False)
    assert done.returncode == 0, done.stdout[-3000:]
    return Twins(site, fleet_out, ansible_out, report, done)
