"""The ``fleet`` command line (click). ``main`` is the console-script entry point."""

from __future__ import annotations

import click

from fleet import __version__
from fleet.cli.bake import bake
from fleet.cli.drift import drift
from fleet.cli.info import facts, inventory, modules, vars_command
from fleet.cli.lab import lab
from fleet.cli.mux import mux
from fleet.cli.runs import apply, check, run
from fleet.cli.vault import vault
from fleet.cli.verify import verify


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="fleet")
def cli() -> None:
    """fleet: converge hosts to what your playbooks say, check for drift, fast."""


for command in (apply, check, drift, run, inventory, vars_command, facts, modules, lab, verify, mux, bake, vault):
    cli.add_command(command)


def main() -> None:
    cli(prog_name="fleet")
