"""The compatibility harness (bench/compat/run.py) on its fixtures, against real lab hosts and a
real ansible-core 2.18 (its venv is created under ~/.cache if missing; under CI=true it must be).

The fixtures (tests/fixtures/compat) become a git repository the harness reads through
``--mirror``: one role both tools converge (PASS), one with a module fleet cannot run (FAIL
on that task with fleet's message, the tasks before it reproduced), one with a documented status difference (FAIL on
that task), and ansible-test targets (a setup_* dependency; an aliases skip).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, require

pytestmark = pytest.mark.integration

FIXTURES = REPO / "tests" / "fixtures" / "compat"
FAKE_REPO = "fixtures/compat"


def _git(cwd: Path, *args: str) -> str:
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.invalid",
               GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.invalid")
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout


def _corpus(commit: str) -> str:
    items = [("converge", "roles/converge", "role"), ("refuse", "roles/refuse", "role"),
             ("differ", "roles/differ", "role"), ("compat_target", "targets/compat_target", "target"),
             ("compat_skipped", "targets/compat_skipped", "target")]
    return "\n".join(f'[[item]]\nname = "{name}"\nrepo = "{FAKE_REPO}"\ncommit = "{commit}"\npath = "{path}"\n'
                     f'kind = "{kind}"\nansible = "2.18"\n' for name, path, kind in items)


@pytest.fixture(scope="module")
def mirror(lab_client: Any, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The fixtures as a git repository under a mirror directory, and its commit."""
    require(shutil.which("git") is not None, "git is needed to build the fixture repository")
    sys.path.insert(0, str(REPO / "bench"))
    from compat import tools

    try:
        tools.ensure("2.18")
    except RuntimeError as exc:
        require(False, f"the ansible-core 2.18 venv could not be made: {exc}")
    base = tmp_path_factory.mktemp("mirror")
    repo = base / FAKE_REPO.replace("/", "+")
    shutil.copytree(FIXTURES, repo)
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "fixtures")
    return base, _git(repo, "rev-parse", "HEAD").strip()


def _harness(mirror: tuple[Path, str], base: Path, *args: str) -> dict[str, Any]:
    """One harness run over the fixtures: its JSON, stdout and RESULTS.md text."""
    corpus = base / "corpus.toml"
    corpus.write_text(_corpus(mirror[1]))
    out_json, out_md = base / "results.json", base / "RESULTS.md"
    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / "compat" / "run.py"), "--corpus", str(corpus),
         "--mirror", str(mirror[0]), "--sources", str(base / "sources"), "--workdir", str(base / "work"),
         "--timeout", "300", "--json", str(out_json), "--out", str(out_md), *args],
        capture_output=True, text=True, timeout=900, cwd=REPO)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    data = json.loads(out_json.read_text())
    return {"items": {i["name"]: i for i in data["items"]}, "summary": data["summary"],
            "stdout": done.stdout, "markdown": out_md.read_text()}


