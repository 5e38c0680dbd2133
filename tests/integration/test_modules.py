"""Every module on real hosts, over ssh and over docker: apply, re-apply (0 changed), drift check."""

from __future__ import annotations

from pathlib import Path

from tests.integration.conftest import HOSTS, ITLab, output, report, run_fleet

PLAYBOOKS = Path(__file__).parent / "playbooks"
CHANGING_TASKS = ["the directory", "inline content", "a template", "a line", "a block",
                  "a guarded command", "a guarded shell"]


def test_every_module_converges_then_reapply_changes_nothing_then_check_finds_drift(
        lab: ITLab, connection: str, tmp_path: Path) -> None:
    root = f"/srv/test-modules-{connection}"
    for host in HOSTS:
        lab.reset(host, root)
    inventory = str(lab.inventory_for(connection))
    args = ["-i", inventory, str(PLAYBOOKS / "modules.yml"), "-e", f"root={root}"]

    first = run_fleet("apply", *args, "--json", str(tmp_path / "first.json"))
    assert first.returncode == 0, output(first)
    data = report(tmp_path / "first.json")
    assert data["summary"]["changed"] == len(HOSTS) * len(CHANGING_TASKS)
    assert data["summary"]["failed"] == data["summary"]["unreachable"] == 0
    for host in HOSTS:
        results = {r["task"]: r for r in data["hosts"][host]["results"]}
        assert [t for t, r in results.items() if r["changed"]] == CHANGING_TASKS
        assert results["facts"]["status"] == results["reachable"]["status"] == "ok"
        assert lab.stat(host, root) == ("0750", "root", "root")
        assert lab.read(host, f"{root}/copy.txt") == f"hello {host}\n"
        assert lab.stat(host, f"{root}/copy.txt")[0] == "0640"
        assert lab.read(host, f"{root}/app.conf") == f"# demo on {host} (Debian)\nport = 8080\n"
        assert lab.stat(host, f"{root}/app.conf")[0] == "0600"
        assert lab.read(host, f"{root}/env") == "PORT=8080\n"
        assert lab.read(host, f"{root}/hosts") == (
            "# BEGIN ANSIBLE MANAGED BLOCK\n10.0.0.1 db\n# END ANSIBLE MANAGED BLOCK\n")
        assert lab.exists(host, f"{root}/cmd-done")
        assert lab.read(host, f"{root}/shell.out") == f"{host}\n"  # ran on that host

    second = run_fleet("apply", *args, "--json", str(tmp_path / "second.json"))
    assert second.returncode == 0, output(second)
    assert report(tmp_path / "second.json")["summary"]["changed"] == 0, second.stdout

    # Drift on itest2: an edited line and a loosened mode. check shows it and fixes nothing.
    lab.sh("itest2", f"echo PORT=9999 > {root}/env && chmod 0644 {root}/app.conf")
    check = run_fleet("check", *args, "--diff", "--json", str(tmp_path / "check.json"))
    assert check.returncode == 2, output(check)
    assert "-PORT=9999" in check.stdout and "+PORT=8080" in check.stdout
    assert "'0644' → '0600'" in check.stdout
    data = report(tmp_path / "check.json")
    assert data["mode"] == "check"
    changed = {(h, r["task"]): r for h, d in data["hosts"].items() for r in d["results"] if r["changed"]}
    assert set(changed) == {("itest2", "a line"), ("itest2", "a template")}
    line = changed[("itest2", "a line")]["diff"]
    assert line["fields"] == ["content"]
    assert line["before"]["content"] == "PORT=9999\n" and line["after"]["content"] == "PORT=8080\n"
    mode = changed[("itest2", "a template")]["diff"]
    assert mode["fields"] == ["mode"] and mode["before"] == {"mode": "0644"} and mode["after"] == {"mode": "0600"}
    assert lab.read("itest2", f"{root}/env") == "PORT=9999\n"
    assert lab.stat("itest2", f"{root}/app.conf")[0] == "0644"


def test_adhoc_ping_and_facts(lab: ITLab, connection: str) -> None:
    inventory = str(lab.inventory_for(connection))
    ping = run_fleet("run", "-i", inventory, "all", "-m", "ping")
    assert ping.returncode == 0, output(ping)
    assert all(f"{host} | SUCCESS" in ping.stdout for host in HOSTS), ping.stdout
    facts = run_fleet("facts", "-i", inventory, "itest3")
    assert facts.returncode == 0, output(facts)
    import json

    data = json.loads(facts.stdout)["itest3"]
    assert data["ansible_hostname"] == "itest3"
    assert data["ansible_distribution"] == "Debian" and data["ansible_distribution_major_version"] == "12"
    assert data["ansible_default_ipv4"]["address"] == lab.ip("itest3")
