"""Ansible's other names for a fleet module resolve to it; a module file of that name wins."""

from __future__ import annotations

from pathlib import Path

from fleet.registry import ModuleRegistry

MODULE = "from dataclasses import dataclass\n\n@dataclass\nclass Params:\n    name: str\n\ndef observe(p, host):\n    return {}\n"


def _registry(tmp_path: Path, *names: str) -> ModuleRegistry:
    for name in names:
        (tmp_path / f"{name}.py").write_text(MODULE)
    return ModuleRegistry([tmp_path], use_entry_points=False)


def test_alias_resolves_to_the_fleet_module(tmp_path: Path) -> None:
    registry = _registry(tmp_path, "kernel_module")
    for name in ("modprobe", "community.general.modprobe", "kernel_module"):
        spec = registry.find(name)
        assert spec is not None and spec.name == "kernel_module", name


def test_a_module_file_named_like_the_alias_wins(tmp_path: Path) -> None:
    registry = _registry(tmp_path, "kernel_module", "modprobe")
    spec = registry.find("modprobe")
    assert spec is not None and spec.name == "modprobe"


def test_collection_prefixes_are_stripped(tmp_path: Path) -> None:
    registry = _registry(tmp_path, "sysctl")
    spec = registry.find("ansible.posix.sysctl")
    assert spec is not None and spec.name == "sysctl"
