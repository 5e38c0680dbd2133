"""Plays: keywords, vars and vars_files layers, import_playbook, and Ansible documentation examples
loading unchanged."""

from __future__ import annotations

from pathlib import Path

from fleet.errors import Location
from fleet.playbook.models import Block

from .conftest import Load, body, flat, names


def test_play_keywords(load: Load, tmp_path: Path) -> None:
    pb = load({"site.yml": """
    - name: Configure
      hosts: [web, db]
      gather_facts: false
      become: yes
      become_user: admin
      become_method: sudo
      serial: [1, "30%", 5]
      max_fail_percentage: 25
      any_errors_fatal: true
      strategy: free
      tags: [deploy]
      check_mode: false
      diff: true
      no_log: true
      ignore_errors: true
      environment: {LANG: C}
      order: inventory
      remote_user: deploy
      connection: local
      tasks:
        - ping:
    """})
    assert pb.path == tmp_path / "site.yml" and pb.base_dir == tmp_path
    play = pb.plays[0]
    assert play.name == "Configure" and play.hosts == "web,db"
    assert play.location == Location(str(tmp_path / "site.yml"), 1)
    assert play.gather_facts is False
    assert (play.become, play.become_user) == (True, "admin")
    assert play.serial == [1, "30%", 5] and play.max_fail_percentage == 25.0
    assert play.any_errors_fatal is True and play.strategy == "free"
    assert play.tags == {"deploy"} and (play.check_mode, play.diff) == (False, True)
    assert (play.remote_user, play.connection) == ("deploy", "local")
    assert play.base_dir == tmp_path
    (task,) = body(pb)
    assert task.tags == {"deploy"} and task.become is True and task.become_user == "admin"
    assert task.no_log is True and task.ignore_errors is True and task.any_errors_fatal is True
    assert task.environment == ({"LANG": "C"},) and (task.check_mode, task.diff) == (False, True)


def test_play_defaults(load: Load) -> None:
    play = load({"site.yml": "- hosts: all\n"}).plays[0]
    assert play.gather_facts is None and play.serial == []  # not said: ansible.cfg's gathering decides and play.strategy == "linear"
    assert play.become is None and play.any_errors_fatal is False and play.name == ""
    assert play.max_fail_percentage is None and play.vars_layers == ()
    assert names(play.tasks) == ["flush", "flush", "flush"]


def test_serial_scalar(load: Load) -> None:
    assert load({"site.yml": "- hosts: all\n  serial: 2\n"}).plays[0].serial == [2]
    assert load({"site.yml": "- hosts: all\n  serial: '50%'\n"}).plays[0].serial == ["50%"]


def test_vars_and_vars_files(load: Load, tmp_path: Path) -> None:
    pb = load({
        "site.yml": """
        - hosts: all
          vars:
            a: 1
            b: "{{ a }}"
          vars_files:
            - vars/common.yml
            - vars/empty.yml
        - hosts: all
          vars:
            - {x: 1, y: 1}
            - {y: 2}
        """,
        "vars/common.yml": "c: 3\n",
        "vars/empty.yml": "",
    })
    first, second = pb.plays
    assert [(lay.kind, lay.source, dict(lay.values)) for lay in first.vars_layers] == [
        ("play vars", f"{tmp_path / 'site.yml'}:3", {"a": 1, "b": "{{ a }}"}),
        ("play vars_files", str(tmp_path / "vars/common.yml"), {"c": 3}),
        ("play vars_files", str(tmp_path / "vars/empty.yml"), {}),
    ]
    assert [dict(lay.values) for lay in second.vars_layers] == [{"x": 1, "y": 2}]


def test_import_playbook(load: Load, tmp_path: Path) -> None:
    pb = load({
        "site.yml": """
        - hosts: all
          tasks: [{name: first, ping: }]
        - import_playbook: sub/web.yml
          vars: {v: import}
          tags: web
          when: enabled
        - ansible.builtin.import_playbook: last.yml
        """,
        "sub/web.yml": """
        - hosts: web
          vars: {v: own}
          roles: [r]
          tasks:
            - name: web task
              ping:
        """,
        "sub/roles/r/tasks/main.yml": "- name: role task\n  ping:\n",
        "last.yml": "- hosts: db\n",
    })
    assert [p.hosts for p in pb.plays] == ["all", "web", "db"]
    web = pb.plays[1]
    assert web.tags == {"web"} and web.base_dir == tmp_path / "sub"
    assert [(lay.kind, dict(lay.values)) for lay in web.vars_layers] == [
        ("role defaults", {}), ("play vars", {"v": "own"}), ("play vars", {"v": "import"}),
        ("role vars", {})]
    tasks = body(pb, 1)
    assert [t.display_name for t in tasks] == ["r : role task", "web task"]
    assert all(t.when == ["enabled"] and t.tags == {"web"} for t in tasks)
    assert tasks[1].location == Location(str(tmp_path / "sub/web.yml"), 5)
    assert pb.plays[2].tags == frozenset()


