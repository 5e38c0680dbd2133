"""``fleet drift`` end to end over real SSH: exit codes, exactly the drifted host/task pairs with
their diffs, no host touched, history (new → persisting → resolved), --fail-on, --on-drift,
--show, an unreachable host, every report format written, one agent round trip per task at most.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import fleet
from tests.e2e.conftest import Lab, snapshot

SITE = Path(__file__).parent / "site" / "site.yml"
MOTD, ENV = "static file copied from files/", "a line in a file"


def drift(lab: Lab, *extra: str, expect: int, inventory: tuple[str, ...] = ()) -> dict[str, Any]:
    path = lab.workdir / "drift.json"
    path.unlink(missing_ok=True)
    inv = [arg for i in (str(lab.inventory), *inventory) for arg in ("-i", i)]
    run = fleet("drift", *inv, str(SITE), "--state-dir", str(lab.workdir / "state"), "--json", str(path), *extra)
    assert run.returncode == expect, run.stdout + run.stderr
    data = json.loads(path.read_text())
    data["stdout"] = run.stdout
    return data


def drifted(data: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(host, task["task"]): task["drift"] for host, entry in data["drift"]["hosts"].items()
            for task in entry["tasks"] if task["status"] == "drift"}


def test_drift_lifecycle(lab: Lab) -> None:
    applied = fleet("apply", "-i", str(lab.inventory), str(SITE))
    assert applied.returncode == 0, applied.stdout + applied.stderr
    clean = drift(lab, expect=0)
    assert clean["mode"] == "check" and clean["drift"]["summary"]["clean"] == 3
    tasks = len(clean["drift"]["hosts"]["h1"]["tasks"])
    for host in clean["hosts"].values():  # pipelined: far fewer round trips than tasks
        assert 1 <= host["agent_requests"] <= tasks

    (lab.roots["h1"] / "etc/motd").write_text("edited by hand\n")
    (lab.roots["h2"] / "etc/env").unlink()
    before = {host: snapshot(root) for host, root in lab.roots.items()}
    outputs = {fmt: lab.workdir / f"drift.{fmt}" for fmt in ("junit", "prom", "html")}
    hook_out = lab.workdir / "hook.txt"
    first = drift(lab, *(a for fmt, p in outputs.items() for a in (f"--{fmt}", str(p))),
                  "--on-drift", f'echo "$FLEET_DRIFT_REPORT $FLEET_DRIFT_HOSTS $FLEET_DRIFT_EXIT_CODE" > {hook_out}',
                  expect=2)
    assert {host: snapshot(root) for host, root in lab.roots.items()} == before, "fleet drift changed a host"
    found = drifted(first)
    assert set(found) == {("h1", MOTD), ("h2", ENV)}
    assert found[("h1", MOTD)]["fields"] == ["content"]
    assert "-edited by hand" in found[("h1", MOTD)]["unified"]["content"]
    assert "+Welcome to a fleet-managed host." in found[("h1", MOTD)]["unified"]["content"]
    assert all(item["state"] == "new" for item in found.values())
    assert "DRIFT: [h1] static file copied from files/" in first["stdout"]
    assert hook_out.read_text().split() == [str(lab.workdir / "drift.json"), "h1,h2", "2"]
    junit = ET.parse(outputs["junit"]).getroot()
    assert junit.get("failures") == "2" and junit.get("errors") == "0"
    metrics = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for family in text_string_to_metric_families(outputs["prom"].read_text()) for s in family.samples}
    assert metrics[("fleet_drift_hosts", ())] == 2
    assert "h2" in outputs["html"].read_text()

    second = drift(lab, "--fail-on", "new", expect=0)  # known drift only
    again = drifted(second)
    assert set(again) == set(found) and all(item["state"] == "persisting" for item in again.values())
    assert {k: v["first_seen"] for k, v in again.items()} == {k: v["first_seen"] for k, v in found.items()}

    dead = lab.workdir / "dead.ini"
    dead.write_text("[fleet]\ndead ansible_host=127.0.0.1 ansible_port=1 root=/nonexistent\n")
    with_dead = drift(lab, expect=1, inventory=(str(dead),))
    assert with_dead["drift"]["hosts"]["dead"]["status"] == "unreachable"
    assert with_dead["drift"]["hosts"]["dead"]["error"]
    assert set(drifted(with_dead)) == set(found)  # the others' drift is still reported
    assert "UNREACHABLE: dead" in with_dead["stdout"]

    assert fleet("apply", "-i", str(lab.inventory), str(SITE)).returncode == 0
    healed = drift(lab, expect=0)
    assert drifted(healed) == {}
    assert {(r["host"], r["task"]) for r in healed["drift"]["resolved"]} == set(found)

    show = fleet("drift", "--state-dir", str(lab.workdir / "state"), "--show")
    assert show.returncode == 0 and "RESOLVED: [h1] static file copied from files/" in show.stdout
    runs = sorted((lab.workdir / "state" / "runs").glob("*.json"))
    assert len(runs) == 5
    trimmed = drift(lab, "--keep", "2", expect=0)
    assert len(list((lab.workdir / "state" / "runs").glob("*.json"))) == 2
    assert trimmed["drift"]["resolved"] == []


def test_drift_bad_input_exits_1_before_any_host(lab: Lab) -> None:
    broken = lab.workdir / "broken.yml"
    broken.write_text("- hosts: fleet\n  tasks:\n    - copy: {dest: /x, content: '{{ nope }}'}\n      bogus: 1\n")
    run = fleet("drift", "-i", str(lab.inventory), str(broken))
    assert run.returncode == 1 and "broken.yml:3" in run.stderr, run.stderr
    no_state = fleet("drift", "--show", "--state-dir", str(lab.workdir / "nothing-here"))
    assert no_state.returncode == 1 and "no drift run recorded yet" in no_state.stderr
