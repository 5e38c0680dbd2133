"""Variables through real runs: precedence of every layer, set_fact, include_vars, extra vars."""

from __future__ import annotations

import json

import pytest

from tests.unit.executor.conftest import Site, play

LAYERS = ["role_defaults", "group_all", "group_web", "group_vars_file", "host", "play", "vars_file",
          "role_vars", "block", "task", "set_fact", "role_params", "include_params", "extra"]


def _vars_from(index: int) -> dict[str, str]:
    """Layer ``index`` defines v<index>..v<last>, so v<n> must end up with layer n's name."""
    return {f"v{n}": LAYERS[index] for n in range(index, len(LAYERS))}


def _yaml(values: dict[str, str], indent: int) -> str:
    pad = " " * indent
    return "".join(f"\n{pad}{k}: {v}" for k, v in values.items())


def test_precedence_of_every_layer(site: Site) -> None:
    site.group_vars = {"all": _vars_from(1), "web": _vars_from(2)}
    site.host_vars = {"h1": _vars_from(4)}
    site.write("group_vars/web.yml", _yaml(_vars_from(3), 0))
    site.write("vars/common.yml", _yaml(_vars_from(6), 0))
    site.write("roles/r/defaults/main.yml", _yaml(_vars_from(0), 0))
    site.write("roles/r/vars/main.yml", _yaml(_vars_from(7), 0))
    names = " ".join(f"{{{{ v{n} }}}}" for n in range(len(LAYERS)))
    site.write("roles/r/tasks/main.yml", f"""
        - set_fact:{_yaml(_vars_from(10), 12)}
        - include_tasks: write.yml
          vars:{_yaml(_vars_from(12), 12)}
    """)
    site.write("roles/r/tasks/write.yml", f"""
        - block:
            - copy:
                dest: "{{{{ root }}}}/values"
                content: "{names}"
              vars:{_yaml(_vars_from(9), 16)}
          vars:{_yaml(_vars_from(8), 12)}
    """)
    site.run(f"""
        - hosts: h1
          gather_facts: false
          vars:{_yaml(_vars_from(5), 12)}
          vars_files: [vars/common.yml]
          roles:
            - role: r{_yaml(_vars_from(11), 14)}
    """, extra_vars=_vars_from(13))
    assert site.read("h1", "values").split() == LAYERS


def test_set_fact_then_use_and_persists_across_plays(site: Site) -> None:
    site.run("""
        - hosts: web
          gather_facts: false
          tasks:
            - set_fact:
                greeting: "hello {{ inventory_hostname }}"
                numbers: [1, 2]
        - hosts: web
          gather_facts: false
          tasks:
            - copy: dest={{ root }}/g content="{{ greeting }} {{ numbers | sum }}"
    """)
    assert site.read("h1", "g") == "hello h1 3"
    assert site.read("h2", "g") == "hello h2 3"


def test_include_vars_file_and_name(site: Site) -> None:
    site.write("vars/app.yml", "port: 8080\nname: app\n")
    site.run(play("""
        - include_vars: vars/app.yml
        - include_vars:
            file: vars/app.yml
            name: scoped
        - copy: dest={{ root }}/out content="{{ port }} {{ name }} {{ scoped.port }}"
          vars:
            port: 1  # include_vars outranks task vars
    """, hosts="h1"))
    assert site.read("h1", "out") == "8080 app 8080"


@pytest.mark.parametrize(("args", "expected"), [
    (["-e", "who=cli"], "cli"),
    (["-e", '{"who": "json", "n": 3}'], "json"),
    (["-e", "@extra.yml"], "file"),
    (["-e", "who=first", "-e", "who=second"], "second"),
])
def test_extra_vars_forms(site: Site, args: list[str], expected: str) -> None:
    site.write("extra.yml", "who: file\n")
    site.playbook(play("- copy: dest={{ root }}/who content={{ who }}", hosts="h1", extra="vars: {who: play}"))
    result = site.cli("apply", "-i", str(site.inventory), "site.yml", *args)
    assert result.exit_code == 0, result.output
    assert site.read("h1", "who") == expected


@pytest.mark.parametrize("bad", ["not a pair", "@missing.yml", "[1, 2]", '{"unclosed": 1'])
def test_bad_extra_vars_is_one_clear_error(site: Site, bad: str) -> None:
    site.playbook(play("- copy: dest={{ root }}/x content=x", hosts="h1"))
    result = site.cli("apply", "-i", str(site.inventory), "site.yml", "-e", bad)
    assert result.exit_code == 1
    assert "ERROR" in result.stderr and "Traceback" not in result.output
    assert not site.exists("h1", "x")


def test_vars_explain_shows_every_layer_and_the_winner(site: Site) -> None:
    site.group_vars = {"all": {"port": 1}, "web": {"port": 2}}
    site.host_vars = {"h1": {"port": 3}}
    site.write("group_vars/web.yml", "port: 4\n")
    site.playbook(play("- debug: var=port", hosts="h1", extra="vars: {port: 5}"))
    result = site.cli("vars", "h1", "-i", str(site.inventory), "-p", "site.yml", "--explain", "port")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "port for h1 (lowest precedence first):"
    rows = [line for line in lines[1:] if not line.startswith("value:")]
    assert [row.split()[-1] for row in rows] == ["1", "2", "4", "3", "5"]
    assert [row.startswith("=> ") for row in rows] == [False, False, False, False, True]
    assert any("group_vars/web.yml" in row for row in rows)
    assert any("inventory.yml" in row for row in rows)
    assert lines[-1] == "value: 5"
    with_extra = site.cli("vars", "h1", "-i", str(site.inventory), "-e", "port=6", "--explain", "port")
    assert with_extra.stdout.splitlines()[-1] == 'value: "6"'
    plain = site.cli("vars", "h1", "-i", str(site.inventory))
    assert json.loads(plain.stdout)["port"] == 3


def test_vars_explain_unknown_name(site: Site) -> None:
    result = site.cli("vars", "h1", "-i", str(site.inventory), "--explain", "nope")
    assert result.exit_code == 1
    assert "'nope' is not defined for h1" in result.stderr


def test_magic_variables(site: Site) -> None:
    site.write("roles/one/tasks/main.yml", "- debug: msg=one\n")
    site.run(f"""
        - hosts: web
          gather_facts: false
          serial: 1
          roles: [one]
          tasks:
            - copy:
                dest: "{{{{ root }}}}/magic"
                content: "{{{{ [inventory_hostname, inventory_hostname_short, group_names, groups.db,
                  ansible_play_batch, ansible_play_hosts_all, role_names, inventory_dir == '{site.dir}',
                  inventory_file | basename, playbook_dir == '{site.dir}', ansible_check_mode,
                  hostvars['h3'].root | basename] }}}}"
    """)
    assert json.loads(site.read("h2", "magic")) == (  # copy writes a list as JSON, as Ansible
        ["h2", "h2", ["web"], ["h3"], ["h2"], ["h1", "h2"], ["one"], True, "inventory.yml", True, False, "h3"])
