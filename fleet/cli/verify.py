"""``fleet verify``: the testinfra tests of every role a playbook applies."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from fleet import api
from fleet.cli.common import build_options, command_secrets, fail, handle_errors, inventory_required
from fleet.cli.vaultopts import vault_options
from fleet.report import plural


@click.command("verify")
@click.argument("playbook", type=click.Path(dir_okay=False))
@click.option("-i", "--inventory", "inventory", multiple=True, metavar="PATH", help="Inventory source (repeatable).")
@click.option("-l", "--limit", metavar="PATTERN", help="Only verify these hosts.")
@click.option("-e", "--extra-vars", "extra_vars", multiple=True, metavar="VARS", help="Extra vars (k=v, JSON, @file).")
@click.option("--known-hosts", metavar="FILE", help="known_hosts file (default ~/.ssh/known_hosts).")
@click.option("--junit", "junit", type=click.Path(dir_okay=False), help="Write a JUnit XML report here.")
@click.option("-v", "--verbose", count=True, help="Show pytest's output for every role.")
@vault_options
@handle_errors
def verify(playbook: str, junit: str | None, **params: Any) -> None:
    """Run roles/NAME/tests/test_*.py (testinfra) of each role PLAYBOOK applies, on its hosts.

    Exit 0 when every test passed, 1 when any failed or no role has tests.
    """
    from fleet.report import visible
    from fleet.verify.runner import verify as run_verify
    from fleet.verify.runner import write_junit

    options = build_options(params)
    prepared = api.prepare(playbook, inventory_required(params["inventory"]), options)
    def redact(text: str) -> str:  # a failing test may quote a host's file: a secret, escape sequences
        return visible(command_secrets().redact(text))
    runs = run_verify(prepared, say=lambda line: click.echo(redact(line), err=True))
    if not runs:
        fail(f"no role applied by {playbook} has tests (roles/NAME/tests/test_*.py)")
    for run in runs:
        mark = click.style("PASS", fg="green") if run.ok else click.style("FAIL", fg="red", bold=True)
        click.echo(f"{mark} role {run.role}: {plural(len(run.hosts), 'host')}, {run.passed} passed, {run.failed} failed"
                   + (f", {plural(run.errors, 'error')}" if run.errors else "")
                   + (f", {run.skipped} skipped" if run.skipped else ""))
        for failure in run.failures:
            click.echo(redact(f"     {failure.host}: {failure.test}: {failure.message}"))
        if params.get("verbose") or (not run.ok and run.passed == 0 and not run.failures):
            click.echo(redact(run.output))
    if junit:
        write_junit(runs, Path(junit))
    sys.exit(0 if all(run.ok for run in runs) else 1)
