"""A task that never runs must not stop the run (issue 15, item 1).

A module Ansible has and fleet cannot run (an action plugin fleet lacks, a Windows module,
any of Ansible's modules without ansible-core) and a parameter fleet's native module lacks but
Ansible's documents are preflight warnings naming file:line, and a failed task on a host that
reaches the task; names Ansible does not know either stay preflight errors with did-you-mean.
A reached native task with such a parameter runs Ansible's own module code.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from fleet import api
from fleet.bridge import AnsibleMissing, Bridge
from fleet.errors import InputError
from tests.conftest import require
from tests.unit.executor.conftest import Site, play

NEVER_REACHED = """
- name: RedHat only
  yum: {name: httpd, enablerepo: epel}
  when: ansible_os_family == 'RedHat'
- name: disabled
  assemble: {src: "{{ root }}/parts", dest: "{{ root }}/joined"}
  when: false
- name: windows part
  ansible.windows.win_ping: {}
  when: false
- name: real
  copy: {content: "real\\n", dest: "{{ root }}/real"}
"""


@pytest.fixture(autouse=True)
def ansible_installed() -> None:
    require(importlib.util.find_spec("ansible") is not None, "ansible-core is not installed (pip install '.[test]')")
    require(importlib.util.find_spec("ansible_collections.ansible.windows") is not None,
            "the 'ansible' package (collections) is not installed (pip install '.[test]')")


def _warnings(prepared: api.Prepared, text: str) -> list[str]:
    return [w for w in prepared.options.warnings if text in w]


def test_tasks_no_host_reaches_warn_and_the_run_passes(site: Site) -> None:
    site.group_vars["all"] = {"ansible_os_family": "Debian"}
    prepared = site.prepare(play(NEVER_REACHED, hosts="web"))
    playbook = site.dir / "site.yml"
    (assemble,) = _warnings(prepared, "'assemble'")
    assert assemble.startswith(f"{playbook}:7: task 'disabled': module 'assemble': ")
    assert "action plugin ansible.builtin.assemble" in assemble and "fails on a host that reaches it" in assemble
    (yum,) = _warnings(prepared, "'yum'")
    assert yum.startswith(f"{playbook}:4: task 'RedHat only': ") and "action plugin" in yum
    (windows,) = _warnings(prepared, "win_ping")
    assert windows.startswith(f"{playbook}:10: ") and "PowerShell" in windows
    run = site.run()
    assert run.exit_code == 0
    assert run.statuses("h1") == [("RedHat only", "skipped"), ("disabled", "skipped"), ("windows part", "skipped"),
                                  ("real", "changed")]
    assert site.read("h2", "real") == "real\n"


def test_a_reached_task_fails_only_on_that_host(site: Site) -> None:
    site.host_vars["h2"] = {"redhat": True}
    run = site.run(play("""
        - name: only h2 reaches it
          assemble: {src: "{{ root }}/parts", dest: "{{ root }}/joined"}
          when: redhat | default(false)
        - name: after
          copy: {content: "after\\n", dest: "{{ root }}/after"}
        """, hosts="web"))
    assert run.exit_code != 0
    assert run.statuses("h1") == [("only h2 reaches it", "skipped"), ("after", "changed")]
    failed = run.result("h2", "only h2 reaches it")
    assert failed.status == "failed" and "action plugin ansible.builtin.assemble" in failed.msg
    assert run.tasks("h2") == ["only h2 reaches it"]  # the host stops at its failure, as in Ansible
    assert site.exists("h1", "after") and not site.exists("h2", "after")


@pytest.mark.parametrize(("task", "expected"), [
    ("assembel: {src: a, dest: b}", "unknown module 'assembel' (did you mean 'assemble'"),
    ("user: {name: x, generate_ssh_kye: true}", "module user has no parameter 'generate_ssh_kye' (did you mean"),
    ("copy: {dest: /x, content: y, frobnicate: 1}", "module copy has no parameter 'frobnicate'"),
])
def test_names_ansible_does_not_know_either_stay_preflight_errors(site: Site, task: str, expected: str) -> None:
    error = site.input_error(play(f"- name: t\n  {task}\n  when: false\n"))
    assert expected in str(error) and f"{site.dir / 'site.yml'}:4" in str(error)


def test_a_parameter_only_ansibles_action_plugin_has_warns_and_fails_where_reached(site: Site) -> None:
    text = play("""
        - name: follow
          copy: {content: "x\\n", dest: "{{ root }}/x", local_follow: false}
          when: inventory_hostname == 'h1'
        """, hosts="web")
    prepared = site.prepare(text)
    (warning,) = _warnings(prepared, "local_follow")
    assert warning.startswith(f"{site.dir / 'site.yml'}:4: task 'follow': fleet's module copy does not "
                              "implement 'local_follow' (Ansible documents it)")
    run = site.run()
    assert run.status("h2", "follow") == "skipped"
    failed = run.result("h1", "follow")
    assert failed.status == "failed" and "'local_follow'" in failed.msg and "action plugin ansible.builtin.copy" in failed.msg
    assert not site.exists("h1", "x")


def _ansible_user(tmp_path: Path, args: str) -> dict:
    """What ansible-playbook registers for the same user task (check mode, local)."""
    playbook = tmp_path / "ansible.yml"
    playbook.write_text("- hosts: localhost\n  gather_facts: false\n  tasks:\n"
                        f"    - user: {args}\n      register: out\n      check_mode: true\n"
                        "    - copy: {content: '{{ out | to_json }}', dest: " + str(tmp_path / "out.json") + "}\n")
    env = {"ANSIBLE_HOME": str(tmp_path / "ah"), "ANSIBLE_LOCAL_TEMP": str(tmp_path / "al"),
           "ANSIBLE_REMOTE_TMP": str(tmp_path / "ar"), "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
    done = subprocess.run([str(Path(sys.executable).with_name("ansible-playbook")), "-i", "localhost,", "-c", "local",
                           "-e", f"ansible_python_interpreter={sys.executable}", str(playbook)],
                          capture_output=True, text=True, env=env, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads((tmp_path / "out.json").read_text())


def test_a_native_module_with_a_parameter_only_ansibles_has_runs_through_the_bridge(site: Site, tmp_path: Path) -> None:
    args = "{name: root, generate_ssh_key: true, ssh_key_comment: fleet-test}"
    text = play(f"- name: key\n  user: {args}\n  register: out\n", hosts="h1")
    prepared = site.prepare(text)
    assert not _warnings(prepared, "generate_ssh_key")
    run = site.run(check=True)
    result = run.result("h1", "key")
    assert result.via == "ansible" and result.fqcn == "ansible.builtin.user", result
    (tmp_path / "ansible").mkdir()
    theirs = _ansible_user(tmp_path / "ansible", args)
    assert result.status == ("changed" if theirs["changed"] else "ok")
    print(result.data)
    assert {k: v for k, v in result.data.items() if k != "invocation"} == {
        k: v for k, v in theirs.items() if k != "invocation"}


def test_without_ansible_core_ansibles_names_are_warnings(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    made = api.make_bridge

    def hidden(*args: object, **kwargs: object) -> Bridge:
        bridge = made(*args, **kwargs)  # type: ignore[arg-type]
        bridge._missing = AnsibleMissing("hidden")
        return bridge

    monkeypatch.setattr(api, "make_bridge", hidden)
    prepared = site.prepare(play("""
        - name: builtin
          ansible.builtin.unarchive: {src: a, dest: b}
          when: false
        - name: collection
          community.general.ufw: {rule: allow}
          when: false
        - name: routed short name
          ufw: {rule: allow}
          when: false
        - name: native with Ansible's parameter
          user: {name: x, generate_ssh_key: true}
          when: false
        """))
    for name in ("'ansible.builtin.unarchive'", "'community.general.ufw'", "'ufw'", "'generate_ssh_key'"):
        (warning,) = _warnings(prepared, name)
        assert "ansible-core is not installed" in warning and "pip install 'fleet[ansible]'" in warning
    assert "unknown module 'unarchve'" in str(site.input_error(play("- unarchve: {src: a, dest: b}\n  when: false\n")))


def test_a_role_part_for_another_distribution_is_skipped(site: Site) -> None:
    """``import_tasks`` under a false condition, as roles split per OS family; ``include_tasks``
    of such a file is loaded at run time and is never reached either."""
    site.group_vars["all"] = {"ansible_os_family": "Debian"}
    site.write("roles/ntp/tasks/main.yml", """
        - import_tasks: redhat.yml
          when: ansible_os_family == 'RedHat'
        - include_tasks: redhat.yml
          when: ansible_os_family == 'RedHat'
        - name: debian part
          copy: {content: "debian\\n", dest: "{{ root }}/ntp"}
        """)
    site.write("roles/ntp/tasks/redhat.yml", """
        - name: chrony from epel
          package: {name: chrony, enablerepo: epel, disable_gpg_check: true}
        - name: selinux boolean
          ansible.posix.seboolean: {name: ntp_disable_trans, state: true}
        - name: unpack keys
          unarchive: {src: keys.tgz, dest: /etc/chrony}
        """)
    prepared = site.prepare("- hosts: h1\n  gather_facts: false\n  roles: [ntp]\n")
    (unarchive,) = _warnings(prepared, "'unarchive'")
    assert unarchive.startswith(f"{site.dir / 'roles/ntp/tasks/redhat.yml'}:5: task 'ntp : unpack keys': ")
    run = site.run()
    assert run.exit_code == 0
    assert [status for _, status in run.statuses("h1")] == ["skipped", "skipped", "skipped", "skipped", "changed"]
    assert site.read("h1", "ntp") == "debian\n"


def _ansible_adhoc(tmp_path: Path, module: str, args: str) -> dict:
    """``ansible localhost -m MODULE -a ARGS --check`` (local connection): its one result."""
    env = {"ANSIBLE_HOME": str(tmp_path / "ah"), "ANSIBLE_LOCAL_TEMP": str(tmp_path / "al"),
           "ANSIBLE_REMOTE_TMP": str(tmp_path / "ar"), "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1",
           "ANSIBLE_STDOUT_CALLBACK": "json", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
    done = subprocess.run([str(Path(sys.executable).with_name("ansible")), "localhost", "-c", "local", "--check",
                           "-e", f"ansible_python_interpreter={sys.executable}", "-m", module, "-a", args],
                          capture_output=True, text=True, env=env, timeout=300, check=False)
    return json.loads(done.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"]


def test_package_with_a_dnf_option_fails_on_a_debian_host_as_in_ansible(site: Site, tmp_path: Path) -> None:
    require(Path("/usr/bin/apt-get").exists(), "needs a Debian host (apt) to hand package to apt")
    theirs = _ansible_adhoc(tmp_path, "package", "name=chrony enablerepo=epel")
    run = site.run(play("- name: p\n  package: {name: chrony, enablerepo: epel}\n", hosts="h1"), check=True)
    result = run.result("h1", "p")
    assert result.status == "failed" and theirs["failed"]
    assert result.msg == theirs["msg"]  # "Unsupported parameters for (ansible.legacy.apt) module: enablerepo. ..."


def test_a_value_only_ansibles_module_takes_routes_the_task_to_it(site: Site) -> None:
    """An apt name wildcard (``hel?o``): fleet's apt refuses it, Ansible's apt takes it, so the
    task runs Ansible's module code; a task never reached does not stop the run either."""
    from fleet.executor.play import PlayRunner

    prepared = site.prepare(play("""
        - name: wildcard
          apt: {name: "hel?o", state: present}
          when: false
        - name: plain
          apt: {name: hello, state: present}
          when: false
        """, hosts="h1"))
    runner = PlayRunner(prepared.state(), prepared.playbook.plays[0])
    tasks = {t.name: t for t in prepared.playbook.plays[0].tasks if t.module == "apt"}
    routed = runner.executor.routes.route(tasks["wildcard"])
    assert routed.module is not None and routed.module.fqcn.endswith(".apt") and not routed.failure
    assert runner.executor.routes.route(tasks["plain"]).module is None  # fleet's own apt
    assert site.run().exit_code == 0


