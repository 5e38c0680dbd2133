"""``fleet verify`` runs the roles' tests without importing anything from the caller's directory."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.conftest import Lab
from tests.e2e.planted import fleet_in, make_project, plant

# The role's tests import a helper beside them, as pytest lets them (rootdir-relative imports).
ROLE_TEST = """\
from expected import CONTENT


def test_the_site_file(host):
    assert host.file({path!r}).content_string == CONTENT
"""


def test_fleet_verify_imports_nothing_from_the_callers_directory(lab: Lab, tmp_path: Path) -> None:
    project, markers = tmp_path / "project", tmp_path / "markers"
    make_project(lab, project)
    lab.roots["h1"].mkdir(parents=True, exist_ok=True)
    site = lab.roots["h1"] / "site"
    tasks, tests = project / "roles" / "site" / "tasks", project / "roles" / "site" / "tests"
    tasks.mkdir(parents=True)
    tests.mkdir(parents=True)
    tasks.joinpath("main.yml").write_text(f"- copy: {{dest: {site}, content: \"converged\\n\"}}\n")
    tests.joinpath("test_site.py").write_text(ROLE_TEST.format(path=str(site)))
    tests.joinpath("expected.py").write_text('CONTENT = "converged\\n"\n')
    (project / "site.yml").write_text("- hosts: all\n  gather_facts: false\n  roles: [site]\n")
    applied = fleet_in(project, {}, "apply", "-i", "inventory.yml", "site.yml")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    plant(project, markers)
    result = fleet_in(project, {}, "verify", "-i", "inventory.yml", "site.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "PASS role site: 1 host, 1 passed, 0 failed" in result.stdout
    assert sorted(p.name for p in markers.iterdir()) == []
    site.write_text("drifted\n")  # the tests still judge the host
    drifted = fleet_in(project, {}, "verify", "-i", "inventory.yml", "site.yml")
    assert drifted.returncode == 1 and "1 failed" in drifted.stdout, drifted.stdout + drifted.stderr
