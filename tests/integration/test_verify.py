"""``fleet verify`` on lab hosts: the itest_site role's testinfra tests, JUnit, drift, host keys."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.integration.conftest import HOSTS, ITLab, output, run_fleet

SITE = Path(__file__).parent / "verify_site.yml"
ROLE_TESTS = Path(__file__).parent / "roles" / "itest_site" / "tests"
TESTS = ["test_site_directory", "test_page_names_its_host", "test_config", "test_python3_is_there"]


@pytest.fixture
def applied(lab: ITLab) -> ITLab:
    """The lab with the itest_site role freshly applied to every host."""
    for host in HOSTS:
        lab.reset(host, "/srv/test-verify")
    result = run_fleet("apply", "-i", str(lab.inventory), str(SITE))
    assert result.returncode == 0, output(result)
    return lab


def _junit(path: Path) -> dict[str, str]:
    """testcase name -> outcome ('passed', 'failure', 'error', 'skipped') from a JUnit file."""
    root = ET.parse(path).getroot()
    assert root.tag == "testsuites"
    cases = {}
    for suite in root.iter("testsuite"):
        assert suite.get("name") == "role itest_site"
        for case in suite.iter("testcase"):
            outcome = next((child.tag for child in case if child.tag in ("failure", "error", "skipped")),
                           "passed")
            cases[case.get("name", "")] = outcome
    return cases


def test_verify_passes_with_junit_then_fails_on_drift(applied: ITLab, tmp_path: Path) -> None:
    lab = applied
    junit = tmp_path / "junit.xml"
    result = run_fleet("verify", "-i", str(lab.inventory), str(SITE), "--junit", str(junit))
    assert result.returncode == 0, output(result)
    assert "PASS role itest_site: 3 hosts, 12 passed, 0 failed" in result.stdout
    assert _junit(junit) == {f"{test}[{host}]": "passed" for test in TESTS for host in HOSTS}

    lab.sh("itest2", "echo listen=9999 > /srv/test-verify/app.conf")
    drifted = run_fleet("verify", "-i", str(lab.inventory), str(SITE), "--junit", str(junit))
    assert drifted.returncode == 1, output(drifted)
    assert "FAIL role itest_site: 3 hosts, 11 passed, 1 failed" in drifted.stdout
    assert "itest2: test_site.test_config" in drifted.stdout
    cases = _junit(junit)
    assert [name for name, outcome in cases.items() if outcome != "passed"] == ["test_config[itest2]"]


def test_verify_over_docker(applied: ITLab, tmp_path: Path) -> None:
    junit = tmp_path / "junit.xml"
    result = run_fleet("verify", "-i", str(applied.docker_inventory), str(SITE), "--limit", "itest1:itest3",
                       "--junit", str(junit))
    assert result.returncode == 0, output(result)
    assert _junit(junit) == {f"{test}[{host}]": "passed" for test in TESTS for host in ("itest1", "itest3")}


def test_verify_refuses_a_host_whose_key_is_unknown(applied: ITLab, tmp_path: Path) -> None:
    lab = applied
    inventory = lab.derived(tmp_path / "inv.yml", drop=("ansible_ssh_common_args",))
    known = tmp_path / "known_hosts"
    lines = (lab.directory / "known_hosts").read_text().splitlines()
    # every host but itest3; itest3 comes second, after a host whose key is known
    known.write_text("".join(line + "\n" for line in lines if not line.startswith(lab.ip("itest3") + " ")))
    before = known.read_text()
    result = run_fleet("verify", "-i", str(inventory), str(SITE), "--known-hosts", str(known),
                       "--limit", "itest1:itest3")
    assert result.returncode == 1, output(result)
    assert "2 hosts, 4 passed, 4 failed" in result.stdout
    refused = [line for line in result.stdout.splitlines() if line.strip().startswith("itest3:")]
    assert len(refused) == len(TESTS)
    assert all(f"host key for {lab.ip('itest3')} is not known" in line for line in refused), refused
    assert not any(line.strip().startswith("itest1:") for line in result.stdout.splitlines())
    assert known.read_text() == before  # nothing was recorded

    # a key that differs from the recorded one: refused too
    wrong = lab.sh("itest2", "cat /etc/ssh/ssh_host_ed25519_key.pub").split()[:2]
    known.write_text(f"{lab.ip('itest1')} {wrong[0]} {wrong[1]}\n")
    changed = run_fleet("verify", "-i", str(inventory), str(SITE), "--known-hosts", str(known), "--limit", "itest1")
    assert changed.returncode == 1, output(changed)
    assert f"host key for {lab.ip('itest1')} has CHANGED" in changed.stdout, changed.stdout


def test_verify_with_checking_off_records_new_keys_and_refuses_changed_ones(applied: ITLab, tmp_path: Path) -> None:
    """ansible_host_key_checking: false means what it means for fleet's own connections:
    accept and record an unknown key, refuse one that differs from the recorded key."""
    lab = applied
    inventory = lab.derived(tmp_path / "inv.yml", drop=("ansible_ssh_common_args",),
                            group_vars={"ansible_host_key_checking": False})
    known = tmp_path / "known_hosts"
    known.write_text("")
    result = run_fleet("verify", "-i", str(inventory), str(SITE), "--known-hosts", str(known), "--limit", "itest1")
    assert result.returncode == 0, output(result)
    recorded = known.read_text().split()
    real = lab.sh("itest1", "cat /etc/ssh/ssh_host_*_key.pub").split()
    assert recorded[0] == lab.ip("itest1") and recorded[2] in real

    wrong = lab.sh("itest2", "cat /etc/ssh/ssh_host_ed25519_key.pub").split()[:2]
    known.write_text(f"{lab.ip('itest1')} {wrong[0]} {wrong[1]}\n")
    changed = run_fleet("verify", "-i", str(inventory), str(SITE), "--known-hosts", str(known), "--limit", "itest1")
    assert changed.returncode == 1, output(changed)
    assert f"host key for {lab.ip('itest1')} has CHANGED" in changed.stdout, changed.stdout
    assert known.read_text() == f"{lab.ip('itest1')} {wrong[0]} {wrong[1]}\n"


def test_role_tests_run_under_plain_testinfra(applied: ITLab, tmp_path: Path) -> None:
    lab = applied
    config = tmp_path / "ssh_config"
    config.write_text(f"Host *\n  User root\n  IdentityFile {lab.directory / 'id_ed25519'}\n"
                      f"  UserKnownHostsFile {lab.directory / 'known_hosts'}\n"
                      "  StrictHostKeyChecking yes\n  GlobalKnownHostsFile /dev/null\n")
    hosts = ",".join(f"ssh://{lab.ip(host)}" for host in ("itest1", "itest2"))
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-c", "/dev/null",
         "--rootdir", str(ROLE_TESTS), "--confcutdir", str(ROLE_TESTS),
         f"--hosts={hosts}", f"--ssh-config={config}", str(ROLE_TESTS)],
        capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "8 passed" in result.stdout
