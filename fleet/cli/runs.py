"""``fleet apply``, ``fleet check`` and ``fleet run`` (ad hoc)."""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any

import click
from rich.console import Console

from fleet import api
from fleet.cli.common import build_options, handle_errors, inventory_required, run_options
from fleet.report import TerminalReporter, write_json
from fleet.result import RunReport


def _reporter(options: Any, json_path: str | None) -> TerminalReporter:
    console = Console(stderr=json_path == "-", highlight=False)
    return TerminalReporter(console, options.verbosity, options.diff, options.mode)


def _finish(report: RunReport, json_path: str | None) -> None:
    if json_path:
        write_json(report.to_dict(), json_path)
    sys.exit(report.exit_code())


def _run(prepared: api.Prepared, reporter: TerminalReporter, json_path: str | None, command: str) -> None:
    """Run with SIGINT/SIGTERM handled (fleet.executor.interrupt); print, report, exit."""
    prepared.options.command = command

    def aborted(report: RunReport) -> None:  # a second signal: what is known now, and out
        reporter.run_end(report)
        if json_path:
            write_json(report.to_dict(), json_path)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(report.exit_code())  # closing nothing: the hosts see their controller go away

    _finish(asyncio.run(api.apply_interruptible(prepared, reporter, aborted)), json_path)


def _playbook_command(check: bool | None):  # noqa: ANN202 - click decorators
    def command(playbook: str, tags: tuple[str, ...], skip_tags: tuple[str, ...], strategy: str | None,
                **params: Any) -> None:
        options = build_options(params, check=check or None, tags=tags, skip_tags=skip_tags, strategy=strategy)
        prepared = api.prepare(playbook, inventory_required(params["inventory"]), options)
        _run(prepared, _reporter(options, params.get("json_path")), params.get("json_path"), f"fleet {options.mode}")

    return command


def _with_playbook_options(fn):  # noqa: ANN001, ANN202
    fn = click.option("--strategy", type=click.Choice(["linear", "free"]), help="Override the plays' strategy.")(fn)
    fn = click.option("--skip-tags", multiple=True, metavar="TAGS", help="Skip tasks with these tags.")(fn)
    fn = click.option("-t", "--tags", multiple=True, metavar="TAGS", help="Only run tasks with these tags.")(fn)
    fn = run_options(fn)
    return click.argument("playbook", type=click.Path(dir_okay=False))(fn)


@click.command("apply")
@_with_playbook_options
@handle_errors
def apply(**kwargs: Any) -> None:
    """Converge the hosts to PLAYBOOK. Exit 0 on success, 1 on any failed or unreachable host."""
    _playbook_command(None)(**kwargs)


@click.command("check")
@_with_playbook_options
@handle_errors
def check(**kwargs: Any) -> None:
    """Dry run: report what PLAYBOOK would change and change nothing.

    Exit 0 when nothing would change, 2 when changes are pending, 1 on errors.
    """
    kwargs["check"] = True
    _playbook_command(True)(**kwargs)


@click.command("run")
@click.argument("pattern")
@click.option("-m", "--module-name", "module", default="command", show_default=True, help="Module to run.")
@click.option("-a", "--args", "module_args", default="", metavar="ARGS", help="Module arguments: 'k=v ...' or free form.")
@run_options
@handle_errors
def run(pattern: str, module: str, module_args: str, **params: Any) -> None:
    """Run one module ad hoc on the hosts PATTERN selects."""
    options = build_options(params)
    prepared = api.prepare_module(pattern, module, module_args, inventory_required(params["inventory"]), options)
    reporter = _reporter(options, params.get("json_path"))
    reporter.adhoc = True  # every host's answer, in Ansible's ad-hoc format
    _run(prepared, reporter, params.get("json_path"), "fleet run")
