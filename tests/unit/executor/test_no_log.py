"""no_log: a secret in a task's arguments appears nowhere: stdout, stderr, JSON report."""

from __future__ import annotations

import json

import pytest

from tests.conftest import fleet
from tests.unit.executor.conftest import Site, play

SECRET = "s3cr3t-Pa55w0rd-xyzzy"


@pytest.mark.parametrize("outcome", ["changed", "failed", "loop"])
def test_secret_never_shown(site: Site, outcome: str) -> None:
    site.group_vars = {"all": {"password": SECRET}}
    tasks = {
        "changed": """
            - name: write secret
              copy: dest={{ root }}/secret content="{{ password }}"
              no_log: true
            - name: echo secret
              command: echo {{ password }}
              no_log: true
        """,
        "failed": """
            - name: fail with secret
              command: "sh -c 'echo {{ password }}; echo {{ password }} >&2; exit 3'"
              no_log: true
        """,
        "loop": """
            - name: loop with secret
              lineinfile: path={{ root }}/secret line="{{ item }}" create=true
              loop: ["{{ password }}", "other-{{ password }}"]
              no_log: true
        """,
    }[outcome]
    site.playbook(play(tasks, hosts="h1"))
    site.write_inventory()
    site.root("h1").mkdir(parents=True)
    report = site.dir / "report.json"
    result = fleet("apply", "-i", str(site.inventory), str(site.dir / "site.yml"), "--diff", "-vvv",
                   "--json", str(report), cwd=site.dir)
    assert result.returncode == (1 if outcome == "failed" else 0), result.stdout + result.stderr
    assert SECRET not in result.stdout
    assert SECRET not in result.stderr
    text = report.read_text()
    assert SECRET not in text
    data = json.loads(text)
    assert data["hosts"]["h1"]["results"], "the report lists the task"
    if outcome != "failed":
        assert SECRET in site.read("h1", "secret")  # the task did its work
