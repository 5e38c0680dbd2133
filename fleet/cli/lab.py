"""``fleet lab up|status|down``: the container lab."""

from __future__ import annotations

import signal
from pathlib import Path

import click

from fleet.cli.common import handle_errors
from fleet.lab.lab import MAX_HOSTS
from fleet.lab.releases import DEFAULT_RELEASE, RELEASES
from fleet.report import plural

# Not click.Choice: an unknown release gets fleet's own one-line error listing the known ones.
RELEASE_HELP = f"Debian release of the hosts: {', '.join(RELEASES)}."


def _lab(name: str, hosts: int = 0, directory: str | None = None, caps: tuple[str, ...] = (),  # noqa: ANN202
         release: str = DEFAULT_RELEASE):
    from fleet.lab.lab import Lab, LabSpec
    from fleet.lab.releases import release as known

    known(release)  # before asking for docker: a typo is the first thing to hear about
    spec = LabSpec(name=name, hosts=hosts, directory=Path(directory) if directory else None, cap_add=list(caps),
                   release=release)
    return Lab(spec, say=lambda line: click.echo(line, err=True))


@click.group("lab")
def lab() -> None:
    """Real Debian hosts in docker (systemd, sshd) to converge and test against."""


@lab.command("setup")
@click.option("--release", "releases", multiple=True, metavar="RELEASE",
              help=f"{RELEASE_HELP} Repeat for several (default {DEFAULT_RELEASE}).")
@handle_errors
def setup(releases: tuple[str, ...]) -> None:
    """Make the lab possible here: Docker engine running (installed with apt as root on
    Debian if missing), debootstrap present, one base image per release built (a few minutes
    each, once: rebuilt only when its recipe changes)."""
    from fleet.lab.engine import ensure_engine
    from fleet.lab.image import ensure_image, image_exists, image_tag
    from fleet.lab.lab import docker_client
    from fleet.lab.releases import release

    def say(line: str) -> None:
        click.echo(line, err=True)

    wanted = list(dict.fromkeys(releases or (DEFAULT_RELEASE,)))
    for name in wanted:
        release(name)  # all names checked before the first build
    ensure_engine(say)
    client = docker_client()
    for name in wanted:
        present = image_exists(client, image_tag(name))
        tag = ensure_image(client, name, say)
        if present:
            say(f"image {tag} is present")


@lab.command("up")
@click.option("-n", "--hosts", "count", type=click.IntRange(1, MAX_HOSTS), default=3, show_default=True,
              metavar="N", help="How many hosts to start (root's fs.inotify.max_user_instances is raised if "
                                "they need it).")
@click.option("--name", default="lab", show_default=True, help="Lab name (several labs can coexist).")
@click.option("--inventory-out", type=click.Path(dir_okay=False), help="Where to write the inventory.")
@click.option("--dir", "directory", type=click.Path(file_okay=False),
              help="Where the lab keeps its key and known_hosts (default ~/.fleet/NAME).")
@click.option("--user", default="root", show_default=True, help="Login user in the inventory (root or fleet).")
@click.option("--cap-add", "caps", multiple=True, help="Extra container capability (e.g. NET_ADMIN).")
@click.option("--release", default=DEFAULT_RELEASE, show_default=True, metavar="RELEASE",
              help=f"{RELEASE_HELP} Its image is built first if need be.")
@handle_errors
def up(count: int, name: str, inventory_out: str | None, directory: str | None, user: str,
       caps: tuple[str, ...], release: str) -> None:
    """Start N lab hosts (-n) and print the path of their inventory.

    All or nothing: if a host does not come up, or the command is interrupted (Ctrl-C, kill),
    the hosts it started are removed again and no inventory is written."""
    lab_ = _lab(name, count, directory, caps, release)
    previous = signal.signal(signal.SIGTERM, _interrupted)  # kill cleans up as Ctrl-C does
    try:
        path = lab_.up(Path(inventory_out) if inventory_out else None, user=user)
    finally:
        signal.signal(signal.SIGTERM, previous)
    click.echo(str(path))


def _interrupted(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


@lab.command("status")
@click.option("--name", default="lab", show_default=True)
@handle_errors
def status(name: str) -> None:
    """List the lab's hosts: name, container, IP, state, Debian release."""
    hosts = _lab(name).hosts()
    if not hosts:
        click.echo(f"lab '{name}' has no hosts")
        return
    for host in hosts:
        click.echo(f"{host.name:<12} {host.container:<20} {host.ip:<16} {host.status:<8} {host.release}")


@lab.command("down")
@click.option("--name", default="lab", show_default=True)
@handle_errors
def down(name: str) -> None:
    """Remove the lab's containers and network (the image and your files stay)."""
    removed = _lab(name).down()
    click.echo(f"removed {plural(removed, 'lab host')}")
