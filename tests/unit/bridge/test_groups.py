"""Action groups for module_defaults' ``group/NAME``: read from the installed collections'
meta/runtime.yml as Ansible reads them (short members in the group's collection, redirects
resolved, ``extend_group`` followed, an unknown group an error)."""

from __future__ import annotations

import pytest

from fleet.bridge import Bridge
from fleet.bridge.groups import group_actions
from fleet.errors import InputError, Location


def test_a_collections_group(collections_installed: bool) -> None:
    members = Bridge(cache=False).action_group("community.general.consul")
    assert "community.general.consul_agent_check" in members


def test_unknown_groups_and_collections(collections_installed: bool) -> None:
    bridge = Bridge(cache=False)
    with pytest.raises(InputError, match="could not resolve the module_defaults group community.general.nothing"):
        bridge.action_group("community.general.nothing", Location("site.yml", 3))
    with pytest.raises(InputError, match="could not resolve the module_defaults group no.such.group"):
        bridge.action_group("no.such.group")


def test_extend_group_and_cycles() -> None:
    meta = {
        "a.b": {"action_groups": {"one": ["m1", "x.y.m2", {"metadata": {"extend_group": ["two", "c.d.gone"]}}],
                                  "two": ["m3", {"metadata": {"extend_group": "one"}}]}},
    }

    def metadata(collection: str) -> dict:
        if collection not in meta:
            raise ValueError(collection)
        return meta[collection]

    def resolve(name: str) -> str:
        return {"a.b.m1": "a.b.moved"}.get(name, name)

    found = group_actions("a.b.one", metadata, resolve, None, {})
    assert found == {"a.b.m1", "a.b.moved", "x.y.m2", "a.b.m3"}
