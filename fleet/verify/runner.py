"""Find the roles a playbook applies, and run each role's testinfra tests on its hosts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from fleet.api import Prepared, host_vars
from fleet.playbook import walk
from fleet.verify.plugin import CONFIG_ENV
from fleet.verify.specs import HostSpec, host_spec


@dataclass
class Failure:
    test: str
    host: str
    message: str


@dataclass
class RoleRun:
    """One role's tests on its hosts."""

    role: str
    tests: Path
    hosts: list[HostSpec]
    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0
    failures: list[Failure] = field(default_factory=list)
    suite: ET.Element | None = None
    output: str = ""

    @property
    def ok(self) -> bool:
        return self.failed == 0 and self.errors == 0 and self.passed > 0


def applied_roles(prepared: Prepared) -> dict[Path, tuple[str, list[str]]]:
    """Role path -> (name, hosts it is applied to), in play order."""
    found: dict[Path, tuple[str, list[str]]] = {}
    for play in prepared.playbook.plays:
        hosts = [h.name for h in prepared.inventory.select(play.hosts, prepared.options.limit)]
        contexts = list(play.roles) + [t.role for t in walk(play.tasks) if t.role is not None]
        for context in contexts:
            name, known = found.setdefault(context.path, (context.name, []))
            known.extend(h for h in hosts if h not in known)
    return found


def verify(prepared: Prepared, say: Callable[[str], None] = print) -> list[RoleRun]:
    """Run the tests of every applied role that has ``tests/test_*.py``."""
    runs: list[RoleRun] = []
    for path, (name, hosts) in applied_roles(prepared).items():
        tests = path.absolute() / "tests"  # pytest runs in a directory of its own
        if not hosts or not any(tests.glob("test_*.py")):
            continue
        specs = [host_spec(h, host_vars(prepared.inventory, h, prepared, prepared.options.extra_vars),
                           prepared.options.connection) for h in hosts]
        runs.append(_run_role(RoleRun(name, tests, specs), say))
    return runs


def _run_role(run: RoleRun, say: Callable[[str], None]) -> RoleRun:
    say(f"verifying role {run.role} on {', '.join(h.name for h in run.hosts)}")
    with tempfile.TemporaryDirectory(prefix="fleet-verify-") as tmp:
        config = Path(tmp) / "hosts.json"
        config.write_text(json.dumps({h.address: {"known_hosts": h.known_hosts,
                                                  "host_key_policy": h.host_key_policy}
                                      for h in run.hosts if h.known_hosts}))
        junit = Path(tmp) / "junit.xml"
        # -P and a cwd of its own: nothing in the directory fleet was started from (a planted
        # pytest.py, json.py, conftest.py) is imported; the roles' tests import as under pytest.
        argv = [sys.executable, "-P", "-m", "pytest", "-p", "fleet.verify.plugin", "-p", "no:cacheprovider",
                "-o", "addopts=", "--rootdir", str(run.tests), "--confcutdir", str(run.tests),
                "-q", "--tb=line", "-o", "junit_family=xunit2", f"--junitxml={junit}",
                f"--hosts={','.join(h.spec for h in run.hosts)}", str(run.tests)]
        env = dict(os.environ, **{CONFIG_ENV: str(config)})
        result = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=tmp, stdin=subprocess.DEVNULL)
        run.output = result.stdout + result.stderr
        if junit.exists():
            _read_junit(run, ET.parse(junit).getroot())
        elif result.returncode != 0:
            run.errors += 1
            run.failures.append(Failure("(pytest)", "-", run.output.strip().splitlines()[-1:][0]
                                        if run.output.strip() else f"pytest exited {result.returncode}"))
    return run


def _read_junit(run: RoleRun, root: ET.Element) -> None:
    by_address = {h.address: h.name for h in run.hosts}
    suite = root if root.tag == "testsuite" else root.find("testsuite")
    if suite is None:
        return
    suite.set("name", f"role {run.role}")
    for case in suite.iter("testcase"):
        test = case.get("name", "")
        host = "-"
        if "[" in test and test.endswith("]"):
            param = test[test.index("[") + 1:-1]
            address = param.split("://", 1)[-1].split("@")[-1].split(":")[0]
            host = by_address.get(address, param)
            test = test[: test.index("[")]
            case.set("name", f"{test}[{host}]")
        problem = case.find("failure")
        if problem is None:
            problem = case.find("error")
        if problem is not None:
            if problem.tag == "failure":
                run.failed += 1
            else:
                run.errors += 1
            message = (problem.get("message") or problem.text or "").strip().splitlines()
            run.failures.append(Failure(f"{case.get('classname', '')}.{test}", host, message[0] if message else ""))
        elif case.find("skipped") is not None:
            run.skipped += 1
        else:
            run.passed += 1
    run.suite = suite


def write_junit(runs: list[RoleRun], path: Path) -> None:
    """One JUnit file with a testsuite per role."""
    root = ET.Element("testsuites")
    for run in runs:
        if run.suite is not None:
            root.append(run.suite)
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