@pytest.mark.parametrize("args", ['{pkg: "*,test", state: latest}', "{name: hello, state: build-dep}",
                                  "{name: hello, state: fixed}"])
def test_values_only_ansibles_apt_takes_route_to_it(site: Site, args: str) -> None:
    """The apt target's "*" (every package) and the states build-dep and fixed."""
    from fleet.executor.play import PlayRunner

    prepared = site.prepare(play(f"""
        - name: t
          apt: {args}
          when: false
        """, hosts="h1"))
    runner = PlayRunner(prepared.state(), prepared.playbook.plays[0])
    task = next(t for t in prepared.playbook.plays[0].tasks if t.module == "apt")
    routed = runner.executor.routes.route(task)
    assert routed.module is not None and routed.module.fqcn.endswith(".apt") and not routed.failure


def test_a_route_belongs_to_its_task_not_to_a_reused_id(site: Site) -> None:
    """Included tasks come and go, and Python reuses a freed object's id: a lineinfile task
    once ran as Ansible's apt (geerlingguy.security) because a freed bridged apt task had had
    its id. A route is kept with its task, so the id of a live task is never reused."""
    import gc

    from fleet.executor.play import PlayRunner

    prepared = site.prepare(play("""
        - name: bridged apt
          apt: {name: hello, policy_rc_d: 101}
          when: false
        - name: native lineinfile
          lineinfile: {path: /tmp/x, line: y}
          when: false
        """, hosts="h1"))
    runner = PlayRunner(prepared.state(), prepared.playbook.plays[0])
    routes = runner.executor.routes
    tasks = {t.name: t for t in prepared.playbook.plays[0].tasks if t.module in ("apt", "lineinfile")}
    first = dataclasses.replace(tasks["bridged apt"])
    assert routes.route(first).module is not None
    stale = id(first)
    del first
    gc.collect()
    assert any(id(task) == stale for task in routes._routes.values() for task in task[:1])  # held, not freed
    later = tasks["native lineinfile"]
    routes._routes[id(later)] = routes._routes[stale]  # as if the freed apt task's id came back
    assert routes.route(later).module is None  # fleet's own lineinfile, not Ansible's apt


