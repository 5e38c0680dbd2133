"""Executable (dynamic) inventories: run ``SCRIPT --list`` and read its JSON.

As Ansible's ``script`` plugin: top-level keys are groups whose value is a mapping with
``hosts`` (a list), ``vars`` and ``children``, or a plain list of hosts; ``_meta.hostvars``
gives every host's variables. Without ``_meta.hostvars`` the script is asked
``SCRIPT --host NAME`` once per host.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Mapping
from typing import Any

from fleet.errors import InputError, Location
from fleet.inventory.builder import InventoryBuilder


def _run(path: str, args: list[str], timeout: float) -> str:
    command = f"{path} {' '.join(args)}"
    try:
        proc = subprocess.run(
            [os.path.abspath(path), *args],
            capture_output=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise InputError(
            f"inventory script timed out after {timeout:g}s: {command}", Location(path)
        ) from None
    except (OSError, ValueError) as exc:  # ValueError: a NUL byte in an argument (a host name)
        raise InputError(f"cannot run inventory script {command!r}: {exc}", Location(path)) from None
    stderr = proc.stderr.decode("utf-8", errors="replace").strip()
    if proc.returncode != 0:
        detail = f": {stderr}" if stderr else ""
        raise InputError(
            f"inventory script failed with exit code {proc.returncode}: {command}{detail}",
            Location(path),
        )
    try:
        return proc.stdout.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"inventory script {command} printed non-UTF-8 output: {exc}",
                         Location(path)) from None


def _load_json(path: str, args: list[str], text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"inventory script {path} {' '.join(args)} printed invalid JSON "
            f"(line {exc.lineno}, column {exc.colno}): {exc.msg}",
            Location(path),
        ) from None
    except RecursionError:
        raise InputError(
            f"inventory script {path} {' '.join(args)} printed JSON nested too deeply to read",
            Location(path),
        ) from None


class _ScriptParser:
    def __init__(self, path: str, builder: InventoryBuilder, inventory_file: str) -> None:
        self.path = path
        self.builder = builder
        self.inventory_file = inventory_file
        self.where = Location(path)
        self.seen: dict[str, None] = {}

    def fail(self, message: str) -> InputError:
        return InputError(f"inventory script {self.path} --list: {message}", self.where)

    def group(self, name: str, data: Any) -> None:
        builder = self.builder
        builder.add_group(name, self.where)
        if not isinstance(data, Mapping):
            data = {"hosts": data}
        elif not any(key in data for key in ("hosts", "vars", "children")):
            data = {"hosts": [name], "vars": data}
        hosts = data.get("hosts", [])
        if not isinstance(hosts, list) or not all(isinstance(h, str) for h in hosts):
            raise self.fail(f"'hosts' of group {name!r} must be a list of host names")
        for host in hosts:
            builder.add_host(host, name, self.where, self.inventory_file)
            self.seen[host] = None
        values = data.get("vars", {})
        if not isinstance(values, Mapping):
            raise self.fail(f"'vars' of group {name!r} must be a mapping")
        builder.add_group_vars(name, values, f"{self.path} --list", self.where)
        children = data.get("children", [])
        if not isinstance(children, (list, Mapping)):
            raise self.fail(f"'children' of group {name!r} must be a list of group names")
        for child in children:
            if not isinstance(child, str):
                raise self.fail(f"child group names of {name!r} must be strings, got {child!r}")
            builder.add_group(child, self.where)
            builder.add_child(name, child, self.where)

    def parse(self, data: Any, timeout: float) -> None:
        if not isinstance(data, Mapping):
            raise self.fail(f"output must be a JSON object, got {type(data).__name__}")
        meta = data.get("_meta")
        hostvars = meta.get("hostvars") if isinstance(meta, Mapping) else None
        if hostvars is not None and not isinstance(hostvars, Mapping):
            raise self.fail("'_meta.hostvars' must be a mapping of host names to variables")
        for name, group_data in data.items():
            if name != "_meta":
                self.group(name, group_data)
        for host in self.seen:
            if hostvars is not None:
                values, source = hostvars.get(host, {}), f"{self.path} --list"
            else:
                values, source = self.host_vars(host, timeout), f"{self.path} --host {host}"
            if not isinstance(values, Mapping):
                raise self.fail(f"variables of host {host!r} must be a mapping")
            self.builder.add_host_vars(host, dict(values), source)

    def host_vars(self, host: str, timeout: float) -> Any:
        args = ["--host", host]
        text = _run(self.path, args, timeout)
        return _load_json(self.path, args, text) if text.strip() else {}


def parse_script(path: str, builder: InventoryBuilder, inventory_file: str, timeout: float) -> None:
    """Run the inventory script at ``path`` and add what it reports to ``builder``."""
    text = _run(path, ["--list"], timeout)
    _ScriptParser(path, builder, inventory_file).parse(_load_json(path, ["--list"], text), timeout)