# The "Block error handling example" of Ansible's playbooks_blocks documentation, unchanged.
BLOCKS_EXAMPLE = """
- name: Attempt and graceful roll back demo
  hosts: all
  tasks:
    - name: Handle the error
      block:
        - name: Print a message
          ansible.builtin.debug:
            msg: 'I execute normally'

        - name: Force a failure
          ansible.builtin.command: /bin/false

        - name: Never print this
          ansible.builtin.debug:
            msg: 'I never execute, due to the above task failing, :-('
      rescue:
        - name: Print when errors
          ansible.builtin.debug:
            msg: 'I caught an error, can do stuff here to fix it, :-)'
      always:
        - name: Always do this
          ansible.builtin.debug:
            msg: "This always executes, :-)"

    - name: Install, configure, and start Apache
      block:
        - name: Install httpd and memcached
          ansible.builtin.yum:
            name:
            - httpd
            - memcached
            state: present

        - name: Apply the foo config template
          ansible.builtin.template:
            src: templates/src.j2
            dest: /etc/foo.conf

        - name: Start service bar and enable it
          ansible.builtin.service:
            name: bar
            state: started
            enabled: True
      when: ansible_facts['distribution'] == 'CentOS'
      become: true
      become_user: root
      ignore_errors: true
"""


def test_ansible_blocks_example(load: Load) -> None:
    pb = load({"site.yml": BLOCKS_EXAMPLE})
    handle, apache = (item for item in pb.plays[0].tasks if isinstance(item, Block))
    assert handle.name == "Handle the error"
    assert [t.name for t in flat(handle.block)] == [
        "Print a message", "Force a failure", "Never print this"]
    assert flat(handle.block)[1].args == {"cmd": "/bin/false"}
    assert [t.name for t in flat(handle.rescue)] == ["Print when errors"]
    assert [t.name for t in flat(handle.always)] == ["Always do this"]
    for task in flat(apache.block):
        assert task.when == ["ansible_facts['distribution'] == 'CentOS'"]
        assert (task.become, task.become_user, task.ignore_errors) == (True, "root", True)
    assert flat(apache.block)[0].args == {"name": ["httpd", "memcached"], "state": "present"}


# The handler example of Ansible's playbooks_handlers documentation, unchanged.
HANDLERS_EXAMPLE = """
---
- name: Verify apache installation
  hosts: webservers
  vars:
    http_port: 80
    max_clients: 200
  remote_user: root
  tasks:
    - name: Ensure apache is at the latest version
      ansible.builtin.yum:
        name: httpd
        state: latest

    - name: Write the apache config file
      ansible.builtin.template:
        src: /srv/httpd.j2
        dest: /etc/httpd.conf
      notify:
        - Restart apache

    - name: Ensure apache is running
      ansible.builtin.service:
        name: httpd
        state: started

  handlers:
    - name: Restart apache
      ansible.builtin.service:
        name: httpd
        state: restarted
"""


def test_ansible_handlers_example(load: Load) -> None:
    play = load({"site.yml": HANDLERS_EXAMPLE}).plays[0]
    assert play.hosts == "webservers" and play.remote_user == "root"
    assert dict(play.vars_layers[0].values) == {"http_port": 80, "max_clients": 200}
    assert names(play.tasks) == [
        "flush", "Ensure apache is at the latest version", "Write the apache config file",
        "Ensure apache is running", "flush", "flush"]
    assert flat(play.tasks)[2].notify == ["Restart apache"]
    (handler,) = play.handlers
    assert handler.name == "Restart apache" and handler.module == "service"


# Old-style (but still valid) Ansible: k=v everywhere, with_items, notify as a string.
OLD_STYLE = """
- hosts: localhost
  connection: local
  gather_facts: no
  tasks:
    - name: packages
      apt: name={{ item }} state=present
      with_items:
        - git
        - curl
    - name: marker
      shell: date > /tmp/marker creates=/tmp/marker
      notify: done
    - debug: msg="{{ ansible_hostname }} is done"
  handlers:
    - name: done
      debug: msg=finished
"""


def test_old_style_playbook(load: Load) -> None:
    play = load({"site.yml": OLD_STYLE}).plays[0]
    packages, marker, debug = body(load({"site.yml": OLD_STYLE}))
    assert packages.args == {"name": "{{ item }}", "state": "present"}
    assert (packages.loop, packages.loop_kind) == (["git", "curl"], "items")
    assert marker.args == {"cmd": "date > /tmp/marker", "creates": "/tmp/marker"}
    assert marker.notify == ["done"]
    assert debug.args == {"msg": "{{ ansible_hostname }} is done"}
    assert play.connection == "local" and play.gather_facts is False
