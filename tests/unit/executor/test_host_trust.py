"""What fleet takes from a host: cleaned facts, only from modules that declare them, never
connection settings; registered results and loop items are data (local-connection runs)."""

from __future__ import annotations

import pytest

from fleet.errors import ConnectionFailed
from fleet.executor.hosttrust import ConnectionVars, accepted_facts, restricted_fact
from fleet.templating import Templar, UnsafeText, wrap
from fleet.vars import HostVars, Layer


@pytest.mark.parametrize("name", [
    "ansible_connection", "connection", "ansible_host", "host", "ansible_user", "ansible_port",
    "ansible_password", "ansible_ssh_pass", "ansible_ssh_common_args", "ssh_extra_args",
    "ansible_become", "ansible_become_user", "become_password", "ansible_python_interpreter",
    "ansible_private_key_file", "ansible_docker_extra_args", "ansible_facts", "ansible_host_key_checking",
])
def test_restricted_fact_names(name: str) -> None:
    assert restricted_fact(name)


@pytest.mark.parametrize("name", ["ansible_hostname", "distribution", "ansible_ssh_host_key_ed25519_public",
                                  "ansible_default_ipv4", "docker0", "ansible_user_id"])
def test_ordinary_fact_names(name: str) -> None:
    assert not restricted_fact(name)


def test_accepted_facts_drop_restricted_keys_with_a_warning() -> None:
    warnings: list[str] = []
    kept = accepted_facts({"ansible_connection": "local", "ansible_hostname": "web1"}, "setup", True, warnings)
    assert kept == {"ansible_hostname": "web1"}
    assert warnings == ["Removed restricted key from module data: 'ansible_connection'"]


def test_facts_only_from_modules_that_declare_them() -> None:
    warnings: list[str] = []
    assert accepted_facts({"ansible_hostname": "web1"}, "ping", False, warnings) == {}
    assert "ping" in warnings[0] and "RETURNS_FACTS" in warnings[0]


def test_connection_vars_skip_facts_and_refuse_host_data() -> None:
    templar = Templar()
    variables = HostVars([
        Layer("inventory host", "inv", {"ansible_host": "10.0.0.5", "inventory_hostname": "web1"}),
        Layer("facts", "gathered facts", {"ansible_user": UnsafeText("evil")}),
        Layer("set_fact / register", "register", {"ansible_port": wrap("2222"), "ok_var": "x"}),
    ], templar)
    settings = ConnectionVars(variables)
    assert settings["ansible_host"] == "10.0.0.5"
    assert "ansible_user" not in settings and "ansible_user" in variables
    with pytest.raises(ConnectionFailed, match="web1: ansible_port comes from data a host sent"):
        settings["ansible_port"]


LOOP_PLAYBOOK = """
- hosts: h1
  gather_facts: false
  vars:
    secret_word: hunter2
  tasks:
    - shell: printf '%s\\n' 'a{{ "{{" }} secret_word {{ "}}" }}' 'b'
      register: out
    - copy: {content: "{{ item }}", dest: "{{ root }}/item-{{ idx }}"}
      loop: "{{ out.stdout_lines }}"
      loop_control: {index_var: idx}
    - set_fact: {first: "{{ out.stdout_lines | first }}"}
    - copy: {content: "{{ first }}", dest: "{{ root }}/first"}
    - debug: {var: "{{ first }}"}
      register: shown
    - copy: {content: "{{ shown | to_json }}", dest: "{{ root }}/shown"}
"""


def test_registered_text_and_loop_items_are_not_rendered(site) -> None:  # type: ignore[no-untyped-def]
    run = site.run(LOOP_PLAYBOOK)
    assert run.exit_code == 0, run.json
    root = site.root("h1")
    assert (root / "item-0").read_text() == "a{{ secret_word }}"
    assert (root / "item-1").read_text() == "b"
    assert (root / "first").read_text() == "a{{ secret_word }}"
    assert "hunter2" not in (root / "shown").read_text()


def test_run_reports_are_private_and_persist_must_be_finite(site) -> None:  # type: ignore[no-untyped-def]
    """A --json report may quote host files (with --diff): 0600 whatever the umask."""
    import os
    import stat

    old = os.umask(0o022)
    try:
        done = site.cli("run", "-i", "inventory.yml", "h1", "-m", "command", "-a", "true", "--json", "r.json")
    finally:
        os.umask(old)
    assert done.exit_code == 0, done.stdout + done.stderr
    assert stat.S_IMODE((site.dir / "r.json").stat().st_mode) == 0o600
    refused = site.cli("run", "-i", "inventory.yml", "h1", "-a", "true", "--persist", "nan")
    assert refused.exit_code == 2 and "not a number of seconds" in refused.stderr
