"""Dependencies against known advisories: pyproject's floors and CI's pins stay clear of
.ci/advisories.toml, and .ci/audit.py fails on an installed vulnerable version."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import tomllib
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from tests.conftest import REPO

CI = REPO / ".ci"


def _audit() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fleet_ci_audit", CI / "audit.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


audit = _audit()
ADVISORIES: list[dict[str, Any]] = audit.load(CI / "advisories.toml")


def requirements() -> list[Requirement]:
    """pyproject.toml's dependencies and test extras."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    return [Requirement(text) for text in project["dependencies"] + project["optional-dependencies"]["test"]]


def pins() -> dict[str, Version]:
    lines = (CI / "constraints.txt").read_text().splitlines()
    pairs = [line.split("==") for line in lines if line.strip() and not line.startswith("#")]
    assert all(len(pair) == 2 for pair in pairs), "pins only: name==version"
    return {canonicalize_name(name): Version(version) for name, version in pairs}


def floor(requirement: Requirement) -> Version | None:
    floors = [Version(spec.version) for spec in requirement.specifier if spec.operator in (">=", "==", "~=")]
    return max(floors) if floors else None


def test_pyproject_floors_admit_no_known_vulnerable_version() -> None:
    for requirement in requirements():
        name = canonicalize_name(requirement.name)
        for advisory in (a for a in ADVISORIES if a["name"] == name):
            lowest = floor(requirement)
            assert lowest is not None and lowest not in advisory["spec"], (
                f"{requirement} admits {advisory['package']} {advisory['affected']} "
                f"({', '.join(advisory['ids'])}): raise the floor to {advisory['fixed']}")


def test_ci_pins_are_clear_of_advisories_and_satisfy_pyproject() -> None:
    pinned = pins()
    assert audit.findings(ADVISORIES, {name: (str(version), "constraints") for name, version in pinned.items()}) == []
    for requirement in requirements():
        name = canonicalize_name(requirement.name)
        assert name in pinned, f"{requirement.name} is not pinned in .ci/constraints.txt"
        assert requirement.specifier.contains(pinned[name], prereleases=True), (requirement, pinned[name])
    assert {"pip", "setuptools"} <= set(pinned)  # the venv's own, audited too


def _fake_distribution(site: Path, name: str, version: str) -> None:
    info = site / f"{name}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")


def test_the_audit_fails_on_an_installed_vulnerable_version(tmp_path: Path) -> None:
    site = tmp_path / "site"
    _fake_distribution(site, "Jinja2", "3.1.4")  # first on the path: what `import jinja2` would get
    run = subprocess.run([sys.executable, str(CI / "audit.py")], capture_output=True, text=True, timeout=120,
                         env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"}, check=False)
    assert run.returncode == 1, run.stdout + run.stderr
    assert f"VULNERABLE: jinja2 3.1.4 ({site}): CVE-2025-27516" in run.stderr, run.stderr
    assert "fixed in 3.1.6" in run.stderr


def test_a_broken_advisory_list_is_refused(tmp_path: Path) -> None:
    broken = tmp_path / "advisories.toml"
    broken.write_text('[[advisory]]\npackage = "x"\naffected = "<2"\nfixed = "1.5"\nids = ["CVE-0"]\n')
    run = subprocess.run([sys.executable, str(CI / "audit.py"), "--advisories", str(broken)],
                         capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 2 and "advisory 1: the fixed version 1.5 is in the affected range" in run.stderr
    with pytest.raises(ValueError, match="missing fixed, ids"):
        broken.write_text('[[advisory]]\npackage = "x"\naffected = "<2"\n')
        audit.load(broken)
