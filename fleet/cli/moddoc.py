"""Module documentation generated from each module's docstring and its Params schema.

Every parameter's one-line description is the ``doc`` its field carries
(:func:`fleet.agent.contract.param`); it is shown by ``fleet modules NAME`` and is the
``description`` of the property in ``fleet modules NAME --json``.
"""

from __future__ import annotations

import dataclasses
import textwrap
from typing import Any

from fleet.agent.contract import param_doc
from fleet.registry import ModuleSpec


def summary(spec: ModuleSpec) -> str:
    return spec.doc.splitlines()[0] if spec.doc else ""


def schema(spec: ModuleSpec) -> dict[str, Any]:
    """The JSON schema of the module's parameters, each property with its ``description``,
    and its ``aliases``; the module's name, file and docstring beside it."""
    params = spec.adapter.json_schema()
    docs = {f.name: param_doc(f) for f in dataclasses.fields(spec.namespace.Params)}
    aliases = _aliases(spec)
    for name, prop in params.get("properties", {}).items():
        if docs.get(name):
            prop["description"] = docs[name]
        if name in aliases:
            prop["aliases"] = aliases[name]
    return {"name": spec.name, "path": str(spec.path), "doc": spec.doc or "", "parameters": params}


def describe(spec: ModuleSpec) -> str:
    """Docstring, then per parameter: name, type, default, choices, aliases, and its
    description on the next line."""
    params = schema(spec)["parameters"]
    properties: dict[str, Any] = params.get("properties", {})
    required = set(params.get("required", []))
    lines = [f"{spec.name} — {spec.path}", "", spec.doc or "(no description)", "", "Parameters:"]
    for name, prop in properties.items():
        bits = [f"  {name}", f"({_type_of(prop)})"]
        if name in required:
            bits.append("required")
        elif "default" in prop:
            bits.append(f"default={prop['default']!r}")
        if "aliases" in prop:
            bits.append("aliases: " + ", ".join(prop["aliases"]))
        lines.append(" ".join(bits))
        if prop.get("description"):
            lines += textwrap.wrap(prop["description"], 96, initial_indent="      ",
                                   subsequent_indent="      ")
    return "\n".join(lines)


def _aliases(spec: ModuleSpec) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for alias, target in sorted(spec.aliases.items()):
        found.setdefault(target, []).append(alias)
    return found


def _type_of(prop: dict[str, Any]) -> str:
    if "enum" in prop:
        return "one of " + ", ".join(repr(v) for v in prop["enum"])
    if "const" in prop:
        return repr(prop["const"])
    if "anyOf" in prop:
        return " | ".join(_type_of(p) for p in prop["anyOf"])
    if prop.get("type") == "array":
        return f"list[{_type_of(prop.get('items', {}))}]"
    return str(prop.get("type", "any"))
