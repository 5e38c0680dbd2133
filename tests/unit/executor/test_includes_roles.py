"""include_tasks (vars, loops, per-host files), import_tasks, roles and include_role."""

from __future__ import annotations

from tests.unit.executor.conftest import Site, play


def test_include_tasks_with_vars_and_loop(site: Site) -> None:
    site.write("tasks/add.yml", """
        - lineinfile:
            path: "{{ root }}/list"
            line: "{{ prefix }}-{{ item }}-{{ idx }}"
            create: true
    """)
    run = site.run(play("""
        - name: add each
          include_tasks: tasks/add.yml
          loop: [a, b]
          loop_control: {index_var: idx}
          vars:
            prefix: p
    """, hosts="h1"))
    assert site.read("h1", "list") == "p-a-0\np-b-1\n"
    include = run.result("h1", "add each")
    assert include.status == "ok" and "tasks/add.yml" in include.msg


def test_include_tasks_per_host_file(site: Site) -> None:
    site.write("tasks/web.yml", "- copy: dest={{ root }}/role content=web\n")
    site.write("tasks/db.yml", "- copy: dest={{ root }}/role content=db\n")
    site.run(play("""
        - include_tasks: "tasks/{{ group_names[0] }}.yml"
    """))
    assert [site.read(h, "role") for h in ("h1", "h2", "h3")] == ["web", "web", "db"]


def test_include_tasks_when_false_is_skipped_and_counted(site: Site) -> None:
    site.write("tasks/x.yml", "- copy: dest={{ root }}/x content=x\n")
    run = site.run(play("""
        - name: maybe
          include_tasks: tasks/x.yml
          when: inventory_hostname == 'h1'
    """, hosts="web"))
    assert site.exists("h1", "x") and not site.exists("h2", "x")
    assert run.status("h2", "maybe") == "skipped"
    assert run.counts("h1")["ok"] == 2 and run.counts("h2")["skipped"] == 1


def test_failure_in_a_looped_include_stops_the_host(site: Site) -> None:
    site.write("tasks/step.yml", """
        - command: "test {{ item }} != 2"
        - shell: echo {{ item }} >> {{ root }}/steps
    """)
    run = site.run(play("""
        - include_tasks: tasks/step.yml
          loop: [1, 2, 3]
        - shell: echo after >> {{ root }}/steps
    """, hosts="h1"))
    assert site.read("h1", "steps").split() == ["1"]
    assert run.exit_code == 1


def test_import_tasks_inherits_keywords(site: Site) -> None:
    site.write("tasks/setup.yml", """
        - copy: dest={{ root }}/a content={{ v }}
          name: imported
    """)
    run = site.run(play("""
        - import_tasks: tasks/setup.yml
          vars: {v: imported}
          when: inventory_hostname == 'h1'
          tags: [setup]
    """, hosts="web"), tags=frozenset({"setup"}))
    assert site.read("h1", "a") == "imported"
    assert run.status("h2", "imported") == "skipped"


def _role(site: Site) -> None:
    site.write("roles/base/defaults/main.yml", "motd: default motd\nport: 80\n")
    site.write("roles/base/tasks/main.yml", """
        - name: motd
          template: src=motd.j2 dest={{ root }}/motd
          notify: base changed
        - name: logo
          copy: src=logo.txt dest={{ root }}/logo.txt
    """)
    site.write("roles/base/templates/motd.j2", "{{ motd }} on {{ inventory_hostname }}:{{ port }} ({{ role_name }})\n")
    site.write("roles/base/files/logo.txt", "LOGO\n")
    site.write("roles/base/handlers/main.yml", """
        - name: base changed
          shell: echo base >> {{ root }}/handled
    """)
    site.write("roles/app/meta/main.yml", """
        dependencies:
          - role: base
            vars: {port: 8080}
    """)
    site.write("roles/app/vars/main.yml", "app_name: shop\n")
    site.write("roles/app/tasks/main.yml", """
        - copy: dest={{ root }}/app content="{{ app_name }} after {{ lookup('file', root ~ '/motd') | trim }}"
    """)


def test_role_with_defaults_vars_templates_files_handlers_and_dependencies(site: Site) -> None:
    _role(site)
    run = site.run("""
        - hosts: web
          gather_facts: false
          vars: {motd: hello}
          roles: [app]
    """)
    assert site.read("h1", "motd") == "hello on h1:8080 (base)\n"
    assert site.read("h1", "logo.txt") == "LOGO\n"
    assert site.read("h2", "app") == "shop after hello on h2:8080 (base)"
    assert site.read("h1", "handled") == "base\n"
    assert run.tasks("h1")[:2] == ["base : motd", "base : logo"]


def test_include_role_with_vars_and_tasks_from(site: Site) -> None:
    _role(site)
    site.write("roles/base/tasks/extra.yml", "- copy: dest={{ root }}/extra content={{ port }}\n")
    run = site.run(play("""
        - include_role:
            name: base
          vars: {port: 9}
        - include_role:
            name: base
            tasks_from: extra
          when: inventory_hostname == 'h1'
    """, hosts="web"))
    assert site.read("h1", "motd") == "default motd on h1:9 (base)\n"
    assert site.read("h1", "extra") == "80"
    assert not site.exists("h2", "extra")
    assert site.read("h2", "handled") == "base\n"
    assert run.exit_code == 0


def test_role_listed_twice_runs_once(site: Site) -> None:
    site.write("roles/once/tasks/main.yml", "- shell: echo ran >> {{ root }}/log\n")
    site.run("""
        - hosts: h1
          gather_facts: false
          roles: [once, once]
    """)
    assert site.read("h1", "log") == "ran\n"


def test_names_defined_in_included_files_pass_the_preflight(site: Site) -> None:
    site.write("tasks/define.yml", """
        - command: echo hi
          register: from_include
        - block:
            - set_fact: fact_in_block=yes
        - include_tasks: nested.yml
    """)
    site.write("tasks/nested.yml", "- set_fact:\n    deep: 1\n")
    site.write("roles/definer/tasks/main.yml", "- set_fact: role_fact=r\n")
    playbook = play("""
        - include_tasks: tasks/define.yml
        - include_role: {name: definer}
        - copy: dest={{ root }}/out content="{{ from_include.stdout }} {{ fact_in_block }} {{ deep }} {{ role_fact }}"
    """, hosts="h1")
    site.run(playbook)
    assert site.read("h1", "out") == "hi yes 1 r"
    (site.root("h1") / "out").unlink()
    error = site.input_error(playbook.replace("role_fact }}", "role_fact }} {{ typo_fact }}"))
    assert "typo_fact" in str(error)


def test_templated_include_name_disables_the_name_check_rather_than_guess(site: Site) -> None:
    site.write("tasks/web.yml", "- set_fact: picked=web\n")
    site.write("tasks/db.yml", "- set_fact: picked=db\n")
    site.run(play("""
        - include_tasks: "tasks/{{ group_names[0] }}.yml"
        - copy: dest={{ root }}/picked content={{ picked }}
    """))
    assert [site.read(h, "picked") for h in ("h1", "h2", "h3")] == ["web", "web", "db"]
