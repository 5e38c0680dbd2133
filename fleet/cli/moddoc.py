"""Module documentation generated from each module's docstring and its Params schema."""

from __future__ import annotations

from typing import Any

from fleet.registry import ModuleSpec


def summary(spec: ModuleSpec) -> str:
    return spec.doc.splitlines()[0] if spec.doc else ""


def describe(spec: ModuleSpec) -> str:
    """Docstring, then one line per parameter: name, type, default, choices, aliases."""
    schema = spec.adapter.json_schema()
    properties: dict[str, Any] = schema.get("properties", {})
    required = set(schema.get("required", []))
    aliases: dict[str, list[str]] = {}
    for alias, target in spec.aliases.items():
        aliases.setdefault(target, []).append(alias)
    lines = [f"{spec.name} — {spec.path}", "", spec.doc or "(no description)", "", "Parameters:"]
    for name, prop in properties.items():
        kind = _type_of(prop)
        bits = [f"  {name}", f"({kind})"]
        if name in required:
            bits.append("required")
        elif "default" in prop:
            bits.append(f"default={prop['default']!r}")
        if name in aliases:
            bits.append("aliases: " + ", ".join(sorted(aliases[name])))
        lines.append(" ".join(bits))
    return "\n".join(lines)


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
