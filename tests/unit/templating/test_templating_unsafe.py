"""Host data is never rendered: marks, taint through templates, conditionals, the sandbox wall."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from fleet.errors import InputError, TemplateError
from fleet.secrets import Secrets
from fleet.templating import (
    ControllerDict,
    ControllerText,
    Templar,
    UnsafeDict,
    UnsafeText,
    confined,
    contains_unsafe,
    is_unsafe,
    unwrap,
    wrap,
)
from fleet.templating.filters.core import to_yaml
from fleet.vars import Final, HostVars, Layer
from fleet.yamlsrc import SourceDict

EVIL = "x{{ db_password }}"


@pytest.fixture
def templar() -> Templar:
    return Templar()


def host_vars(templar: Templar, **registered: Any) -> HostVars:
    play = Layer("play vars", "site.yml:3", {"db_password": "hunter2", "expr": "1 == 1",
                                             "from_ls": "{{ ls.stdout }}"})
    return HostVars([play, Layer("set_fact / register", "register", {k: wrap(v) for k, v in registered.items()})],
                    templar)


def test_wrap_marks_every_string_and_keeps_other_values() -> None:
    data = wrap({"stdout": EVIL, "lines": [EVIL, 3, None, True], "nested": {"k": ("a", 1.5)}})
    assert isinstance(data, UnsafeDict) and is_unsafe(data["lines"]) and is_unsafe(data["nested"]["k"])
    assert all(is_unsafe(key) for key in data)
    assert data["lines"][1:] == [3, None, True] and data["nested"]["k"][1] == 1.5
    assert wrap(data) is data
    assert json.loads(json.dumps(data)) == {"stdout": EVIL, "lines": [EVIL, 3, None, True],
                                            "nested": {"k": ["a", 1.5]}}
    assert type(unwrap(data)["stdout"]) is str and yaml.safe_dump(unwrap(data))
    assert yaml.safe_load(to_yaml(data)) == unwrap(data)


def test_contains_unsafe_looks_inside_plain_containers() -> None:
    assert not contains_unsafe({"a": ["b", {"c": "d"}]})
    assert contains_unsafe({"a": ["b", {"c": UnsafeText("d")}]})
    assert contains_unsafe([("x", UnsafeText("y"))])


def test_host_text_is_never_rendered(templar: Templar) -> None:
    variables = host_vars(templar, ls={"stdout": EVIL, "stdout_lines": [EVIL]})
    assert templar.render(UnsafeText(EVIL), variables) == EVIL
    assert templar.render([UnsafeText(EVIL), "{{ db_password }}"], variables) == [EVIL, "hunter2"]
    assert templar.render("{{ ls.stdout }}", variables) == EVIL
    assert templar.render("{{ ls.stdout_lines[0] }}", variables) == EVIL
    assert variables["from_ls"] == EVIL  # a variable defined as host data: rendered once, not twice


@pytest.mark.parametrize("template", [
    "{{ ls.stdout }}",
    "prefix {{ ls.stdout }} suffix",
    "{{ ls.stdout | upper }}",
    "{{ ls.stdout_lines | map('trim') | list }}",
    "{{ ls.stdout_lines | join(',') }}",
    "{{ ls.get('stdout') | trim }}",
    "{{ ls['stdout'] ~ '' }}",
    "{% for line in ls.stdout_lines %}{{ line }}{% endfor %}",
    "{{ from_ls | trim }}",
    "{{ hostvars.other.ls.stdout | trim }}",
])
def test_what_a_template_computes_from_host_data_is_host_data(templar: Templar, template: str) -> None:
    other = host_vars(templar, ls={"stdout": EVIL, "stdout_lines": [EVIL]})
    variables = HostVars([*other.layers, Layer("magic vars", "fleet", {"hostvars": {"other": other}})], templar)
    result = templar.render(template, variables)
    assert contains_unsafe(result), (template, result)


def test_templates_over_trusted_data_stay_templates(templar: Templar) -> None:
    variables = host_vars(templar, ls={"stdout": EVIL})
    result = templar.render("{{ db_password | upper }}", variables)
    assert result == "HUNTER2" and not contains_unsafe(result)


def test_conditional_over_host_data_is_an_error_not_a_second_evaluation(templar: Templar) -> None:
    variables = host_vars(templar, ls={"stdout": "db_password == 'hunter2'", "rc": 0})
    with pytest.raises(TemplateError, match="host data"):
        templar.truth("{{ ls.stdout }}", variables)
    with pytest.raises(TemplateError, match="host data"):
        templar.truth(UnsafeText("db_password == 'hunter2'"), variables)
    assert templar.truth("ls.stdout == \"db_password == 'hunter2'\"", variables)  # a comparison is fine
    assert templar.truth("{{ ls.rc == 0 }}", variables)  # a boolean result is fine
    assert templar.truth("{{ expr }}", variables)  # trusted text: evaluated again, as Ansible


def test_evaluate_returns_host_text_as_is(templar: Templar) -> None:
    variables = host_vars(templar)
    assert templar.evaluate(UnsafeText("db_password"), variables) == "db_password"
    assert templar.evaluate("db_password", variables) == "hunter2"


def test_final_layers_and_values_are_data(templar: Templar) -> None:
    base = host_vars(templar)
    loop = base.push(Layer("task vars", "loop", {"item": "{{ db_password }}"}, final=True))
    assert loop["item"] == "{{ db_password }}"
    include = base.push(Layer("include params", "include", {"item": Final("{{ db_password }}"),
                                                            "param": "{{ db_password }}"}))
    assert include["item"] == "{{ db_password }}" and include["param"] == "hunter2"
    assert include.raw("item") == "{{ db_password }}"


@pytest.mark.parametrize("expression", [
    "hostvars.h.templar.secrets",
    "hostvars.h.templar",
    "hostvars.h.layers",
    "hostvars.h.raw('db_password')",
    "hostvars.h.explain('db_password')",
])
def test_interpreter_objects_are_out_of_reach(expression: str) -> None:
    templar = Templar(secrets=Secrets())
    h = host_vars(templar)
    variables = HostVars([*h.layers, Layer("magic vars", "fleet", {"hostvars": {"h": h}})], templar)
    with pytest.raises(TemplateError, match="unsafe|undefined|no attribute"):
        templar.render("{{ " + expression + " }}", variables)


def test_plain_mapping_methods_still_work(templar: Templar) -> None:
    h = host_vars(templar)
    variables = HostVars([*h.layers, Layer("magic vars", "fleet",
                                           {"hostvars": {"h": h}, "item": SourceDict({"location": "rack 4"})})],
                         templar)
    assert templar.render("{{ hostvars.h.get('db_password') }}", variables) == "hunter2"
    assert "db_password" in templar.render("{{ hostvars.h.keys() | list }}", variables)
    assert templar.render("{{ item.location }}", variables) == "rack 4"  # the key, not the loader's attribute
    assert templar.render("{{ 'a,b'.split(',') }}", variables) == ["a", "b"]
    assert templar.render("{{ undefined_thing.attr | default('d') }}", variables) == "d"


def test_confined_refuses_host_named_paths_outside_the_project() -> None:
    confined("vars/Debian.yml", "include_vars", None)  # trusted: the file loaders decide
    confined(UnsafeText("Debian.yml"), "include_vars", None)  # host data, but stays inside
    for bad in ("/etc/shadow", "../../etc/shadow", "vars/../../x", "~root/.ssh/id_ed25519"):
        with pytest.raises(InputError, match="host sent"):
            confined(UnsafeText(bad), "include_vars", None)


def test_an_absolute_host_named_path_inside_the_role_is_accepted(tmp_path) -> None:
    """What lookup('first_found') returns: absolute, inside the role; a symlink out is not."""
    role = tmp_path / "roles" / "r"
    (role / "tasks").mkdir(parents=True)
    (role / "tasks" / "debian.yml").write_text("[]\n")
    (role / "tasks" / "out.yml").symlink_to("/etc/hostname")
    confined(UnsafeText(str(role / "tasks" / "debian.yml")), "include_tasks", None, (role, None))
    for bad in (str(role / "tasks" / "out.yml"), str(role / ".." / ".." / "x"), "/etc/shadow"):
        with pytest.raises(InputError, match="host sent"):
            confined(UnsafeText(bad), "include_tasks", None, (role, None))


def test_lookups_refuse_what_a_host_names(templar: Templar) -> None:
    variables = host_vars(templar, ls={"stdout_lines": ["HOME", "/etc/hostname", "~/.bashrc"]})
    for template in ("{{ lookup('env', ls.stdout_lines[0]) }}", "{{ lookup('file', ls.stdout_lines[1]) }}",
                     "{{ lookup('file', ls.stdout_lines[2]) }}"):
        with pytest.raises(TemplateError, match="host sent"):
            templar.render(template, variables)
    assert templar.render("{{ lookup('env', 'HOME') }}", variables)  # names in the playbook: as before


def controller_vars(templar: Templar, **registered: Any) -> HostVars:
    """Like host_vars, but ``local`` is a result of a task run on the controller itself."""
    remote = Layer("set_fact / register", "register", {k: wrap(v) for k, v in registered.items()})
    local = Layer("set_fact / register", "register",
                  {"local": wrap({"stdout": "/tmp/fleet.x1", "cmd": "{{ db_password }}"}, controller=True)})
    return HostVars([Layer("play vars", "site.yml:3", {"db_password": "hunter2"}), remote, local], templar)


def test_controller_results_are_data_that_may_name_controller_files(templar: Templar) -> None:
    variables = controller_vars(templar, ls={"stdout": "/etc/shadow"})
    own = templar.render("{{ local.stdout }}/foo.txt", variables)
    assert own == "/tmp/fleet.x1/foo.txt" and isinstance(own, ControllerText)
    confined(own, "copy src", None)  # a name the controller's own task gave: accepted
    assert templar.render("{{ local.cmd }}", variables) == "{{ db_password }}"  # still never rendered
    with pytest.raises(TemplateError, match="host data"):
        templar.truth("{{ local.cmd }}", variables)  # nor evaluated a second time
    for template in ("{{ local.stdout }}/{{ ls.stdout | basename }}", "{{ ls.stdout if local.stdout else '' }}",
                     "{{ [local.stdout, ls.stdout] | join('') }}"):
        mixed = templar.render(template, variables)
        assert is_unsafe(mixed) and not isinstance(mixed, ControllerText), template  # remote wins
        with pytest.raises(InputError, match="host sent"):
            confined(mixed, "copy src", None)


def test_wrapping_controller_data_as_remote_makes_it_remote() -> None:
    local = wrap({"a": ["/x"]}, controller=True)
    assert isinstance(local["a"][0], ControllerText)
    remote = wrap(local)
    assert not isinstance(remote, ControllerDict) and not isinstance(remote["a"][0], ControllerText)
    assert is_unsafe(remote["a"][0])
    assert wrap(local, controller=True) is local
