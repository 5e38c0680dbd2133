"""HostVars: precedence, lazy per-host rendering, recursion, push views, explain."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from fleet.errors import Location, TemplateError
from fleet.templating import Templar
from fleet.vars import Layer
from fleet.vars.hostvars import ExplainRow, HostVars, VarRenderError, explain_rows
from fleet.yamlsrc import loads


@pytest.fixture
def templar() -> Templar:
    return Templar()


class Counting(dict):
    """A layer's values that count how often each key is read."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.reads: dict[str, int] = {}

    def __getitem__(self, key: str) -> Any:
        self.reads[key] = self.reads.get(key, 0) + 1
        return super().__getitem__(key)


GROUP_WEB = Layer("inventory group", "inventories/prod/group_vars/web.yml", {
    "node": "{{ inventory_hostname }}.example.com",
    "port": 80,
    "url": "http://{{ node }}:{{ port }}/",
    "packages": ["nginx", "{{ extra_package }}"],
    "extra_package": "curl",
})


def host(name: str, **values: Any) -> Layer:
    return Layer("inventory host", f"inventories/prod/host_vars/{name}.yml",
                 {"inventory_hostname": name, **values})


def test_highest_layer_wins_whole_value(templar: Templar) -> None:
    hv = HostVars([
        Layer("role defaults", "roles/app/defaults/main.yml", {"x": 1, "d": {"a": 1, "b": 2}}),
        Layer("inventory group all", "group_vars/all.yml", {"x": 2}),
        Layer("play vars", "site.yml:3", {"x": 3, "d": {"a": 9}}),
    ], templar)
    assert hv["x"] == 3
    assert hv["d"] == {"a": 9}  # replace, not merge (Ansible's default hash_behaviour)


@pytest.mark.parametrize("order", [(0, 1, 2), (2, 1, 0), (1, 2, 0)])
def test_precedence_is_layer_position(templar: Templar, order: tuple[int, ...]) -> None:
    layers = [Layer("play vars", f"layer{i}", {"v": i}) for i in range(3)]
    hv = HostVars([layers[i] for i in order], templar)
    assert hv["v"] == order[-1]


def test_group_vars_templates_resolve_per_host(templar: Templar) -> None:
    web1 = HostVars([GROUP_WEB, host("web1")], templar)
    web2 = HostVars([GROUP_WEB, host("web2", port=8080, extra_package="jq")], templar)
    assert web1["url"] == "http://web1.example.com:80/"
    assert web2["url"] == "http://web2.example.com:8080/"
    assert web1["packages"] == ["nginx", "curl"]
    assert web2["packages"] == ["nginx", "jq"]


def test_low_layer_template_sees_higher_override(templar: Templar) -> None:
    hv = HostVars([
        Layer("role defaults", "defaults", {"app_dir": "/opt/{{ app_name }}", "app_name": "default"}),
        Layer("extra vars", "command line (-e)", {"app_name": "billing"}),
    ], templar)
    assert hv["app_dir"] == "/opt/billing"


def test_native_values_and_nested_containers(templar: Templar) -> None:
    hv = HostVars([Layer("play vars", "site.yml:2", {
        "ports": [80, 443], "first": "{{ ports[0] }}", "cfg": {"listen": "{{ ports }}", "n": "{{ first + 1 }}"}})],
        templar)
    assert hv["first"] == 80
    assert hv["cfg"] == {"listen": [80, 443], "n": 81}


def test_rendered_values_are_cached_per_instance(templar: Templar) -> None:
    values = Counting(a="{{ b }}-x", b="B")
    hv = HostVars([Layer("play vars", "site.yml:2", values)], templar)
    assert hv["a"] == "B-x"
    assert hv["a"] == "B-x"
    assert hv["a"] is hv["a"]
    assert values.reads == {"a": 1, "b": 1}


def test_contains_iter_len_do_not_render(templar: Templar) -> None:
    values = Counting(a="{{ missing }}", b=1)
    hv = HostVars([Layer("play vars", "p", values), Layer("task vars", "t", {"b": 2, "c": 3})], templar)
    assert "a" in hv and "c" in hv and "zzz" not in hv
    assert list(hv) == ["a", "b", "c"]
    assert len(hv) == 3
    assert values.reads == {}
    with pytest.raises(KeyError):
        hv["zzz"]
    assert hv.get("zzz", "fallback") == "fallback"


