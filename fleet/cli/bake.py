"""``fleet bake``: apply a playbook or roles to an image (→ a new image) or a directory tree."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from fleet.cli.common import command_vault, handle_errors, parse_extra_vars
from fleet.cli.vaultopts import vault_options


@click.command("bake")
@click.argument("playbook", required=False, type=click.Path(dir_okay=False))
@click.option("--role", "roles", multiple=True, metavar="NAME",
              help="Apply this role instead of a PLAYBOOK (repeatable; in order).")
@click.option("--from", "base", metavar="IMAGE", help="Base image (local; never pulled).")
@click.option("--tag", metavar="NAME[:TAG]", help="The image to create.")
@click.option("--rootfs", type=click.Path(file_okay=False, path_type=Path),
              help="Bake this directory tree in place (chroot) instead of an image.")
@click.option("--tar", type=click.Path(dir_okay=False, path_type=Path),
              help="With --rootfs: pack the tree into this tar (.tar.gz/.tar.xz/.tar.zst compress).")
@click.option("--name", default="bake", show_default=True, help="Inventory name (and hostname) of the bake host.")
@click.option("-e", "--extra-vars", "extra_vars", multiple=True, metavar="VARS",
              help="k=v pairs, JSON/YAML, or @file (repeatable; highest precedence).")
@click.option("--roles-path", "role_dirs", multiple=True, metavar="DIR", help="Also look for roles here.")
@click.option("--verify", is_flag=True, help="Run the applied roles' testinfra tests before committing.")
@click.option("--keep-on-failure", is_flag=True, help="Keep the bake container when the apply or verify fails.")
@click.option("--keep-host-keys", is_flag=True,
              help="Keep SSH host keys made during the bake (default: removed, each instance makes its own).")
@click.option("--bootstrap-python", is_flag=True,
              help="Install python3 with the target's package manager (apt/dnf/yum/apk) if it has none.")
@click.option("--purge-python", is_flag=True, help="Remove the python3 --bootstrap-python installed, at the end.")
@click.option("--systemd/--keepalive", "boot", default=None,
              help="Boot systemd in the bake container, or run a keep-alive shell "
                   "(default: systemd when the image's command is an init).")
@click.option("--network", metavar="NAME", help="Docker network of the bake container (default: bridge).")
@click.option("-D", "--diff", is_flag=True, help="Show diffs of what changes.")
@click.option("--json", "json_path", metavar="PATH", help="Write the apply's run report as JSON.")
@click.option("-v", "--verbose", count=True, help="More output.")
@vault_options
@handle_errors
def bake(playbook: str | None, roles: tuple[str, ...], boot: bool | None, extra_vars: tuple[str, ...],
         role_dirs: tuple[str, ...], verbose: int, **params: Any) -> None:
    """Apply PLAYBOOK (or --role NAME ...) to a container from --from and commit it as --tag;
    or, with --rootfs DIR, to a directory tree through chroot.

    The run output goes to stderr; stdout gets the new image's ID (or the tree's path), so
    IMAGE=$(fleet bake ...) works. Exit 0 on success, 1 when anything failed: a failed bake
    leaves no image and no container behind (unless --keep-on-failure).
    """
    from fleet.bake.spec import BakeSpec

    secrets = command_vault(params)
    for name in ("vault_password_file", "vault_id", "ask_vault_pass"):
        params.pop(name, None)
    spec = BakeSpec(
        playbook=Path(playbook) if playbook else None, roles=list(roles),
        extra_vars=parse_extra_vars(extra_vars, secrets), role_dirs=list(role_dirs),
        boot="auto" if boot is None else "systemd" if boot else "keepalive", verbosity=verbose,
        secrets=secrets, **params)

    def say(line: str) -> None:
        click.echo(line, err=True)

    if spec.rootfs is not None:
        from fleet.bake.rootfs import bake_rootfs

        done = bake_rootfs(spec, say)
        click.echo(str(done.tar or done.root))
        return
    from fleet.bake.image import bake_image

    click.echo(bake_image(spec, say=say).image_id)
