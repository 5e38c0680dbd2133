"""Commands that describe things: ``inventory``, ``vars``, ``facts``, ``modules``."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import click

from fleet import api
from fleet.bridge import INSTALL, Bridge
from fleet.cli.common import (
    build_options,
    command_vault,
    dump,
    fail,
    handle_errors,
    inventory_required,
    parse_extra_vars,
    run_options,
)
from fleet.cli.vaultopts import vault_options
from fleet.errors import InputError
from fleet.registry import ModuleRegistry
from fleet.report import write_json
from fleet.secrets import Secrets

SHOW_SECRETS = click.option("--show-secrets", is_flag=True, help="Show vault values instead of ********.")


def _echo(data: Any, as_yaml: bool, secrets: Secrets, show: bool) -> None:
    """Print ``data`` as JSON or YAML. Unless ``show``, secrets are redacted in the values
    before they are serialised (YAML folds a multi-line value onto indented lines, JSON escapes
    it: neither holds the value as it was) and in the text after."""
    if show:
        click.echo(dump(data, as_yaml))
    else:
        click.echo(secrets.redact(dump(secrets.redact_obj(data), as_yaml)))


@click.command("inventory")
@click.option("-i", "--inventory", "inventory", multiple=True, metavar="PATH", help="Inventory source (repeatable).")
@click.option("--list", "as_list", is_flag=True, help="All groups and hosts as JSON (like ansible-inventory --list).")
@click.option("--graph", "graph", is_flag=True, help="The group tree.")
@click.option("--host", "host", metavar="HOST", help="One host's inventory variables.")
@click.option("-y", "--yaml", "as_yaml", is_flag=True, help="YAML instead of JSON.")
@click.option("-l", "--limit", metavar="PATTERN", help="Only hosts matching PATTERN (with --list).")
@SHOW_SECRETS
@vault_options
@handle_errors
def inventory(inventory: tuple[str, ...], as_list: bool, graph: bool, host: str | None, as_yaml: bool,
              limit: str | None, show_secrets: bool, **params: Any) -> None:
    """Show the inventory as fleet reads it (inline vault values stay encrypted)."""
    secrets = command_vault(params)
    inv = api.load_inventory(inventory_required(inventory), secrets)
    if host:
        if inv.get_host(host) is None:
            fail(f"host {host!r} is not in the inventory")
        _echo(inv.host_vars_merged(host), as_yaml, secrets, show_secrets)
    elif graph:
        click.echo(inv.graph())
    else:
        data = inv.to_ansible_json()
        if limit:
            keep = {h.name for h in inv.select(limit)}
            data["_meta"]["hostvars"] = {k: v for k, v in data["_meta"]["hostvars"].items() if k in keep}
        _echo(data, as_yaml, secrets, show_secrets)


@click.command("vars")
@click.argument("host")
@click.option("-i", "--inventory", "inventory", multiple=True, metavar="PATH", help="Inventory source (repeatable).")
@click.option("-p", "--playbook", metavar="PLAYBOOK", help="Include the play vars and role defaults of PLAYBOOK.")
@click.option("-e", "--extra-vars", "extra_vars", multiple=True, metavar="VARS", help="Extra vars (k=v, JSON, @file).")
@click.option("--explain", metavar="NAME", help="Show every layer that defines NAME and which one wins.")
@click.option("-y", "--yaml", "as_yaml", is_flag=True, help="YAML instead of JSON.")
@SHOW_SECRETS
@vault_options
@handle_errors
def vars_command(host: str, inventory: tuple[str, ...], playbook: str | None, extra_vars: tuple[str, ...],
                 explain: str | None, as_yaml: bool, show_secrets: bool, **params: Any) -> None:
    """Show HOST's variables, rendered, in fleet's precedence order (vault values as ********
    unless --show-secrets)."""
    secrets = command_vault(params)
    sources = inventory_required(inventory)
    extra = parse_extra_vars(extra_vars, secrets)
    inv = api.load_inventory(sources, secrets)
    prepared = api.prepare(playbook, inv, api.RunOptions(extra_vars=extra, secrets=secrets)) if playbook else None
    variables = api.host_vars(inv, host, prepared, extra)
    if explain is None:
        rendered = variables.as_dict(render=True)
        rendered.pop("hostvars", None)
        rendered.pop("groups", None)
        _echo(rendered, as_yaml, secrets, show_secrets)
        return
    rows = variables.explain(explain)
    if not rows:
        fail(f"{explain!r} is not defined for {host}")
    try:
        final = variables[explain]
    except InputError as exc:
        final = f"<error: {exc}>"

    def shown(value: Any) -> str:
        return json.dumps(value if show_secrets else secrets.redact_obj(value), default=str)

    lines = [f"{explain} for {host} (lowest precedence first):"]
    for row in rows:
        mark = "=> " if row.won else "   "
        lines.append(f"{mark}{row.kind:<22} {row.source:<50} {shown(row.value)}")
    lines.append(f"value: {shown(final)}")
    text = "\n".join(lines)
    click.echo(text if show_secrets else secrets.redact(text))


@click.command("facts")
@click.argument("pattern", default="all")
@run_options
@handle_errors
def facts(pattern: str, **params: Any) -> None:
    """Gather and print the facts of the hosts PATTERN selects (JSON, per host)."""
    options = build_options(params)
    options.lock = False  # reading facts changes nothing: it never waits for another run
    prepared = api.prepare_module(pattern, "setup", {}, inventory_required(params["inventory"]), options)
    report = asyncio.run(api.apply_async(prepared))
    data: dict[str, Any] = {}
    for name, host in report.hosts.items():
        for result in host.results:
            data[name] = result.data.get("ansible_facts") if result.status == "ok" else {
                "status": result.status, "msg": result.msg}
    if params.get("json_path"):
        write_json(data, params["json_path"])
    else:
        click.echo(dump(data))
    sys.exit(report.exit_code())


@click.command("modules")
@click.argument("name", required=False)
@click.option("-M", "--module-path", "module_dirs", multiple=True, metavar="DIR", help="Extra module folder.")
@click.option("--json", "as_json", is_flag=True, help="One module's parameters as a JSON schema.")
@handle_errors
def modules(name: str | None, module_dirs: tuple[str, ...], as_json: bool) -> None:
    """List modules and the controller's actions, or show one's documentation and parameters."""
    from fleet.cli.actiondoc import ACTIONS
    from fleet.cli.moddoc import describe, schema, summary
    from fleet.playbook import closest
    from fleet.registry import MODULE_ALIASES, short_name

    registry = ModuleRegistry([Path(d) for d in module_dirs] + [Path("modules")])
    if name is None and as_json:
        fail("--json shows one module: fleet modules NAME --json")
    bridge = _bridge(module_dirs, registry)
    if name is None:
        for module in registry.names():
            if module in ACTIONS:  # script, fetch: an agent module serves the controller action
                continue
            spec = registry.find(module)
            click.echo(f"{module:<14} {summary(spec) if spec else ''}")
        click.echo("\nController actions (they run on the controller):")
        for action in sorted(ACTIONS.values(), key=lambda a: a.name):
            click.echo(f"{action.name:<14} {action.summary}")
        click.echo("\n" + _ansible_line(bridge))
        return
    if short_name(name) in ACTIONS:
        click.echo(ACTIONS[short_name(name)].describe())
        return
    spec = registry.find(name)
    if spec is not None:
        click.echo(json.dumps(schema(spec), indent=2) if as_json else describe(spec))
        return
    if not bridge.available:
        close = closest(name, [*registry.names(), *MODULE_ALIASES, *ACTIONS])
        if close:
            fail(f"unknown module {name!r} (did you mean {close!r}?)")
        raise bridge.unknown(name)
    found = bridge.resolve(name) if bridge.exists(name) else None
    if found is None or not found.path:
        raise bridge.unknown(name)
    click.echo(bridge.describe(found, as_json))


def _bridge(module_dirs: tuple[str, ...], registry: ModuleRegistry) -> Bridge:
    """Ansible's modules as a run from here would find them: ``-M``, ``library/``,
    ``collections/`` and ansible.cfg's ``collections_path``."""
    from fleet.config import load_config

    return Bridge(module_dirs=[Path(d) for d in module_dirs] + [Path("library")],
                  collection_paths=[Path("collections"), *(Path(d) for d in load_config().get("collections_path"))],
                  module_utils_dirs=[Path("module_utils")], native=registry.names)


def _ansible_line(bridge: Bridge) -> str:
    """The list's last line: how many modules Ansible's code provides, or how to get them."""
    if not bridge.available:
        return (f"Ansible's modules: not available (ansible-core is not installed); install it with {INSTALL} "
                f"and every module of ansible.builtin and the installed collections runs through fleet's agent")
    modules, collections = bridge.module_count()
    return (f"Ansible's modules: {modules} (ansible.builtin and {collections} installed collections) run "
            f"through Ansible's own code (ansible-core {bridge.version}); fleet modules NAME shows one")
