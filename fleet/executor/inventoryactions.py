"""``group_by`` and ``add_host``: controller actions that change the run's inventory, as
Ansible's action plugins and its strategy's ``add_dynamic_group``/``add_dynamic_host`` do.

The change lasts for the rest of the run: later plays' ``hosts:`` patterns, ``groups``,
``group_names`` and ``hostvars`` see it (this play's tasks too, from the next task on).
``add_host`` runs once per play (Ansible's ``BYPASS_HOST_LOOP``: on the play's first host,
each loop item once).

What a host sent back is never trusted for connection settings: a new host whose name, or a
connection/become/interpreter variable whose value, came from host data (a registered result,
a fact) is refused, naming the task's file:line.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from fleet.errors import InputError
from fleet.executor.hosttrust import restricted_fact
from fleet.templating import contains_unsafe

if TYPE_CHECKING:
    from fleet.executor.actions import ActionContext


GROUP_BY_ARGS = frozenset({"key", "parents"})
_NAME_ARGS = ("name", "hostname", "host")
_SPECIAL = frozenset({"name", "hostname", "groupname", "groups"})  # Ansible's: not host variables
_BRACKETED = re.compile(r"^\[(?P<name>[^\]]+)\](?::(?P<port>\d+))?$")
_HOST_PORT = re.compile(r"^(?P<name>[^:\[\]]+):(?P<port>\d+)$")


def _failed(msg: str, **data: Any) -> dict[str, Any]:
    return {"status": "failed", "changed": False, "msg": msg, "data": data}


def _done(changed: bool, **data: Any) -> dict[str, Any]:
    return {"status": "changed" if changed else "ok", "changed": changed, "msg": "", "data": data}


def group_by(ctx: ActionContext) -> dict[str, Any]:
    """Put the task's host in the group ``key`` names (created under ``parents``, default ``all``)."""
    bad = sorted(str(k) for k in ctx.args if k not in GROUP_BY_ARGS)
    if bad:
        return _failed(f"Invalid options for group_by: {','.join(bad)}")
    if "key" not in ctx.args:
        return _failed("the 'key' param is required when using group_by")
    group = str(ctx.args["key"]).replace(" ", "-")
    parents = ctx.args.get("parents", ["all"])
    parents = [parents] if isinstance(parents, str) else list(parents or [])
    parent_names = [str(name).replace(" ", "-") for name in parents]
    changed = ctx.play.run.inventory.add_dynamic_group(ctx.host, group, parent_names)
    if changed:
        ctx.play.play_vars.inventory_changed()
    return _done(changed, add_group=group, parent_groups=parent_names)


def parse_address(text: str) -> tuple[str, int | None]:
    """``host:port``, ``[ipv6]:port`` or a plain name/address (an IPv6 address keeps its colons)."""
    for pattern in (_BRACKETED, _HOST_PORT):
        match = pattern.match(text)
        if match:
            port = match.group("port")
            return match.group("name"), int(port) if port else None
    return text, None


def _groups(value: Any, ctx: ActionContext) -> list[str]:
    if not value:
        return []
    if isinstance(value, str):
        value = value.split(",")
    elif not isinstance(value, list):
        raise InputError(f"{ctx.where}: Groups must be specified as a list.", ctx.location)
    return list(dict.fromkeys(str(name).strip() for name in value))


def add_host(ctx: ActionContext) -> dict[str, Any]:
    """Add a host (``name``, ``host:port``) to the inventory, in ``groups``, with the task's
    other arguments as its variables."""
    args = dict(ctx.args)
    raw = args.pop("_raw_params", None)
    if isinstance(raw, dict):
        args = {**raw, **args}
    given = next((args[key] for key in _NAME_ARGS if args.get(key) is not None), None)
    if given is None:
        return _failed("name, host or hostname needs to be provided")
    inventory = ctx.play.run.inventory
    name, port = parse_address(str(given))
    if contains_unsafe(given) and inventory.get_host(name) is None:
        raise InputError(f"{ctx.where}: the new host's name {name[:80]!r} comes from data a host "
                         f"sent (a registered result or a fact); fleet never connects to an address a host "
                         f"chose (name an inventory host, or write the address in the playbook or inventory)",
                         ctx.location)
    values = {key: value for key, value in args.items() if key not in _SPECIAL}
    if port is not None:
        values["ansible_ssh_port"] = port
    for key, value in values.items():
        if restricted_fact(str(key)) and contains_unsafe(value):
            raise InputError(f"{ctx.where}: {key} comes from data a host sent (a registered result "
                             f"or a fact); fleet never takes connection settings from a host", ctx.location)
    groups = _groups(args.get("groupname", args.get("groups", args.get("group", ""))), ctx)
    changed = inventory.add_dynamic_host(name, groups, values, f"add_host {ctx.location}")
    if changed:
        ctx.play.play_vars.inventory_changed()
    return _done(changed, add_host={"host_name": name, "groups": groups, "host_vars": values})
