"""Check mode into a directory an earlier task would create (tests/fixtures/check_fresh), under
``fleet check`` and ``ansible-playbook --check`` (local connection): every task's status is
Ansible's (copy, template, touch, links, lineinfile/blockinfile create: changed; a missing file
without ``create`` and attributes of a file not there yet: failed, in both), nothing is
written, and the unknown owner gets Ansible's warning."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

FIXTURE = REPO / "tests" / "fixtures" / "check_fresh"
BIN = Path(sys.executable).parent
STATUS = re.compile(r"^(ok|changed|fatal|failed|skipping): \[")


def _inventory(path: Path, out: Path) -> Path:
    path.write_text(f"h1 ansible_connection=local out={out} ansible_python_interpreter={sys.executable}\n")
    return path


def _ansible_statuses(stdout: str) -> dict[str, str]:
    statuses: dict[str, str] = {}
    task = None
    for line in stdout.splitlines():
        if line.startswith("TASK ["):
            task = line[len("TASK ["):line.index("]")]
        elif task and (found := STATUS.match(line)):
            statuses[task] = {"fatal": "failed", "skipping": "skipped"}.get(found.group(1), found.group(1))
    return statuses


def test_check_mode_on_a_fresh_directory_as_ansible(tmp_path: Path) -> None:
    site = tmp_path / "site"
    shutil.copytree(FIXTURE, site)
    env = {"PATH": f"{BIN}:/usr/bin:/bin", "HOME": str(tmp_path), "NO_COLOR": "1", "ANSIBLE_NOCOLOR": "1",
           "FLEET_PERSIST": "0", "COLUMNS": "300"}
    runs = {}
    for tool in ("fleet", "ansible"):
        out = tmp_path / f"out-{tool}"
        out.mkdir()
        (out / "present").write_text("x\n")
        inventory = _inventory(tmp_path / f"{tool}.ini", out)
        argv = ([str(BIN / "fleet"), "check", "-i", str(inventory), "site.yml", "--json", str(tmp_path / "r.json")]
                if tool == "fleet" else [str(BIN / "ansible-playbook"), "--check", "-i", str(inventory), "site.yml"])
        runs[tool] = subprocess.run(argv, cwd=site, capture_output=True, text=True, timeout=600, env=env, check=False)
        assert sorted(p.name for p in out.iterdir()) == ["present"], f"{tool} wrote in check mode"
    assert runs["ansible"].returncode == 0, runs["ansible"].stdout[-3000:]
    assert runs["fleet"].returncode == 2, runs["fleet"].stdout[-3000:]  # changes pending, no failure counted
    results = {r["task"]: r for r in json.loads((tmp_path / "r.json").read_text())["hosts"]["h1"]["results"]}
    fleet = {task: r["status"] for task, r in results.items()}
    ansible = _ansible_statuses(runs["ansible"].stdout)
    assert fleet == ansible, f"fleet: {fleet}\nansible: {ansible}"
    assert [t for t, s in fleet.items() if s == "failed"] == ["lineinfile without create",
                                                              "attributes of a file not there yet"]
    warning = "failed to look up user fleet-no-such-user-15. Create user up to this point in real play"
    assert results["owner not there yet"]["warnings"] == [warning]
    assert f"[WARNING]: {warning}" in runs["ansible"].stderr and f"[WARNING]: {warning}" in runs["fleet"].stdout