def test_recursion_is_detected_and_names_the_layer(templar: Templar) -> None:
    hv = HostVars([Layer("play vars", "site.yml:4", {"a": "{{ b }}", "b": "{{ a }}"})], templar)
    with pytest.raises(TemplateError) as info:
        hv["a"]
    assert info.value.message == "recursive loop detected in variable 'a' (defined in play vars site.yml:4)"
    assert info.value.location == Location("site.yml", 4)
    with pytest.raises(TemplateError, match="recursive loop detected in variable 'b'"):
        hv["b"]  # the failed attempt left nothing half-resolved behind


def test_self_reference_is_a_loop(templar: Templar) -> None:
    hv = HostVars([Layer("role defaults", "d", {"path": "/x"}),
                   Layer("play vars", "site.yml:9", {"path": "{{ path }}/bin"})], templar)
    with pytest.raises(TemplateError, match="recursive loop detected in variable 'path'"):
        hv["path"]


def test_errors_name_the_variable_and_its_source(templar: Templar) -> None:
    doc = loads("vars:\n  conf:\n    dir: '{{ nowhere }}'\n", "group_vars/web.yml")
    hv = HostVars([Layer("inventory group", "group_vars/web.yml", doc["vars"])], templar)
    with pytest.raises(TemplateError) as info:
        hv["conf"]
    assert info.value.message == ("undefined variable 'nowhere' "
                                  "(in variable 'conf' from inventory group group_vars/web.yml)")
    assert info.value.location == Location("group_vars/web.yml", 3)


def test_a_failure_two_levels_deep_is_reported_once(templar: Templar) -> None:
    hv = HostVars([Layer("play vars", "site.yml:2", {"a": "{{ b }}", "b": "{{ c }}"})], templar)
    with pytest.raises(TemplateError) as info:
        templar.render("{{ a }}", hv)
    assert info.value.message == "undefined variable 'c' (in variable 'b' from play vars site.yml:2)"


def test_facts_registered_and_magic_values_are_never_templated(templar: Templar) -> None:
    hv = HostVars([
        Layer("facts", "gathered facts", {"motd": "{{ lookup('env', 'HOME') }}"}),
        Layer("set_fact / register", "register", {"out": {"stdout": "{{ boom }}"}}),
        Layer("magic vars", "fleet", {"groups": {"all": ["{{ x }}"]}}),
    ], templar)
    assert hv["motd"] == "{{ lookup('env', 'HOME') }}"
    assert hv["out"] == {"stdout": "{{ boom }}"}
    assert hv["groups"] == {"all": ["{{ x }}"]}


def test_unknown_layer_kind_is_refused(templar: Templar) -> None:
    with pytest.raises(ValueError, match="unknown variable layer kind 'group'"):
        HostVars([Layer("group", "x", {})], templar)


# ---------------------------------------------------------------------- push


def test_push_layers_on_top(templar: Templar) -> None:
    base = HostVars([GROUP_WEB, host("web1")], templar)
    task = base.push(Layer("task vars", "site.yml:20", {"port": 9000}))
    item = task.push(Layer("task vars", "loop item", {"item": "{{ port + 1 }}"}))
    assert task["url"] == "http://web1.example.com:9000/"
    assert item["item"] == 9001
    assert base["url"] == "http://web1.example.com:80/"  # the base view is untouched
    assert "item" not in task and "item" in item
    assert item.layers[-1].source == "loop item"


def test_push_reuses_renders_the_new_layers_cannot_affect(templar: Templar) -> None:
    values = Counting(node="{{ inventory_hostname }}.example.com", other="{{ node }}!")
    base = HostVars([Layer("inventory group", "g", values), host("web1")], templar)
    assert base["other"] == "web1.example.com!"
    reads = dict(values.reads)
    for i in range(5):
        view = base.push(Layer("task vars", f"task {i}", {"unrelated": i}))
        assert view["other"] == "web1.example.com!"
        assert view["other"] is base["other"]
    assert values.reads == reads  # nothing rendered again


def test_push_renders_again_when_a_dependency_is_overridden(templar: Templar) -> None:
    base = HostVars([GROUP_WEB, host("web1")], templar)
    assert base["url"] == "http://web1.example.com:80/"
    view = base.push(Layer("task vars", "t", {"inventory_hostname": "other"}))
    assert view["url"] == "http://other.example.com:80/"  # url -> node -> inventory_hostname


