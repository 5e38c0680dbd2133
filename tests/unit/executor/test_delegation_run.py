"""delegate_to beyond the comparison with Ansible (test_delegation.py): a delegated host that
cannot be reached, delegation to an address a host sent, check mode, the report and terminal."""

from __future__ import annotations

from tests.unit.executor.conftest import Site, play

UNREACHABLE = {"ansible_connection": "ssh", "ansible_host": "127.0.0.1", "ansible_port": 1}


def test_unreachable_delegated_host_fails_the_delegating_host_only(site: Site) -> None:
    """As Ansible: the task is unreachable for the host that delegated (naming the delegated
    host); the delegated host itself is not marked unreachable, other hosts go on."""
    site.host_vars["h3"] = UNREACHABLE
    run = site.run(play("""
        - name: delegated
          command: "true"
          delegate_to: h3
          when: inventory_hostname == 'h1'
        - name: after
          command: "true"
    """, hosts="web") + play("""
        - name: on h3 itself
          command: "true"
    """, hosts="h3"))
    result = run.result("h1", "delegated")
    assert result.status == "unreachable"
    assert result.msg.startswith("delegated host h3: ")
    assert result.delegated_to == "h3"
    assert run.tasks("h1") == ["delegated"]  # h1 is out of the play, as an unreachable host
    assert run.status("h2", "after") == "changed"
    assert run.status("h3", "on h3 itself") == "unreachable"  # tried: not marked dead by h1's task
    assert not run.report.host("h2").unreachable


def test_delegate_to_an_address_a_host_sent_is_refused(site: Site) -> None:
    """A name from a registered result is accepted only when it names an inventory host."""
    run = site.run(play("""
        - name: names
          shell: echo h3; echo elsewhere.example
          register: names
          changed_when: false
        - name: inventory host
          command: "true"
          delegate_to: "{{ names.stdout_lines[0] }}"
        - name: other address
          command: "true"
          delegate_to: "{{ names.stdout_lines[1] }}"
    """, hosts="h1"))
    assert run.status("h1", "inventory host") == "changed"
    result = run.result("h1", "other address")
    assert result.status == "failed"
    assert "delegate_to 'elsewhere.example' comes from data a host sent" in result.msg


def test_delegated_task_in_check_mode_changes_nothing(site: Site) -> None:
    run = site.run(play("""
        - name: delegated copy
          copy:
            content: "x\\n"
            dest: "{{ root }}/delegated"
          delegate_to: h3
    """, hosts="h1"), check=True)
    assert run.status("h1", "delegated copy") == "changed"
    assert not site.exists("h1", "delegated")


def test_local_action_forms_and_terminal(site: Site) -> None:
    site.playbook(play("""
        - name: mapping form
          local_action:
            module: copy
            content: "y\\n"
            dest: "{{ root }}/local"
        - name: string form
          local_action: command true
        - name: per item
          command: "true"
          delegate_to: "{{ item }}"
          loop: [h2]
    """, hosts="h1"))
    out = site.cli("apply", "-i", "inventory.yml", "site.yml", "--persist", "0")
    assert out.exit_code == 0, out.output
    assert site.read("h1", "local") == "y\n"
    assert "[h1 -> localhost]" in out.stdout
    assert "[h1 -> h2] => (item=h2)" in out.stdout


def test_role_keyword_delegates_the_role_tasks(site: Site) -> None:
    site.write("roles/r/tasks/main.yml", """
        - name: in role
          command: "true"
    """)
    run = site.run("""
        - hosts: h1
          gather_facts: false
          roles:
            - role: r
              delegate_to: h2
    """)
    assert run.result("h1", "r : in role").delegated_to == "h2"


def test_a_delegated_change_notifies_the_original_hosts_handler(site: Site) -> None:
    run = site.run("""
        - hosts: h1
          gather_facts: false
          tasks:
            - name: delegated change
              command: "true"
              delegate_to: h3
              notify: handled
          handlers:
            - name: handled
              copy:
                content: "{{ inventory_hostname }}\\n"
                dest: "{{ root }}/handled"
    """)
    assert run.exit_code == 0
    assert run.status("h1", "handled") == "changed"
    assert site.read("h1", "handled") == "h1\n"
    assert run.report.host("h1").pending_handlers == []


def test_bad_connection_settings_of_the_delegated_host_fail_the_task(site: Site) -> None:
    """The play's hosts are checked before anything connects; a delegated host's settings when
    a task first needs them: that task fails, naming the host and variable, the run goes on."""
    site.host_vars["h3"] = {"ansible_connection": "ssh", "ansible_port": "notanumber"}
    run = site.run(play("""
        - name: delegated
          command: "true"
          delegate_to: h3
          ignore_errors: true
        - name: after
          command: "true"
    """, hosts="h1"))
    result = run.result("h1", "delegated")
    assert result.status == "failed" and result.ignored
    assert "host h3: ansible_port: a number from 1 to 65535 expected" in result.msg
    assert run.status("h1", "after") == "changed"
