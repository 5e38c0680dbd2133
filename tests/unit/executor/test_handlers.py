"""Handlers: notified on change only, once, in definition order, listen, flush_handlers, failures."""

from __future__ import annotations

from tests.unit.executor.conftest import Site, play

HANDLERS = """
  handlers:
    - name: first
      shell: echo first >> {{ root }}/handlers
    - name: second
      shell: echo second >> {{ root }}/handlers
    - name: on topic
      shell: echo topic >> {{ root }}/handlers
      listen: restart stack
"""


def _play(tasks: str, hosts: str = "all") -> str:
    return play(tasks, hosts=hosts) + HANDLERS


def test_handlers_run_once_at_end_in_definition_order_only_when_changed(site: Site) -> None:
    (site.dir / "hosts/h2").mkdir(parents=True)
    (site.dir / "hosts/h2/conf").write_text("same")
    run = site.run(_play("""
        - copy: dest={{ root }}/conf content=same
          notify: [second, first]
        - copy: dest={{ root }}/other content=x
          notify: second
          when: inventory_hostname == 'h1'
        - shell: echo task >> {{ root }}/handlers
    """))
    assert site.read("h1", "handlers").split() == ["task", "first", "second"]
    assert site.read("h2", "handlers").split() == ["task"]  # nothing changed: nothing notified
    assert [r.task for r in run.results("h1") if r.handler] == ["first", "second"]


def test_listen_topic_and_notify_by_name(site: Site) -> None:
    site.run(_play("""
        - command: /bin/true
          notify: restart stack
    """, hosts="h1"))
    assert site.read("h1", "handlers").split() == ["topic"]


def test_flush_handlers_mid_play_then_again_at_end(site: Site) -> None:
    site.run(_play("""
        - command: /bin/true
          notify: first
        - meta: flush_handlers
        - shell: echo middle >> {{ root }}/handlers
          notify: [first, second]
    """, hosts="h1"))
    assert site.read("h1", "handlers").split() == ["first", "middle", "first", "second"]


def test_handler_not_run_for_failed_host(site: Site) -> None:
    run = site.run(_play("""
        - command: /bin/true
          notify: first
        - command: "false"
          when: inventory_hostname == 'h2'
    """))
    assert site.read("h1", "handlers").split() == ["first"]
    assert not site.exists("h2", "handlers")
    assert run.exit_code == 1


def test_failed_task_does_not_notify(site: Site) -> None:
    site.run(_play("""
        - command: "false"
          notify: first
          ignore_errors: true
    """, hosts="h1"))
    assert not site.exists("h1", "handlers")


def test_handlers_run_despite_tags(site: Site) -> None:
    site.run(_play("""
        - command: /bin/true
          notify: first
          tags: [config]
        - command: /bin/true
          notify: second
    """, hosts="h1"), tags=frozenset({"config"}))
    assert site.read("h1", "handlers").split() == ["first"]


def test_handler_notifying_another_handler(site: Site) -> None:
    site.run(play("""
        - command: /bin/true
          notify: a
    """, hosts="h1") + """
  handlers:
    - name: a
      shell: echo a >> {{ root }}/handlers
      notify: b
    - name: b
      shell: echo b >> {{ root }}/handlers
""")
    assert site.read("h1", "handlers").split() == ["a", "b"]


def test_notify_from_role_handler_and_role_prefixed_name(site: Site) -> None:
    site.write("roles/web/tasks/main.yml", """
        - name: configure
          copy: dest={{ root }}/web.conf content=web
          notify: restart web
    """)
    site.write("roles/web/handlers/main.yml", """
        - name: restart web
          shell: echo restarted >> {{ root }}/handlers
          notify: reload proxy
        - name: reload proxy
          shell: echo proxy >> {{ root }}/handlers
    """)
    run = site.run("""
        - hosts: h1
          gather_facts: false
          roles: [web]
          tasks:
            - command: /bin/true
              notify: "web : restart web"
    """)
    assert site.read("h1", "handlers").split() == ["restarted", "proxy"]
    assert "web : restart web" in run.tasks("h1")


def test_handler_failure_fails_host(site: Site) -> None:
    run = site.run(play("""
        - command: /bin/true
          notify: bad
    """, hosts="h1") + """
  handlers:
    - name: bad
      command: "false"
""")
    assert run.exit_code == 1
    assert run.json["hosts"]["h1"]["status"] == "failed"


def test_templated_notify_per_changed_item(site: Site) -> None:
    site.run(play("""
        - copy: dest={{ root }}/{{ item }} content=x
          loop: [a, b]
          notify: "restart {{ item }}"
          when: item == 'b' or inventory_hostname == 'h1'
    """, hosts="web") + """
  handlers:
    - name: restart a
      shell: echo a >> {{ root }}/handlers
    - name: restart b
      shell: echo b >> {{ root }}/handlers
""")
    assert site.read("h1", "handlers").split() == ["a", "b"]
    assert site.read("h2", "handlers").split() == ["b"]


def test_notify_a_handler_of_an_included_role(site: Site) -> None:
    site.write("roles/svc/tasks/main.yml", "- debug: msg=svc\n")
    site.write("roles/svc/handlers/main.yml", """
        - name: restart svc
          shell: echo svc >> {{ root }}/handlers
          listen: svc topic
    """)
    site.run(play("""
        - include_role: {name: svc}
        - command: /bin/true
          notify: [restart svc, svc topic]
    """, hosts="h1"))
    assert site.read("h1", "handlers").split() == ["svc"]
    (site.root("h1") / "handlers").unlink()
    error = site.input_error(play("- include_role: {name: svc}\n- command: /bin/true\n  notify: restart svcc\n"))
    assert "restart svcc" in str(error)


def test_a_later_handler_with_the_same_name_shadows_the_earlier_one(site: Site) -> None:
    site.run(play("""
        - command: /bin/true
          notify: dup
    """, hosts="h1") + """
  handlers:
    - name: dup
      shell: echo first >> {{ root }}/handlers
    - name: dup
      shell: echo second >> {{ root }}/handlers
    - name: listener
      shell: echo listener >> {{ root }}/handlers
      listen: dup
""")
    assert site.read("h1", "handlers").split() == ["second", "listener"]
