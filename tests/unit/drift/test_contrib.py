"""contrib/nightly: the systemd units, cron line and CI job agree with each other and with fleet."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from fleet.cli.drift import drift
from fleet.drift.prom import build_registry
from tests.conftest import REPO
from tests.unit.drift.sample import sample_drift

NIGHTLY = REPO / "contrib" / "nightly"
CRON_FIELD = re.compile(r"^(\*|\d+(-\d+)?)(/\d+)?(,(\*|\d+(-\d+)?)(/\d+)?)*$")


def unit(name: str) -> dict[str, list[tuple[str, str]]]:
    """A systemd unit file as {section: [(key, value)]}, continuation lines joined."""
    sections: dict[str, list[tuple[str, str]]] = {}
    text = re.sub(r"\\\n\s*", " ", (NIGHTLY / name).read_text())
    current = ""
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            current = line.strip("[]")
            sections[current] = []
            continue
        key, _, value = line.partition("=")
        sections[current].append((key.strip(), value.strip()))
    return sections


def value(section: list[tuple[str, str]], key: str) -> str:
    found = [v for k, v in section if k == key]
    assert len(found) == 1, (key, found)
    return found[0]


def drift_options(argv: list[str]) -> dict[str, Any]:
    """The parameters of a `fleet drift` command line, parsed by the command itself.

    Unknown options, missing values and bad values (``--keep x``) raise click's usage errors.
    """
    assert Path(argv[0]).name == "fleet" and argv[1] == "drift", argv
    with drift.make_context("fleet drift", list(argv[2:])) as context:
        params = dict(context.params)
    assert str(params["playbook"]).endswith(".yml"), params
    return params


def service_options() -> dict[str, Any]:
    return drift_options(shlex.split(value(unit("fleet-drift.service")["Service"], "ExecStart")))


def test_option_check_can_fail() -> None:
    for argv in (["fleet", "drift", "site.yml", "--report", "x"], ["fleet", "drift", "site.yml", "--prom"],
                 ["fleet", "drift", "site.yml", "--keep", "many"]):
        with pytest.raises(click.UsageError):
            drift_options(argv)


def test_timer_starts_the_service() -> None:
    timer = unit("fleet-drift.timer")
    assert value(timer["Timer"], "Unit") == "fleet-drift.service"
    assert (NIGHTLY / "fleet-drift.service").is_file()
    assert value(timer["Timer"], "Persistent") == "true"
    assert re.fullmatch(r"\d+(min|h|s)?", value(timer["Timer"], "RandomizedDelaySec"))
    assert value(timer["Timer"], "OnCalendar")
    assert value(timer["Install"], "WantedBy") == "timers.target"


def test_service() -> None:
    service = unit("fleet-drift.service")["Service"]
    assert value(service, "Type") == "oneshot"
    assert "2" in value(service, "SuccessExitStatus").split()  # drift is not a unit failure
    options = service_options()
    assert options["inventory"] == ("/etc/fleet/inventory",)
    assert options["playbook"] == "/etc/fleet/site.yml"
    assert options["state_dir"] == "/var/lib/fleet/drift"
    assert options["prom"] == "/var/lib/prometheus/node-exporter/fleet_drift.prom"
    assert options["report_mode"] == ("prom=0644",)  # node-exporter reads it as another user
    assert all(options[name] for name in ("json_path", "html", "junit"))


def test_systemd_analyze_verify(tmp_path: Path) -> None:
    """systemd's own check of both units, where systemd-analyze exists (optional here).

    ExecStart's program is replaced by /bin/true in the copy checked: fleet need not be
    installed where the example unit expects it, and the rest of the line is still checked.
    """
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        return
    for name in ("fleet-drift.service", "fleet-drift.timer"):
        text = (NIGHTLY / name).read_text()
        (tmp_path / name).write_text(re.sub(r"^ExecStart=\S+", "ExecStart=/bin/true", text, flags=re.M))
    done = subprocess.run([analyze, "verify", str(tmp_path / "fleet-drift.service"),
                           str(tmp_path / "fleet-drift.timer")],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "fleet-drift" not in done.stdout + done.stderr


def test_cron_line() -> None:
    lines = [line for line in (NIGHTLY / "fleet-drift.cron").read_text().splitlines()
             if line.strip() and not line.lstrip().startswith("#")]
    jobs = [line for line in lines if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", line)]
    assert len(jobs) == 1, jobs
    fields = jobs[0].split(None, 6)
    assert len(fields) == 7, "5 time fields, a user, a command"
    assert all(CRON_FIELD.match(field) for field in fields[:5]), fields[:5]
    assert fields[5] == "fleet"
    command = fields[6]
    assert "%" not in command  # cron turns % into a newline
    words = shlex.split(command)
    start = next(i for i, word in enumerate(words)
                 if Path(word).name == "fleet" and words[i + 1:i + 2] == ["drift"])
    end = next((i for i, word in enumerate(words) if i > start and word in ("&&", ";", "|", "||")),
               len(words))
    assert drift_options(words[start:end]) == service_options()  # the same run as the timer's


def test_ci_job() -> None:
    config = yaml.safe_load((NIGHTLY / "ci-drift.yml").read_text())
    jobs = [job for job in config.values() if isinstance(job, dict) and "script" in job]
    assert len(jobs) == 1
    job = jobs[0]
    commands = [shlex.split(line) for line in job["script"] if "fleet drift" in line]
    assert len(commands) == 1
    options = drift_options(commands[0])
    assert job["artifacts"]["reports"]["junit"] == options["junit"]
    assert job["artifacts"]["when"] == "always"
    assert any(options["html"].startswith(path) for path in job["artifacts"]["paths"])
    assert options["state_dir"] in [path.rstrip("/") for path in job["cache"]["paths"]]
    assert any("schedule" in rule.get("if", "") for rule in job["rules"])
    assert job["allow_failure"] == {"exit_codes": [2]}


def test_readme_documents_every_metric_and_exit_code() -> None:
    readme = (NIGHTLY / "README.md").read_text()
    names = {metric.name for metric in build_registry(sample_drift()).collect()}
    assert len(names) == 10
    for name in names:
        assert f"`{name}`" in readme, name
    for row in ("| 0 | no drift", "| 2 | drift", "| 1 | errors"):
        assert row in readme
    for name in ("fleet-drift.service", "fleet-drift.timer", "fleet-drift.cron", "ci-drift.yml"):
        assert f"`{name}`" in readme and (NIGHTLY / name).is_file()