def test_rules_between_parameters_are_those_of_the_module_that_runs(site: Site) -> None:
    """``apt: deb=...`` (no name): fleet's apt needs a name, update_cache or autoremove, but
    Ansible's apt runs the task and takes deb alone (the apt target); fleet's rule between
    parameters does not stop it, while one for a task fleet's module runs still does."""
    prepared = site.prepare(play("""
        - name: install deb file
          apt: deb="/var/cache/apt/archives/hello_1_amd64.deb"
          when: false
        """, hosts="h1"))
    assert prepared.playbook.plays[0].tasks
    with pytest.raises(InputError, match="one of the following is required: name, update_cache, autoremove"):
        site.prepare(play("""
            - apt: {state: present}
              when: false
            """, hosts="h1"))


def test_a_parameter_ansible_removed_fails_only_where_reached(site: Site) -> None:
    """command's ``warn`` (removed in ansible-core 2.14; cloudalchemy.node_exporter still writes
    it behind a condition): a warning, then Ansible's failure on a host that reaches the task."""
    run = site.run(play("""
        - name: never reached
          command: /bin/true
          args: {warn: false}
          when: false
        - name: reached
          command: /bin/true
          args: {warn: false}
          ignore_errors: true
        """, hosts="h1"))
    assert run.statuses("h1") == [("never reached", "skipped"), ("reached", "failed")]
    assert "Unsupported parameters for (ansible.legacy.command) module: warn" in run.result("h1", "reached").msg
    with pytest.raises(InputError, match="has no parameter 'wran'"):  # a typo stays a preflight error
        site.run(play("""
            - name: a typo
              command: /bin/true
              args: {wran: false}
              when: false
            """, hosts="h1"))