def test_push_sees_names_that_were_undefined_below(templar: Templar) -> None:
    base = HostVars([Layer("play vars", "p", {"greeting": "hi {{ who | default('all') }}",
                                              "strict": "hi {{ who }}"})], templar)
    assert base["greeting"] == "hi all"
    view = base.push(Layer("task vars", "t", {"who": "bob"}))
    assert view["greeting"] == "hi bob"
    assert view["strict"] == "hi bob"
    with pytest.raises(TemplateError):
        base["strict"]


def test_registered_result_in_a_pushed_view(templar: Templar) -> None:
    base = HostVars([Layer("play vars", "p", {"expected": 0})], templar)
    view = base.push(Layer("set_fact / register", "register", {"result": {"rc": 0, "changed": True}}))
    assert templar.truth(["result.rc == expected", "result is changed"], view)


# ---------------------------------------------------------------------- hostvars, explain, dumps


class AllHosts(Mapping[str, HostVars]):
    def __init__(self, hosts: dict[str, HostVars]) -> None:
        self._hosts = hosts

    def __getitem__(self, name: str) -> HostVars:
        return self._hosts[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._hosts)

    def __len__(self) -> int:
        return len(self._hosts)


def test_hostvars_of_other_hosts_render_lazily(templar: Templar) -> None:
    hosts: dict[str, HostVars] = {}
    allhosts = AllHosts(hosts)
    magic = Layer("magic vars", "fleet", {"hostvars": allhosts})
    hosts["web1"] = HostVars([GROUP_WEB, host("web1"), magic], templar)
    hosts["db1"] = HostVars([Layer("inventory host", "db1.yml", {
        "inventory_hostname": "db1",
        "backend": "{{ hostvars['web1']['node'] }}",
        "backend_url": "{{ hostvars.web1.url }}",
        "all_nodes": "{{ hostvars | dict2items | map(attribute='key') | list }}",
        "keys": "db-keys"}), magic], templar)
    db1 = hosts["db1"]
    assert db1["backend"] == "web1.example.com"
    assert db1["backend_url"] == "http://web1.example.com:80/"
    assert db1["all_nodes"] == ["web1", "db1"]
    assert templar.render("{{ hostvars.db1.keys }}", db1) == "db-keys"  # variables before methods


def test_explain_lists_every_definition_lowest_first(templar: Templar) -> None:
    hv = HostVars([
        Layer("role defaults", "roles/app/defaults/main.yml", {"port": 80}),
        Layer("inventory group", "group_vars/web.yml", {"other": 1}),
        Layer("inventory host", "host_vars/web1.yml", {"port": "{{ 8000 + 80 }}"}),
    ], templar)
    view = hv.push(Layer("extra vars", "command line (-e)", {"port": 9}))
    assert hv.explain("port") == [
        ExplainRow("role defaults", "roles/app/defaults/main.yml", 80, False),
        ExplainRow("inventory host", "host_vars/web1.yml", "{{ 8000 + 80 }}", True),
    ]
    assert [row.won for row in view.explain("port")] == [False, False, True]
    assert hv.explain("nothing") == []
    assert explain_rows(hv.explain("other")) == [
        {"kind": "inventory group", "source": "group_vars/web.yml", "value": 1, "won": True}]


def test_raw_and_as_dict(templar: Templar) -> None:
    hv = HostVars([Layer("play vars", "site.yml:2", {"a": "{{ b }}", "b": 2, "bad": "{{ nope }}"})], templar)
    assert hv.raw("a") == "{{ b }}"
    with pytest.raises(KeyError):
        hv.raw("zzz")
    assert hv.as_dict(render=False) == {"a": "{{ b }}", "b": 2, "bad": "{{ nope }}"}
    rendered = hv.as_dict()
    assert rendered["a"] == 2 and rendered["b"] == 2
    assert isinstance(rendered["bad"], VarRenderError)
    assert "undefined variable 'nope'" in rendered["bad"]


def test_hostvars_dump_as_json_and_yaml(templar: Templar) -> None:
    hv = HostVars([Layer("play vars", "p", {"a": "{{ 1 + 1 }}"})], templar)
    outer = HostVars([Layer("magic vars", "fleet", {"hv": hv})], templar)
    assert templar.render("{{ hv | to_json }}", outer) == '{"a": 2}'
    assert templar.render("{{ hv | to_nice_yaml }}", outer) == "a: 2\n"
