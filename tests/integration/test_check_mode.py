"""Check mode is side-effect free, measured with ``docker diff`` on real hosts."""

from __future__ import annotations

from pathlib import Path

from tests.integration.conftest import HOSTS, ITLab, output, report, run_fleet

PLAYBOOKS = Path(__file__).parent / "playbooks"
PENDING = ["new directory", "new file", "edit", "mode", "touch", "link", "template", "line", "block"]
GUARDED = ["command with creates", "shell with removes", "a command outside /srv"]


def _state(lab: ITLab, host: str, root: str) -> tuple[list[tuple[str, int]], str]:
    """docker diff (less the journal, which systemd may rotate any time) and the test tree."""
    diff = [(path, kind) for path, kind in lab.diff(host) if not path.startswith("/var/log/journal/")]
    return diff, lab.tree(host, root)


def test_check_twice_changes_nothing_and_reports_pending_changes(
        lab: ITLab, connection: str, tmp_path: Path) -> None:
    root = f"/srv/test-check-{connection}"
    marker = "/etc/fleet-check-marker"
    for host in HOSTS:
        lab.reset(host, root, marker)
    inventory = str(lab.inventory_for(connection))
    base = run_fleet("apply", "-i", inventory, str(PLAYBOOKS / "check_base.yml"), "-e", f"root={root}")
    assert base.returncode == 0, output(base)
    before = {host: _state(lab, host, root) for host in HOSTS}

    for attempt in (1, 2):
        path = tmp_path / f"check{attempt}.json"
        check = run_fleet("check", "-i", inventory, str(PLAYBOOKS / "check_target.yml"), "-e", f"root={root}",
                          "--diff", "--json", str(path))
        assert check.returncode == 2, output(check)
        assert "CHANGES PENDING" in check.stdout
        data = report(path)
        assert data["mode"] == "check"
        # as Ansible: a command whose creates/removes says it would run is a pending change
        assert data["summary"]["changed"] == len(HOSTS) * (len(PENDING) + len(GUARDED))
        assert data["summary"]["failed"] == data["summary"]["unreachable"] == 0
        for host in HOSTS:
            results = {r["task"]: r for r in data["hosts"][host]["results"]}
            assert sorted(t for t, r in results.items() if r["changed"]) == sorted(PENDING + GUARDED)
            assert all(results[t]["msg"] == "Command would have run if not in check mode" for t in GUARDED)
            assert results["edit"]["diff"]["before"]["content"] == "old content\n"
            assert results["mode"]["diff"]["after"] == {"mode": "0600"}
        after = {host: _state(lab, host, root) for host in HOSTS}
        assert after == before, f"check run {attempt} changed a host"
        assert not any(lab.exists(host, marker) for host in HOSTS)

    # The same playbook applied does all of it.
    applied = run_fleet("apply", "-i", inventory, str(PLAYBOOKS / "check_target.yml"), "-e", f"root={root}")
    assert applied.returncode == 0, output(applied)
    assert all(lab.exists(host, marker) and not lab.exists(host, f"{root}/edited.txt") for host in HOSTS)


def test_guarded_command_that_would_run_is_a_pending_change(lab: ITLab, tmp_path: Path) -> None:
    playbook = tmp_path / "guarded.yml"
    playbook.write_text("- hosts: itest1\n  gather_facts: false\n  tasks:\n"
                        "    - command: touch /srv/test-guarded\n      args: {creates: /srv/test-guarded}\n")
    lab.reset("itest1", "/srv/test-guarded")
    check = run_fleet("check", "-i", str(lab.inventory), str(playbook))
    assert not lab.exists("itest1", "/srv/test-guarded")
    assert check.returncode == 2, output(check)