def test_a_command_ansibles_module_fails_runs_there_and_fails_as_there(site: Site) -> None:
    """command with no command, or with both a command line and argv: Ansible's module fails
    the task where it runs (the command_shell target asserts on it), not a preflight error."""
    run = site.run(play("""
        - name: no command
          command:
          args: {chdir: /}
          ignore_errors: true
        - name: both
          command: {cmd: echo a, argv: [echo, b]}
          ignore_errors: true
        """, hosts="h1"))
    assert run.statuses("h1") == [("no command", "failed"), ("both", "failed")]
    nothing = run.result("h1", "no command")
    assert nothing.msg == "no command given" and nothing.data["rc"] == 256
    assert run.result("h1", "both").msg == "only command or argv can be given, not both"


def test_a_parameter_ansibles_action_refuses_fails_with_its_words_where_reached(site: Site) -> None:
    """shell's expand_argument_vars (command's; Ansible's shell refuses it, the command_shell
    target asserts on the message); command's own bool "creates: yes" is Ansible's text "True"."""
    run = site.run(play("""
        - name: refused
          shell: echo hi
          args: {expand_argument_vars: false}
          ignore_errors: true
        - name: creates as text
          command: {cmd: "true", creates: yes}
          check_mode: true
        """, hosts="h1"))
    assert run.statuses("h1") == [("refused", "failed"), ("creates as text", "changed")]
    assert run.result("h1", "refused").msg == "Unsupported parameters for (shell) module: expand_argument_vars"


def test_a_task_failed_before_it_was_sent_is_registered_as_ansible_registers_it(site: Site) -> None:
    """package with ansible_package_use naming no manager (the package target): the failed
    result is registered, with Ansible's message, so a later assert reads it."""
    run = site.run(play("""
        - name: lola
          package: {name: doesnotmatter}
          vars: {ansible_package_use: lola}
          ignore_errors: true
          register: use_to_use
        - name: check
          assert:
            that:
              - use_to_use is failed
              - "'Could not find a matching action' in use_to_use['msg']"
        """, hosts="h1"))
    assert run.statuses("h1") == [("lola", "failed"), ("check", "ok")]
    assert run.result("h1", "lola").msg == 'Could not find a matching action for the "lola" package manager.'