@pytest.fixture(scope="module")
def harness_run(mirror: tuple[Path, str], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return _harness(mirror, tmp_path_factory.mktemp("compat"), "--lab", f"compat-t{os.getpid()}")


def test_converging_role_passes(harness_run: dict[str, Any]) -> None:
    item = harness_run["items"]["converge"]
    assert item["status"] == "PASS", (item["first_error"], item["differences"][:5])
    assert item["first_error"] == ""
    assert item["reproduced"] == item["ansible_total"] > 10
    first_a, second_a = (r["counts"] for r in item["ansible_runs"])
    first_f, second_f = (r["counts"] for r in item["fleet_runs"])
    assert first_a == first_f and second_a == second_f
    assert first_a["changed"] >= 8 and second_a["changed"] == 0 and first_a["skipped"] == 1


def test_refused_role_fails_with_fleets_message(harness_run: dict[str, Any]) -> None:
    """A module fleet cannot run (assemble's action plugin) fails the task where reached; the
    tasks before it run (issue 15: it is no longer a preflight error)."""
    item = harness_run["items"]["refuse"]
    assert item["status"] == "FAIL"
    assert item["first_error"].startswith(
        "apply 1, task 'refuse : assembled by an action plugin': ansible changed, fleet failed ("), item["first_error"]
    assert "'ansible.builtin.assemble'" in item["first_error"]
    assert item["ansible_total"] - item["reproduced"] == 2  # that task, in both applies
    assert [r["task"] for r in item["fleet_runs"][0]["records"]][-1] == "refuse : assembled by an action plugin"


def test_differing_task_is_the_first_error(harness_run: dict[str, Any]) -> None:
    item = harness_run["items"]["differ"]
    assert item["status"] == "FAIL"
    assert item["first_error"] == ("apply 1, task 'differ : only under ansible-playbook': "
                                   "ansible changed, fleet skipped (Conditional result was False)")
    assert item["ansible_total"] - item["reproduced"] == 2  # that task, in both applies
    state = [d for d in item["differences"] if d.startswith("final state")]
    assert state == ["final state: files /srv/compat-differ: ansible 'file 0644 root:root "
                     f"{_sha('ansible')}', fleet 'file 0644 root:root {_sha('fleet')}'"]


def _sha(word: str) -> str:
    return hashlib.sha256(f"{word}\n".encode()).hexdigest()[:16]


def test_target_runs_with_its_setup_dependency(harness_run: dict[str, Any]) -> None:
    item = harness_run["items"]["compat_target"]
    assert item["status"] == "PASS", (item["first_error"], item["differences"][:5])
    tasks = [r["task"] for r in item["ansible_runs"][0]["records"]]
    assert "setup_remote_tmp_dir : create it" in tasks and "compat_target : check" in tasks


def test_aliases_skip_is_listed(harness_run: dict[str, Any]) -> None:
    item = harness_run["items"]["compat_skipped"]
    assert item["status"] == "SKIP" and item["first_error"] == "alias skip/docker"


def test_table_and_summary(harness_run: dict[str, Any]) -> None:
    items = harness_run["items"]
    reproduced = sum(i["reproduced"] for i in items.values())
    total = sum(i["ansible_total"] for i in items.values())
    summary = (f"2 of 5 items PASS (2 FAIL, 0 ERROR, 1 SKIP); Ansible task results reproduced: "
               f"{reproduced} / {total} ({100 * reproduced / total:.1f} %)")
    assert harness_run["summary"] == summary
    assert f"Summary: {summary}" in harness_run["stdout"]
    assert f"**Summary: {summary}**" in harness_run["markdown"]
    row = next(line for line in harness_run["markdown"].splitlines() if line.startswith("| converge |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    counts = items["converge"]["ansible_runs"][0]["counts"]
    assert cells[:3] == ["converge", "role", "PASS"]
    assert cells[3].startswith(f"{counts['ok']}/{counts['changed']}/{counts['failed']}/{counts['skipped']} / ")
    assert cells[5] == f"{items['converge']['reproduced']}/{items['converge']['ansible_total']}"


@pytest.mark.parametrize("release", ["bullseye", "trixie"])
def test_the_converging_role_passes_on_other_releases(mirror: tuple[Path, str], tmp_path: Path,
                                                      release: str) -> None:
    """``--release``: twins of another Debian release (Python 3.9 / 3.13 on the hosts)."""
    lab = f"compat-{release[:4]}{os.getpid()}"
    try:
        run = _harness(mirror, tmp_path, "--only", "converge", "--release", release, "--lab", lab, "--keep")
        item = run["items"]["converge"]
        assert item["status"] == "PASS", (item["first_error"], item["differences"][:5])
        os_release = subprocess.run(["docker", "exec", f"fleet-{item['lab']}-2", "cat", "/etc/os-release"],
                                    capture_output=True, text=True, check=True).stdout
        assert f"VERSION_CODENAME={release}" in os_release
    finally:
        subprocess.run([sys.executable, "-m", "fleet", "lab", "down", "--name", f"{lab}-1"], capture_output=True,
                       check=False, timeout=300)
