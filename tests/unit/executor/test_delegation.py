"""delegate_to, delegate_facts, local_action and run_once with delegation, run by fleet and by
ansible-playbook on the same playbook (tests/fixtures/delegation) and compared file by file.

Every inventory host is the controller (local connection), but each has its own interpreter: a
wrapper that exports FLEET_TEST_CONN=<host>, so a command says whose connection ran it (the
implicit localhost has no wrapper: "controller"). ansible-core comes with the test extra."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from fleet import api
from fleet.executor.options import RunOptions
from fleet.result import RunReport
from tests.conftest import REPO

FIXTURE = REPO / "tests" / "fixtures" / "delegation"
ANSIBLE_PLAYBOOK = Path(sys.executable).parent / "ansible-playbook"


def _inventory(site: Path, name: str, out: Path, extra: str = "") -> Path:
    lines = ["[web]"]
    for host in ("h1", "h2", "h3"):
        wrapper = site / f"python-{host}"
        wrapper.write_text(f'#!/bin/sh\nFLEET_TEST_CONN={host}\nexport FLEET_TEST_CONN\nexec {sys.executable} "$@"\n')
        wrapper.chmod(0o755)
        if host == "h3":
            lines.append("[db]")
        lines.append(f"{host} ansible_connection=local ansible_host=addr-{host} marker=m-{host} "
                     f"ansible_python_interpreter={wrapper}")
    lines += ["[all:vars]", f"out={out}", extra]
    path = site / name
    path.write_text("\n".join(lines) + "\n")
    return path


def _fleet(site: Path, inventory: Path, playbook: str = "site.yml", **options: Any) -> RunReport:
    prepared = api.prepare(site / playbook, [inventory], RunOptions(persist=0, **options))
    return asyncio.run(api.apply_async(prepared))


def _outputs(out: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted(out.iterdir())}


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, str], dict[str, str], RunReport]:
    site = tmp_path_factory.mktemp("delegation") / "site"
    shutil.copytree(FIXTURE, site)
    fleet_out, ansible_out = site / "out-fleet", site / "out-ansible"
    fleet_out.mkdir()
    ansible_out.mkdir()
    report = _fleet(site, _inventory(site, "fleet.ini", fleet_out))
    failed = [(r["task"], r["msg"]) for host in report.to_dict()["hosts"].values()
              for r in host["results"] if r["status"] in ("failed", "unreachable")]
    assert report.exit_code() == 0, failed
    done = subprocess.run([str(ANSIBLE_PLAYBOOK), "-i", str(_inventory(site, "ansible.ini", ansible_out)),
                           "site.yml"], cwd=site, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stdout[-3000:]
    return _outputs(fleet_out), _outputs(ansible_out), report


def test_the_same_files_as_ansible(both: tuple[dict[str, str], dict[str, str], RunReport]) -> None:
    fleet, ansible, _ = both
    assert sorted(fleet) == sorted(ansible)
    for name in ansible:
        assert fleet[name] == ansible[name], name


def test_what_the_hosts_saw(both: tuple[dict[str, str], dict[str, str], RunReport]) -> None:
    """The values ansible-playbook gives (checked equal above), spelled out."""
    seen = json.loads(both[1]["seen-h1"])
    assert seen["delegated"] == "h3" and seen["in_block"] == "h3" and seen["bridged"] == "h3"
    assert seen["local"] == seen["localhost"] == "controller"
    assert seen["looped"] == ["h2:h2", "h3:h3", "localhost:controller"]
    assert (seen["h3_set_by"], seen["own_set_by"]) == ("h1", "undefined")
    assert (seen["own_fact"], seen["h3_own_fact"]) == ("h1", "undefined")
    assert both[1]["templated-h1"] == "h1 addr-h1 m-h1\n"  # the original host's variables
    assert both[1]["once"] == "h3\n"  # one run, on the delegated host
    assert json.loads(both[1]["seen-h2"])["once_changed"] is True  # registered on every host
    assert json.loads(both[1]["seen-h2"])["once_block"] == "controller h1"
    assert seen["facts"] == [True, True, False]  # h1 ran the loop; the facts went to h2 and h3


def test_report_names_the_delegated_host(both: tuple[dict[str, str], dict[str, str], RunReport]) -> None:
    report = both[2].to_dict()
    assert "h3" not in report["hosts"] or report["hosts"]["h3"]["results"] == []
    results = {r["task"]: r for r in report["hosts"]["h1"]["results"]}
    assert results["a command delegated to another inventory host"]["delegated_to"] == "h3"
    assert results["local_action runs on the controller"]["delegated_to"] == "localhost"
    assert "delegated_to" not in results["what each host saw"]
    assert len([r for r in report["hosts"]["h2"]["results"] if r["task"] == "run once, delegated"]) == 0
