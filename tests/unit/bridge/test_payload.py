"""Payloads built by ansible-core's module_common, taken apart by fleet."""

from __future__ import annotations

import hashlib


def test_the_zip_holds_the_module_and_its_module_utils(core, resolver) -> None:
    from fleet.bridge.payload import build

    payload = build(core, resolver.resolve("ansible.builtin.getent"))
    assert payload.module_fqn == "ansible.modules.getent"
    assert payload.style == ("ansiballz" if core.profiles else "legacy")
    assert {"ansible/modules/getent.py", "ansible/module_utils/basic.py"} <= set(payload.names)
    assert payload.sha == hashlib.sha256(payload.zip).hexdigest()
    assert payload.core == core.version
    if core.profiles:
        assert payload.profile and "ansible/module_utils/_internal/_ansiballz/_loader.py" in payload.names


def test_a_collection_module_brings_its_collection_module_utils(core, resolver, collections_installed) -> None:
    from fleet.bridge.payload import build

    payload = build(core, resolver.resolve("community.general.ini_file"))
    assert payload.module_fqn == "ansible_collections.community.general.plugins.modules.ini_file"
    assert "ansible_collections/community/general/plugins/modules/ini_file.py" in payload.names


def test_the_same_module_gives_the_same_bytes_every_time(core, resolver) -> None:
    """Fixed zip timestamps: a kept agent keeps a payload across runs."""
    from fleet.bridge.payload import PayloadCache, build

    module = resolver.resolve("ansible.builtin.find")
    first, second = build(core, module), build(core, module)
    assert first.sha == second.sha and first.zip == second.zip
    cache = PayloadCache(core)
    assert cache.get(module) is cache.get(module)


def test_a_refused_module_has_no_payload(core, resolver) -> None:
    import pytest

    from fleet.bridge.payload import PayloadError, build

    with pytest.raises(PayloadError, match="action plugin"):
        build(core, resolver.resolve("ansible.builtin.template"))
