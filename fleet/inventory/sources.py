"""Turn one ``-i`` argument into inventory data: a file, a directory, a script or a host list.

* an existing directory: every entry, sorted, is a source (sub-directories too), skipping
  what Ansible skips: hidden names, ``group_vars``, ``host_vars``, ``vars_plugins`` and
  names ending in one of :data:`IGNORED_SUFFIXES`;
* an executable file starting with ``#!`` (or an ELF binary): a dynamic inventory script;
* ``.yml``/``.yaml``/``.json``: YAML; ``.ini``: INI; anything else is YAML when its first
  meaningful line looks like a YAML key or document start, INI otherwise;
* a string with a comma that is not a path: a host list (``host1,host2,``), hosts in
  ``ungrouped``; fleet also expands ranges there.
"""

from __future__ import annotations

import os

from fleet.errors import InputError, Location
from fleet.inventory.builder import InventoryBuilder
from fleet.inventory.ini import parse_ini
from fleet.inventory.ranges import expand_hosts, split_port
from fleet.inventory.script import parse_script
from fleet.inventory.yamlinv import parse_yaml
from fleet.yamlsrc import read_text

IGNORED_NAMES = frozenset({"group_vars", "host_vars", "vars_plugins"})
# Ansible's INVENTORY_IGNORE_EXTS default (ansible-core 2.19+; older releases also skip .ini).
IGNORED_SUFFIXES = (
    ".pyc", ".pyo", ".swp", ".bak", "~", ".rpm", ".md", ".txt", ".rst",
    ".orig", ".cfg", ".retry",
)  # fmt: skip
YAML_SUFFIXES = (".yml", ".yaml", ".json")


def is_ignored(name: str) -> bool:
    """Whether a directory entry is skipped when the directory is an inventory source."""
    return name.startswith(".") or name in IGNORED_NAMES or name.endswith(IGNORED_SUFFIXES)


def _looks_like_yaml(text: str) -> bool:
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith(("---", "{")):
            return True
        key, sep, rest = line.partition(":")
        rest = rest.split("#", 1)[0].strip()
        return bool(sep) and not rest and "[" not in key and "=" not in key
    return False


def _is_script(path: str) -> bool:
    with open(path, "rb") as fh:
        head = fh.read(4)
    if not (head.startswith(b"#!") or head == b"\x7fELF"):
        return False
    if not os.access(path, os.X_OK):
        kind = "starts with '#!' like an inventory script" if head.startswith(b"#!") else "is a program (ELF)"
        raise InputError(f"this file {kind} but is not executable (chmod +x it to use it as a dynamic "
                         f"inventory)", Location(path, 1))
    return True


def load_file(path: str, builder: InventoryBuilder, script_timeout: float) -> None:
    """Parse one inventory file into ``builder``."""
    inventory_file = os.path.abspath(path)
    if _is_script(path):
        parse_script(path, builder, inventory_file, script_timeout)
        return
    text = read_text(path, "inventory file")
    suffix = os.path.splitext(path)[1].lower()
    if suffix in YAML_SUFFIXES or (suffix != ".ini" and _looks_like_yaml(text)):
        parse_yaml(text, path, builder, inventory_file)
    else:
        parse_ini(text, path, builder, inventory_file)


def load_directory(path: str, builder: InventoryBuilder, script_timeout: float) -> None:
    """Parse every inventory file in ``path`` (sorted, recursively) into ``builder``."""
    for name in sorted(os.listdir(path)):
        if is_ignored(name):
            continue
        full = os.path.join(path, name)
        if os.path.isdir(full):
            load_directory(full, builder, script_timeout)
        else:
            load_file(full, builder, script_timeout)


def load_host_list(text: str, builder: InventoryBuilder) -> None:
    """``host1,host2:2222,web[1:3]``: hosts in ``ungrouped``, optional port, ranges."""
    where = Location("<host list>")
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        name, port = split_port(item, where)
        for host in expand_hosts(name, where):
            builder.add_host(host, "ungrouped", where)
            if port is not None:
                builder.add_host_vars(host, {"ansible_port": port}, f"host list {text!r}")


def load_source(source: str, builder: InventoryBuilder, script_timeout: float) -> str | None:
    """Parse one ``-i`` source; return the directory holding its group_vars/host_vars, if any."""
    if os.path.isdir(source):
        load_directory(source, builder, script_timeout)
        return source
    if os.path.exists(source):
        load_file(source, builder, script_timeout)
        return os.path.dirname(source)
    if "," in source:
        load_host_list(source, builder)
        return None
    raise InputError(
        f"inventory source not found: {source} (for a list of hosts, write {source + ','!r})"
    )
