"""``fleet mux status|stop``: the persistence daemon that keeps agents between runs."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time

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
    """Show the daemon and the agents it keeps (one line saying why when it cannot be asked)."""
    from fleet.connection.mux import control, exchange, other_daemons

    state = control("status")
    if state is None:
        click.echo("no persistence daemon is running")
    elif as_json:
        click.echo(json.dumps(state, indent=2))
        return
    else:
        click.echo(f"daemon pid {state['pid']}: {state['connections']} connection(s), "
                   f"{len(state['idle'])} idle agent(s), {state['leases']} in use; "
                   f"keeps an idle agent at most {state['persist']:g} s")
        for agent in state["idle"]:
            become = ""
            if agent["become"]:
                become = f" (become {agent['become']}{', with a sudo password' if agent['password'] else ''})"
            click.echo(f"  {agent['host']}{become}: agent pid {agent['agent_pid']}, idle {agent['idle_s']} s "
                       f"of {agent['keep_s']:g} s")
    for path in other_daemons():
        with contextlib.suppress(Exception):
            found = exchange(path, "status")
            if found is not None:
                click.echo(f"also running: another persistence daemon on {path} (pid {found[0].pid}), of another "
                           f"fleet version or daemon directory; 'fleet mux stop' stops it")


@mux.command("stop")
@handle_errors
def stop() -> None:
    """Close every kept connection and agent, and stop the daemon (and those that other fleet
    versions, or fleet before it used $XDG_RUNTIME_DIR, left running for this user)."""
    from fleet.connection.mux import Unavailable, control, exchange, other_daemons

    try:
        state = control("stop")
    except Unavailable as exc:
        if exc.pid is None:
            raise
        _terminate(exc.pid)  # this user's daemon, stopped: it ends as soon as it runs again
        state = {}
        click.echo(f"the persistence daemon (pid {exc.pid}) did not answer: sent it SIGTERM")
    click.echo("stopped" if state is not None else "no persistence daemon is running")
    for path in other_daemons():
        with contextlib.suppress(Exception):
            found = exchange(path, "stop")
            if found is not None:
                click.echo(f"stopped another persistence daemon on {path} (pid {found[0].pid})")


def _terminate(pid: int, wait: float = 10.0) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
        os.kill(pid, signal.SIGCONT)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
