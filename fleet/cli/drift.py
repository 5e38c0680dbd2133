"""``fleet drift``: check mode across the inventory as a nightly drift report.

Exit codes: 0 no drift, 2 drift found, 1 errors (bad input, failed observation, unreachable
host; drift found on the other hosts is still reported). Reports are 0600 unless
``--report-mode`` says otherwise; the state directory is private and keeps before/after values
only with ``--diff`` (``fleet.drift.private``, ``fleet.drift.stored``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.text import Text

from fleet import api
from fleet.cli.common import build_options, fail, handle_errors, inventory_required, run_options
from fleet.drift import (
    FAIL_ON,
    PRIVATE_FILE,
    History,
    build_drift,
    known_after,
    parse_report_modes,
    print_drift,
    write_html,
    write_junit,
    write_prom,
)
from fleet.errors import InputError
from fleet.report import TerminalReporter, write_json

WRITERS = (("junit", write_junit), ("prom", write_prom), ("html", write_html))
HOOK_TIMEOUT_S = 300


def _outputs(report: dict[str, Any], params: dict[str, Any]) -> None:
    """Write the reports asked for, each with its ``--report-mode`` (0600 by default)."""
    modes = parse_report_modes(params.get("report_mode") or ())
    if params.get("json_path"):
        write_json(report, params["json_path"], modes["json"])
    for name, writer in WRITERS:
        if params.get(name):
            writer(report["drift"], params[name], modes[name])


def _hook(command: str, drift: dict[str, Any], report_path: str, console: Console) -> None:
    """``--on-drift CMD``: run through the shell with the report's path in the environment."""
    drifted = [name for name, host in drift["hosts"].items() if host["status"] == "drifted"]
    env = dict(os.environ, FLEET_DRIFT_REPORT=report_path, FLEET_DRIFT_EXIT_CODE=str(drift["exit_code"]),
               FLEET_DRIFT_HOSTS=",".join(drifted), FLEET_DRIFT_TASKS=str(drift["summary"]["drifted_tasks"]),
               FLEET_DRIFT_NEW=str(drift["summary"]["new"]))
    try:
        done = subprocess.run(command, shell=True, env=env, stdin=subprocess.DEVNULL,
                              timeout=HOOK_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        console.print(f"[bold red]--on-drift command timed out after {HOOK_TIMEOUT_S} s[/]")
        return
    if done.returncode != 0:
        console.print(f"[bold red]--on-drift command exited {done.returncode}[/]")


def _show(params: dict[str, Any], console: Console) -> int:
    if not params.get("state_dir"):
        raise InputError("--show needs --state-dir")
    parse_report_modes(params.get("report_mode") or ())  # a bad mode fails before any output
    report = History(params["state_dir"]).latest()
    if report is None:
        raise InputError(f"--state-dir {params['state_dir']}: no drift run recorded yet")
    print_drift(console, report["drift"])
    _outputs(report, params)
    return int(report["drift"]["exit_code"])


def _check(playbook: str, params: dict[str, Any], console: Console) -> int:
    keep_values = bool(params.get("diff"))  # --diff: the state directory keeps before/after too
    parse_report_modes(params.get("report_mode") or ())  # a bad mode fails before any host
    options = build_options(params, check=True)
    options.diff = True  # the report carries every drifted field's before and after
    inventory = inventory_required(params["inventory"])
    prepared = api.prepare(playbook, inventory, options)  # bad input fails here, before any host
    history = History(params["state_dir"], params["keep"]) if params.get("state_dir") else None
    with history.locked() if history else contextlib.nullcontext():
        for warning in history.warnings if history else ():
            console.print(Text(f"[WARNING] {warning}", style="magenta"))
        known = history.known() if history else {}
        digest = history.digest() if history else None
        progress = TerminalReporter(console, options.verbosity, diff=True, mode="check",
                                    progress_only=not options.verbosity)  # -v: the check run's lines
        report = asyncio.run(api.apply_async(prepared, progress))
        if history:
            report.warnings[:0] = history.warnings
        drift = build_drift(report, known, playbook=playbook, inventory=inventory,
                            fail_on=params["fail_on"], digest=digest)
        data = dict(report.to_dict(), drift=drift)
        stored = history.record(data, known_after(drift, known), keep_values) if history else None
    _outputs(data, params)
    print_drift(console, drift)
    counted = drift["summary"]["new" if params["fail_on"] == "new" else "drifted_tasks"]
    if params.get("on_drift") and counted:
        if params.get("json_path") and params["json_path"] != "-":
            _hook(params["on_drift"], drift, str(Path(params["json_path"]).resolve()), console)
        elif stored is not None and keep_values:
            _hook(params["on_drift"], drift, str(stored.resolve()), console)
        else:  # the hook gets every value, as --json would have them, in a private temp file
            with tempfile.TemporaryDirectory(prefix="fleet-drift-") as tmp:
                path = os.path.join(tmp, "drift.json")
                write_json(data, path, PRIVATE_FILE)
                _hook(params["on_drift"], drift, path, console)
    return int(drift["exit_code"])


@click.command("drift")
@click.argument("playbook", required=False, type=click.Path(dir_okay=False))
@click.option("--junit", metavar="PATH", help="JUnit XML: a testcase per host and task (drift = failure).")
@click.option("--prom", metavar="PATH", help="Prometheus textfile-collector metrics, written atomically.")
@click.option("--html", metavar="PATH", help="One self-contained HTML page for people.")
@click.option("--report-mode", multiple=True, metavar="[FORMAT=]MODE",
              help="Permissions of the reports (default 0600; at most 0644): '0640' for all, "
                   "'prom=0644' for one of json, junit, prom, html (repeatable).")
@click.option("--state-dir", metavar="DIR",
              help="Keep run reports here (a private directory; before/after values only with "
                   "--diff); classify drift as new/persisting/resolved.")
@click.option("--keep", type=click.IntRange(1), default=30, show_default=True, help="Run reports kept in --state-dir.")
@click.option("--fail-on", type=click.Choice(FAIL_ON), default="any", show_default=True,
              help="'new': drift already known from the last run exits 0.")
@click.option("--on-drift", metavar="CMD", help="Shell command run when drift is found ($FLEET_DRIFT_REPORT = the JSON report).")
@click.option("--show", is_flag=True, help="Print the latest recorded run from --state-dir; touch no host.")
@run_options
@handle_errors
def drift(playbook: str | None, show: bool, **params: Any) -> None:
    """Check PLAYBOOK on every host without changing anything and report drift.

    Exit 0: no drift. 2: drift found. 1: errors (bad input, unreachable host, failed
    observation); drift found on other hosts is still reported. The reports always show the
    diffs; --diff also keeps the before/after values in --state-dir.
    """
    console = Console(stderr=params.get("json_path") == "-", highlight=False)
    if show:
        sys.exit(_show(params, console))
    if not playbook:
        fail("fleet drift needs a PLAYBOOK (or --show with --state-dir)")
    sys.exit(_check(playbook, params, console))
