"""End to end over real SSH: apply, re-apply (0 changed), check after a manual edit (exit 2)."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from tests.conftest import fleet
from tests.e2e.conftest import Lab, snapshot

SITE = Path(__file__).parent / "site" / "site.yml"


def _report(path: Path) -> dict:
    return json.loads(path.read_text())


def test_apply_converges_every_host_then_reapply_changes_nothing(lab: Lab) -> None:
    first = fleet("apply", "-i", str(lab.inventory), str(SITE), "--json", str(lab.workdir / "first.json"))
    assert first.returncode == 0, first.stdout + first.stderr
    report = _report(lab.workdir / "first.json")
    assert report["mode"] == "apply"
    assert set(report["hosts"]) == {"h1", "h2", "h3"}
    assert report["summary"]["failed"] == 0 and report["summary"]["unreachable"] == 0
    # per host: 4 dirs (one loop task), template, copy x2, lineinfile, blockinfile, command, link, handler
    assert report["summary"]["changed"] == 3 * 9

    for host, root in lab.roots.items():
        conf = (root / "etc/app.conf").read_text()
        assert conf.startswith(f"# demo on {host} (Debian)\n")
        assert "port = 8080\n" in conf and "workers = 4\n" in conf
        assert oct((root / "etc/app.conf").stat().st_mode & 0o777) == "0o640"
        assert (root / "etc/motd").read_text() == "Welcome to a fleet-managed host.\n"
        assert json.loads((root / "etc/settings.json").read_text()) == {"debug": False, "workers": 4}
        assert (root / "etc/env").read_text() == "APP_PORT=8080\n"
        assert (root / "etc/hosts.extra").read_text() == (
            "# BEGIN ANSIBLE MANAGED BLOCK\n10.0.0.1 db\n10.0.0.2 cache\n# END ANSIBLE MANAGED BLOCK\n")
        assert (root / "var/initialised").exists()
        assert (root / "bin/app.conf").readlink() == root / "etc/app.conf"
        assert (root / "var/log/restarts").read_text() == "restarted\n"

    second = fleet("apply", "-i", str(lab.inventory), str(SITE), "--json", str(lab.workdir / "second.json"))
    assert second.returncode == 0, second.stdout + second.stderr
    summary = _report(lab.workdir / "second.json")["summary"]
    assert summary["changed"] == 0, second.stdout
    assert summary["failed"] == 0
    for root in lab.roots.values():  # the handler did not run again
        assert (root / "var/log/restarts").read_text() == "restarted\n"


def test_check_after_manual_edit_reports_the_diff_and_writes_nothing(lab: Lab) -> None:
    assert fleet("apply", "-i", str(lab.inventory), str(SITE)).returncode == 0
    edited = lab.roots["h2"] / "etc/env"
    edited.write_text("APP_PORT=9999\n")
    before = {host: snapshot(root) for host, root in lab.roots.items()}

    check = fleet("check", "-i", str(lab.inventory), str(SITE), "--diff", "--json", str(lab.workdir / "check.json"))
    assert check.returncode == 2, check.stdout + check.stderr
    assert "-APP_PORT=9999" in check.stdout and "+APP_PORT=8080" in check.stdout

    after = {host: snapshot(root) for host, root in lab.roots.items()}
    assert after == before, "check mode changed files on a host"

    report = _report(lab.workdir / "check.json")
    assert report["mode"] == "check"
    changed = [(h, r["task"]) for h, data in report["hosts"].items() for r in data["results"] if r["changed"]]
    assert changed == [("h2", "a line in a file")]

    clean = fleet("check", "-i", str(lab.inventory), str(SITE), "--limit", "h1,h3")
    assert clean.returncode == 0, clean.stdout + clean.stderr


def test_bad_parameter_fails_before_anything_is_applied(lab: Lab, tmp_path: Path) -> None:
    playbook = tmp_path / "bad.yml"
    playbook.write_text(
        "- hosts: fleet\n"
        "  tasks:\n"
        "    - name: fine\n"
        "      file: path={{ root }} state=directory\n"
        "    - name: broken\n"
        "      copy:\n"
        "        dest: \"{{ root }}/x\"\n"
        "        contnet: hello\n"
    )
    result = fleet("apply", "-i", str(lab.inventory), str(playbook))
    assert result.returncode == 1
    assert f"{playbook}:5: task 'broken'" in result.stderr
    assert "contnet" in result.stderr and "content" in result.stderr  # did-you-mean
    assert "Traceback" not in result.stderr
    assert not any(root.exists() for root in lab.roots.values())


def test_undefined_variable_fails_before_anything_is_applied(lab: Lab, tmp_path: Path) -> None:
    playbook = tmp_path / "undefined.yml"
    playbook.write_text(
        "- hosts: fleet\n"
        "  gather_facts: false\n"
        "  tasks:\n"
        "    - file: path={{ root }} state=directory\n"
        "    - copy:\n"
        "        dest: \"{{ root }}/x\"\n"
        "        content: \"{{ not_defined_anywhere }}\"\n"
    )
    result = fleet("apply", "-i", str(lab.inventory), str(playbook))
    assert result.returncode == 1
    assert "not_defined_anywhere" in result.stderr and f"{playbook}:5" in result.stderr
    assert not any(root.exists() for root in lab.roots.values())


def test_unreachable_host_fails_alone(lab: Lab, tmp_path: Path) -> None:
    inventory = tmp_path / "with-dead.yml"
    data = yaml.safe_load(lab.inventory.read_text())
    data["all"]["children"]["fleet"]["hosts"]["h3"]["ansible_port"] = 1  # nothing listens there
    inventory.write_text(yaml.safe_dump(data))
    result = fleet("apply", "-i", str(inventory), str(SITE), "--json", str(tmp_path / "r.json"))
    assert result.returncode == 1
    report = _report(tmp_path / "r.json")
    assert report["hosts"]["h3"]["status"] == "unreachable"
    assert report["hosts"]["h1"]["status"] == "changed" and report["hosts"]["h2"]["status"] == "changed"
    assert (lab.roots["h1"] / "etc/app.conf").exists() and not lab.roots["h3"].exists()
    assert "h3" in result.stdout and "Traceback" not in result.stdout + result.stderr


def test_adhoc_command_and_facts(lab: Lab) -> None:
    result = fleet("run", "-i", str(lab.inventory), "h1:h2", "-a", "echo hello-from-{{ inventory_hostname }}")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "hello-from-h1" in result.stdout and "hello-from-h2" in result.stdout
    assert "h3" not in result.stdout

    facts = fleet("facts", "-i", str(lab.inventory), "h1")
    assert facts.returncode == 0, facts.stderr
    data = json.loads(facts.stdout)
    assert data["h1"]["ansible_os_family"] == "Debian"
    assert data["h1"]["ansible_hostname"]


def test_task_timeout_fails_the_task_not_the_run(lab: Lab, tmp_path: Path) -> None:
    playbook = tmp_path / "slow.yml"
    playbook.write_text(
        "- hosts: h1\n"
        "  gather_facts: false\n"
        "  tasks:\n"
        "    - command: sleep 30\n"
    )
    result = fleet("apply", "-i", str(lab.inventory), str(playbook), "--timeout", "2", timeout=60)
    assert result.returncode == 1
    assert "timed out" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr
