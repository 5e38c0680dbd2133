"""Roles: search path, files, meta dependencies, dedupe, import_role/include_role."""

from __future__ import annotations

from pathlib import Path

import pytest

from fleet.errors import InputError, Location
from fleet.playbook.models import Handler, Task
from fleet.playbook.tasks import TaskFileLoader

from .conftest import MODULES, Load, LoadError, WriteTree, body, names

ROLES = {
    "roles/common/tasks/main.yml": """
    - name: common task
      ping:
    """,
    "roles/common/defaults/main.yml": "common_port: 1\n",
    "roles/web/meta/main.yml": """
    galaxy_info: {author: me}
    dependencies:
      - common
      - role: db
        db_name: web
        when: want_db
        tags: [dbtag]
    """,
    "roles/web/tasks/main.yml": """
    - name: install
      ansible.builtin.template: src=web.conf.j2 dest=/etc/web.conf
      notify: restart web
    - import_tasks: extra.yml
    """,
    "roles/web/tasks/extra.yml": """
    - name: extra
      debug: msg=x
    """,
    "roles/web/handlers/main.yml": """
    - name: restart web
      service: name=web state=restarted
    """,
    "roles/web/defaults/main.yml": "web_port: 80\n",
    "roles/web/vars/main.yml": "web_user: www\n",
    "roles/db/meta/main.yml": "dependencies: [common]\n",
    "roles/db/tasks/main.yml": """
    - name: create db
      command: createdb {{ db_name }}
    """,
    "roles/db/handlers/main.yml": """
    - name: restart db
      service: name=db state=restarted
    """,
}


def test_roles_dependencies_order_and_dedupe(load: Load, tmp_path: Path) -> None:
    pb = load({**ROLES, "site.yml": """
    - hosts: all
      vars: {x: 1}
      pre_tasks: [{name: pre, ping: }]
      roles:
        - web
        - role: common
      tasks: [{name: task, ping: }]
      handlers:
        - name: play handler
          ping:
    """})
    play = pb.plays[0]
    assert names(play.tasks) == [
        "pre", "flush", "common : common task", "db : create db", "web : install",
        "web : extra", "task", "flush", "flush"]
    assert [r.name for r in play.roles] == ["common", "db", "web"]
    assert [h.display_name for h in play.handlers] == ["db : restart db", "web : restart web",
                                                       "play handler"]
    common, db, web = play.roles
    assert web.path == tmp_path / "roles/web"
    assert dict(web.defaults.values) == {"web_port": 80}
    assert web.defaults.kind == "role defaults"
    assert web.defaults.source == str(tmp_path / "roles/web/defaults/main.yml")
    assert dict(web.vars.values) == {"web_user": "www"} and web.vars.kind == "role vars"
    assert dict(db.params.values) == {"db_name": "web"} and db.params.kind == "role params"
    assert db.params.source == str(tmp_path / "roles/web/meta/main.yml") + ":4"
    assert common.vars.values == {} and common.vars.kind == "role vars"
    assert [(lay.kind, dict(lay.values)) for lay in play.vars_layers] == [
        ("role defaults", {"common_port": 1}), ("role defaults", {}),
        ("role defaults", {"web_port": 80}), ("play vars", {"x": 1}),
        ("role vars", {}), ("role vars", {}), ("role vars", {"web_user": "www"})]
    tasks = {t.name: t for t in body(pb)}
    assert tasks["create db"].when == ["want_db"] and tasks["create db"].tags == {"dbtag"}
    assert tasks["create db"].role is db and tasks["install"].role is web
    assert tasks["extra"].role is web and tasks["extra"].base_dir == tmp_path / "roles/web/tasks"
    assert tasks["install"].base_dir == tmp_path / "roles/web/tasks"
    assert tasks["common task"].when == [] and tasks["common task"].role is common


def test_role_keywords_and_params(load: Load) -> None:
    pb = load({**ROLES, "site.yml": """
    - hosts: all
      roles:
        - role: db
          db_name: one
          vars: {extra: 2}
          when: first
          tags: t1
          become: true
        - {role: db, db_name: two}
        - {name: db, db_name: two}
    """})
    play = pb.plays[0]
    assert names(play.tasks) == ["flush", "common : common task", "db : create db",
                                 "db : create db", "flush", "flush"]
    first, second = [t for t in body(pb) if t.name == "create db"]
    assert first.role is not None and second.role is not None
    assert dict(first.role.params.values) == {"db_name": "one", "extra": 2}
    assert first.when == ["first"] and first.tags == {"t1"} and first.become is True
    assert dict(second.role.params.values) == {"db_name": "two"}
    assert second.when == [] and second.become is None
    common = body(pb)[0]
    assert common.when == ["first"] and common.tags == {"t1"}  # dependencies inherit
    # the handlers of a role appear once even when it runs twice
    assert [h.name for h in play.handlers] == ["restart db"]
    assert play.handlers[0].become is True


def test_allow_duplicates(load: Load) -> None:
    pb = load({
        "roles/r/meta/main.yml": "allow_duplicates: true\n",
        "roles/r/tasks/main.yml": "- name: t\n  ping:\n",
        "site.yml": "- hosts: all\n  roles: [r, r]\n",
    })
    assert names(pb.plays[0].tasks) == ["flush", "r : t", "r : t", "flush", "flush"]


def test_role_search_order_and_paths(load: Load, tmp_path: Path, write_tree: WriteTree) -> None:
    write_tree({
        "extra/shared/tasks/main.yml": "- name: from extra\n  ping:\n",
        "extra/local/tasks/main.yml": "- name: shadowed\n  ping:\n",
        "elsewhere/byname/tasks/main.yaml": "- name: by path\n  ping:\n",
    })
    pb = load({
        "roles/local/tasks/main.yml": "- name: from roles dir\n  ping:\n",
        "site.yml": """
        - hosts: all
          roles: [local, shared, elsewhere/byname]
        """,
    }, role_paths=[tmp_path / "extra"])
    assert [t.name for t in body(pb)] == ["from roles dir", "from extra", "by path"]
    assert pb.plays[0].roles[2].name == "byname"


def test_role_without_tasks_and_directory_vars(load: Load, tmp_path: Path) -> None:
    pb = load({
        "roles/settings/defaults/main/10-a.yml": "a: 1\nb: 1\n",
        "roles/settings/defaults/main/20-b.yaml": "b: 2\n",
        "roles/settings/handlers/main.yml": "- name: h\n  ping:\n",
        "site.yml": "- hosts: all\n  roles: [settings]\n",
    })
    (role,) = pb.plays[0].roles
    assert dict(role.defaults.values) == {"a": 1, "b": 2}
    assert role.defaults.source == str(tmp_path / "roles/settings/defaults/main")
    assert names(pb.plays[0].tasks) == ["flush", "flush", "flush"]
    assert [h.display_name for h in pb.plays[0].handlers] == ["settings : h"]


def test_import_role_inline(load: Load, tmp_path: Path) -> None:
    pb = load({**ROLES,
               "roles/web/tasks/other.yml": "- name: other\n  ping:\n",
               "roles/web/vars/alt.yml": "web_user: alt\n",
               "site.yml": """
    - hosts: all
      tasks:
        - name: before
          ping:
        - block:
            - import_role:
                name: web
                tasks_from: other
                vars_from: alt.yml
              when: inner
              vars: {p: 1}
          when: outer
        - ansible.builtin.import_role: name=db
    """})
    play = pb.plays[0]
    assert names(play.tasks) == ["flush", "before", "common : common task", "db : create db",
                                 "web : other", "db : create db", "flush", "flush"]
    tasks = body(pb)
    other = tasks[3]
    assert other.role is not None
    assert other.when == ["outer", "inner"]
    assert dict(other.role.params.values) == {"p": 1}
    assert dict(other.role.vars.values) == {"web_user": "alt"}
    assert [r.name for r in play.roles] == ["common", "db", "web", "db"]
    assert ("role vars", {"web_user": "alt"}) in [(lay.kind, dict(lay.values)) for lay in play.vars_layers]
    assert [h.name for h in play.handlers] == ["restart db", "restart web"]


def test_include_role_dynamic_and_load_role(load: Load, tmp_path: Path) -> None:
    pb = load({**ROLES, "site.yml": """
    - hosts: all
      tasks:
        - include_role:
            name: "{{ which }}"
            tasks_from: main
          become: true
          when: go
    """})
    (inc,) = body(pb)
    assert inc.module == "include_role" and inc.args == {"name": "{{ which }}", "tasks_from": "main"}
    loader = TaskFileLoader(tmp_path, module_exists=MODULES.__contains__)
    role, items, handlers = loader.load_role("web", inc.args, inc.location, inherited=inc.inherited,
                                             parent=inc.role)
    assert role.name == "web" and role.path == tmp_path / "roles/web"
    assert role.params.kind == "role params" and role.params.values == {}
    tasks = [t for t in items if isinstance(t, Task)]
    assert [t.display_name for t in tasks] == [
        "common : common task", "db : create db", "web : install", "web : extra"]
    assert all(t.become is True for t in tasks)
    assert [t.when for t in tasks] == [[], ["want_db"], [], []]
    assert [h.name for h in handlers] == ["restart db", "restart web"]
    assert all(isinstance(h, Handler) for h in handlers)


def test_load_role_errors(tmp_path: Path, write_tree: WriteTree) -> None:
    write_tree(ROLES)
    loader = TaskFileLoader(tmp_path, module_exists=MODULES.__contains__)
    where = Location("site.yml", 9)
    with pytest.raises(InputError) as info:
        loader.load_role("nope", {}, where)
    assert str(info.value).startswith("site.yml:9: role 'nope' not found; searched: ")
    assert str(tmp_path / "roles") in str(info.value)
    with pytest.raises(InputError) as info:
        loader.load_role("web", {"tasks_form": "x"}, where)
    assert "include_role has no option 'tasks_form' (did you mean 'tasks_from'?)" in str(info.value)
    with pytest.raises(InputError) as info:
        loader.load_role("web", {"tasks_from": "missing"}, where)
    assert str(info.value).startswith("site.yml:9: tasks_from: no file 'missing'")


def test_role_dependency_cycle(load_error: LoadError) -> None:
    err = load_error({
        "roles/a/meta/main.yml": "dependencies: [b]\n",
        "roles/b/meta/main.yml": "dependencies: [{role: a}]\n",
        "site.yml": "- hosts: all\n  roles: [a]\n",
    }, where="roles/b/meta/main.yml:1")
    assert "role dependency cycle: a -> b -> a" in str(err)


def test_role_not_found(load_error: LoadError, tmp_path: Path) -> None:
    err = load_error({"site.yml": "- hosts: all\n  roles:\n    - role: missing\n"},
                     where="site.yml:3")
    assert "role 'missing' not found; searched: " in str(err)
    assert str(tmp_path / "roles") in str(err)


def test_role_errors(load_error: LoadError) -> None:
    ok = "- ping:\n"
    load_error({"roles/r1/tasks/main.yml": ok,
                "site.yml": "- hosts: all\n  roles:\n    - role: r1\n      become: maybe\n"},
               where="site.yml:3")
    load_error({"roles/r2/tasks/main.yml": ok, "roles/r2/meta/main.yml": "dependencies: oops\n",
                "site.yml": "- hosts: all\n  roles: [r2]\n"}, where="roles/r2/meta/main.yml:1")
    load_error({"site.yml": "- hosts: all\n  roles:\n    - {when: x}\n"}, where="site.yml:3")
    load_error({"site.yml": "- hosts: all\n  roles:\n    - role: '{{ r }}'\n"}, where="site.yml:3")
    load_error({"site.yml": "- hosts: all\n  roles: [[r]]\n"}, where="site.yml:2")
    load_error({"roles/r3/tasks/main.yml": "- bogus_mod: x\n",
                "site.yml": "- hosts: all\n  roles: [r3]\n"}, where="roles/r3/tasks/main.yml:1")
    load_error({"roles/r4/meta/main.yml": "- not a mapping\n",
                "site.yml": "- hosts: all\n  roles: [r4]\n"}, where="roles/r4/meta/main.yml:1")
    load_error({"roles/r5/defaults/main.yml": "[1, 2]\n",
                "site.yml": "- hosts: all\n  roles: [r5]\n"}, where="roles/r5/defaults/main.yml:1")
