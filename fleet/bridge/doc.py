"""What ``fleet modules NAME`` shows for a module fleet lacks: its ``DOCUMENTATION``, read by
ansible-core's own docs reader (doc fragments merged, as ``ansible-doc`` shows it), and how
many modules Ansible's code provides to ``fleet modules``.
"""

from __future__ import annotations

import contextlib
import io
import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fleet.bridge.core import AnsibleCore
from fleet.bridge.resolve import Resolution

# Ansible's option types as JSON schema types (path, raw, … have no closer JSON type)
JSON_TYPES = {"str": "string", "path": "string", "int": "integer", "float": "number", "bool": "boolean",
              "list": "array", "dict": "object", "bytes": "string", "bits": "string", "jsonarg": "string",
              "json": "string"}


def documentation(core: AnsibleCore, found: Resolution) -> dict[str, Any]:
    """The module's ``DOCUMENTATION`` as ``ansible-doc -j`` holds it (fragments merged)."""
    docs = core.module("ansible.utils.plugin_docs")
    loader = core.module("ansible.plugins.loader")
    collection = found.fqcn.rsplit(".", 1)[0] if found.fqcn.count(".") >= 2 else None
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        doc = docs.get_docstring(found.path, loader.fragment_loader, verbose=False, ignore_errors=True,
                                 collection_name=collection)[0]
    return dict(doc or {})


def check_mode(doc: Mapping[str, Any]) -> str:
    """The module's documented check-mode support (``full``, ``partial``, ``none``) or ``unknown``."""
    support = ((doc.get("attributes") or {}).get("check_mode") or {}).get("support")
    return str(support) if support else "unknown"


def _line(text: Any) -> str:
    """A documentation description (a string or a list of sentences) as its first sentence line."""
    if isinstance(text, list | tuple):
        text = text[0] if text else ""
    return " ".join(str(text or "").split())


def schema(found: Resolution, doc: Mapping[str, Any]) -> dict[str, Any]:
    """A JSON schema of the module's documented options, shaped like a native module's
    (``fleet modules NAME --json``), with its source, FQCN and check-mode support beside it."""
    properties: dict[str, Any] = {}
    required: list[str] = []
    for name, option in sorted((doc.get("options") or {}).items()):
        option = option or {}
        prop: dict[str, Any] = {}
        kind = str(option.get("type", "str"))
        if kind in JSON_TYPES:
            prop["type"] = JSON_TYPES[kind]
        prop["ansible_type"] = kind
        if kind == "list" and option.get("elements") in JSON_TYPES:
            prop["items"] = {"type": JSON_TYPES[option["elements"]]}
        if option.get("choices") is not None:
            choices = option["choices"]
            prop["enum"] = list(choices) if not isinstance(choices, Mapping) else list(choices)
        if option.get("default") is not None:
            prop["default"] = option["default"]
        if option.get("aliases"):
            prop["aliases"] = list(option["aliases"])
        prop["description"] = _line(option.get("description"))
        if option.get("required"):
            required.append(name)
        properties[name] = prop
    parameters: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        parameters["required"] = required
    shown = {"name": found.fqcn, "path": found.path, "source": "ansible", "check_mode": check_mode(doc),
             "doc": _line(doc.get("short_description")), "parameters": parameters}
    if not found.runnable:
        shown["refused"] = found.refused
    return shown


def describe(found: Resolution, doc: Mapping[str, Any]) -> str:
    """The text of ``fleet modules NAME``: FQCN, source, check mode, short description, then per
    option: name, type, required or default, choices, aliases and its description line."""
    info = schema(found, doc)
    lines = [f"{found.fqcn} — {found.path}",
             "runs Ansible's own module code through fleet's agent (not a fleet module)" if found.runnable
             else f"fleet does not run it: {found.refused}",
             f"check mode: {info['check_mode']}", "", info["doc"] or "(no description)", "", "Parameters:"]
    required = set(info["parameters"].get("required", []))
    for name, prop in info["parameters"]["properties"].items():
        bits = [f"  {name}", f"({prop['ansible_type']})"]
        if name in required:
            bits.append("required")
        elif "default" in prop:
            bits.append(f"default={prop['default']!r}")
        if "enum" in prop:
            bits.append("choices: " + ", ".join(str(c) for c in prop["enum"]))
        if "aliases" in prop:
            bits.append("aliases: " + ", ".join(prop["aliases"]))
        lines.append(" ".join(bits))
        if prop["description"]:
            lines += textwrap.wrap(prop["description"], 96, initial_indent="      ", subsequent_indent="      ")
    return "\n".join(lines)


def count_modules(core: AnsibleCore) -> tuple[int, int]:
    """(modules, collections) Ansible's code provides here: ansible.builtin's and those of every
    installed collection the resolver searches (the first copy of a collection counts; the
    resolver has set the collection paths)."""
    builtin = Path(core.module("ansible.modules").__file__ or "").parent
    total = sum(1 for p in builtin.glob("*.py") if not p.stem.startswith("_"))
    # Listed from the finder's search paths, not ansible.collections.list: that asks
    # importlib.resources for the ansible_collections package, which fails (MultiplexedPath)
    # once the package was imported from several paths in one process.
    config = core.module("ansible.utils.collection_loader").AnsibleCollectionConfig
    seen: set[str] = set()
    folders = [
        folder
        for root in config.collection_paths or ()
        for folder in sorted(Path(root, "ansible_collections").glob("*/*/"))
        if folder.is_dir()
    ]
    for path in folders:
        name = f"{path.parent.name}.{path.name}"
        if name in seen:
            continue
        seen.add(name)
        modules = path / "plugins" / "modules"
        if modules.is_dir():
            total += sum(1 for p in modules.rglob("*") if p.suffix in (".py", ".ps1") and p.stem != "__init__")
    return total, len(seen)
