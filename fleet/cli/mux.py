"""``fleet mux status|stop``: the persistence daemon that keeps agents between runs."""

from __future__ import annotations

import json

import click

from fleet.cli.common import handle_errors


@click.group("mux")
def mux() -> None:
    """Agents kept alive between runs (--persist, $FLEET_PERSIST; like SSH's ControlPersist).

    The daemon is a credential cache, like ssh-agent: an agent that sudo started with your
    password stays root until it has been idle for the persist time, and is lent only to runs
    that give the same password. 'fleet mux stop' forgets everything at once.
    """


@mux.command("status")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@handle_errors
def status(as_json: bool) -> None:
    """Show the daemon and the agents it keeps."""
    from fleet.mux.client import control

    state = control("status")
    if state is None:
        click.echo("no persistence daemon is running")
        return
    if as_json:
        click.echo(json.dumps(state, indent=2))
        return
    click.echo(f"daemon pid {state['pid']}: {state['connections']} connection(s), "
               f"{len(state['idle'])} idle agent(s), {state['leases']} in use; "
               f"keeps an idle agent at most {state['persist']:g} s")
    for agent in state["idle"]:
        become = ""
        if agent["become"]:
            become = f" (become {agent['become']}{', with a sudo password' if agent['password'] else ''})"
        click.echo(f"  {agent['host']}{become}: agent pid {agent['agent_pid']}, idle {agent['idle_s']} s "
                   f"of {agent['keep_s']:g} s")


@mux.command("stop")
@handle_errors
def stop() -> None:
    """Close every kept connection and agent, and stop the daemon."""
    from fleet.mux.client import control

    state = control("stop")
    click.echo("stopped" if state is not None else "no persistence daemon is running")
