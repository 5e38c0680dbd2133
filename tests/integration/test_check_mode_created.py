"""Check mode where earlier tasks would create what later ones need, on fresh lab hosts:
``fleet check`` and ``ansible-playbook --check`` give every task the same status (copy,
template, touch, link, lineinfile/blockinfile create into a directory not there yet: changed;
a systemd/service task on the unit of a package check mode did not install: failed in both,
"Could not find the requested service atd: host"), and neither changes a host (docker diff)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.integration.conftest import ITLab, output, report, run_fleet

PLAYBOOK = Path(__file__).parent / "playbooks" / "check_created.yml"
FLEET_HOST, ANSIBLE_HOST = "itest1", "itest2"
ROOT = "/srv/test-check-created"
CHANGED = ["directory", "copy content", "template", "touch", "link", "lineinfile create", "blockinfile create",
           "user", "owned by the user", "copy owned by the user", "package"]
FAILED = ["unit of the package", "service of the package"]
STATUS = re.compile(r"^(ok|changed|fatal|failed|skipping): \[")


def _diff(lab: ITLab, host: str) -> list[tuple[str, int]]:
    """What differs from the image, less what the host's own services write meanwhile (journald)."""
    noise = ("/var/log/journal", "/run/", "/tmp/", "/root/.ansible")
    return [c for c in lab.diff(host) if not c[0].startswith(noise)]


def _ansible_statuses(lab: ITLab, tmp_path: Path) -> tuple[dict[str, str], str]:
    """Each task's status in ansible-playbook's default output (fatal: failed)."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "ANSIBLE_HOST_KEY_CHECKING": "false",
           "ANSIBLE_LOCAL_TEMP": str(tmp_path / "ansible-local"), "ANSIBLE_NOCOLOR": "1",
           "ANSIBLE_PYTHON_INTERPRETER": "/usr/bin/python3"}
    done = subprocess.run([str(Path(sys.executable).with_name("ansible-playbook")), "-i", str(lab.inventory),
                           "-l", ANSIBLE_HOST, "--check", "-e", f"root={ROOT}", str(PLAYBOOK)],
                          capture_output=True, text=True, env=env, timeout=600, check=False)
    statuses: dict[str, str] = {}
    task = None
    for line in done.stdout.splitlines():
        if line.startswith("TASK ["):
            task = line[len("TASK ["):line.index("]")]
        elif task and (found := STATUS.match(line)):
            statuses[task] = {"fatal": "failed", "skipping": "skipped"}.get(found.group(1), found.group(1))
    return statuses, done.stdout + done.stderr


def test_check_mode_on_a_fresh_host_as_ansible(lab: ITLab, tmp_path: Path) -> None:
    for host in (FLEET_HOST, ANSIBLE_HOST):
        lab.reset(host, ROOT)
        lab.sh(host, "userdel fleetcheck15 2>/dev/null; apt-get -y -q purge at >/dev/null 2>&1; true")
    # Ansible's apt needs python3-apt in check mode (fleet's does not)
    lab.sh(ANSIBLE_HOST, "dpkg -s python3-apt >/dev/null 2>&1 || apt-get install -y -q python3-apt >/dev/null")
    before = {host: _diff(lab, host) for host in (FLEET_HOST, ANSIBLE_HOST)}
    path = tmp_path / "check.json"
    check = run_fleet("check", "-i", str(lab.inventory), "-l", FLEET_HOST, str(PLAYBOOK), "-e", f"root={ROOT}",
                      "--json", str(path), timeout=600)
    results = {r["task"]: r for r in report(path)["hosts"][FLEET_HOST]["results"]}
    fleet = {task: r["status"] for task, r in results.items()}
    ansible, said = _ansible_statuses(lab, tmp_path)
    assert fleet == ansible, f"fleet: {fleet}\nansible: {ansible}\n{said[-4000:]}"
    assert [t for t in fleet if fleet[t] == "changed"] == CHANGED, output(check)
    assert [t for t in fleet if fleet[t] == "failed"] == FAILED
    assert all(results[t]["ignored"] for t in FAILED)
    assert results["unit of the package"]["msg"] == "Could not find the requested service atd: host"
    assert "failed to look up user fleetcheck15. Create user up to this point in real play" in said
    assert results["owned by the user"]["warnings"] == [
        "failed to look up user fleetcheck15. Create user up to this point in real play"]
    assert check.returncode == 2, output(check)  # pending changes, no failure that counts
    after = {host: _diff(lab, host) for host in (FLEET_HOST, ANSIBLE_HOST)}
    assert after[FLEET_HOST] == before[FLEET_HOST], \
        f"fleet check changed the host: {sorted(set(after[FLEET_HOST]) ^ set(before[FLEET_HOST]))}"
    assert not lab.exists(FLEET_HOST, ROOT) and not lab.exists(ANSIBLE_HOST, ROOT)
