"""Collections' routing metadata parsed once per content (ansible-core's documented hook)."""

from __future__ import annotations

from pathlib import Path

ROUTING = b"plugin_routing:\n  modules:\n    old_name:\n      redirect: ns.coll.new_name\nrequires_ansible: '>=2.15'\n"


def test_the_second_read_of_the_same_content_is_not_parsed(tmp_path: Path) -> None:
    from fleet.bridge.metacache import cached

    parsed: list[bytes] = []

    def parse(data, content_id):
        parsed.append(data)
        return {"plugin_routing": {"modules": {"old_name": {"redirect": "ns.coll.new_name"}}}, "requires_ansible": ">=2.15"}

    read = cached(parse, tmp_path, "2.19.15")
    first, second = read(ROUTING, ("ns.coll", "runtime.yml")), read(ROUTING, ("ns.coll", "runtime.yml"))
    assert first == second and len(parsed) == 1
    read(ROUTING + b"# changed\n", None)
    assert len(parsed) == 2
    cached(parse, tmp_path, "2.21.5")(ROUTING, None)  # another ansible-core parses again
    assert len(parsed) == 3
    for kept in tmp_path.iterdir():
        kept.write_bytes(b"\x00damaged")
    assert read(ROUTING, None) == first and len(parsed) == 4


def test_installed_in_ansible_cores_hook_it_gives_ansibles_own_result(core, tmp_path: Path) -> None:
    import ansible

    from fleet.bridge.metacache import FINDER, install

    finder = core.module(FINDER)
    before = finder._meta_yml_to_dict  # another test's Bridge may have installed it already
    original = getattr(before, "__wrapped__", before)
    finder._meta_yml_to_dict = original
    try:
        assert install(core, tmp_path) and install(core, tmp_path)
        assert finder._meta_yml_to_dict is not original and finder._meta_yml_to_dict.fleet_cached
        data = (Path(ansible.__file__).parent / "config" / "ansible_builtin_runtime.yml").read_bytes()
        expected = original(data, None)
        assert finder._meta_yml_to_dict(data, None) == expected
        assert finder._meta_yml_to_dict(data, None) == expected  # from the kept copy
        assert len(list(tmp_path.iterdir())) == 1
    finally:
        finder._meta_yml_to_dict = before
