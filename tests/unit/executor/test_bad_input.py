"""Bad input: one clear message with file:line, exit 1, nothing applied."""

from __future__ import annotations

import pytest

from tests.unit.executor.conftest import Site, play

GOOD = "- copy: dest={{ root }}/applied content=x\n"

CASES = [
    # (name, playbook tasks after a good task, line of the error, words in the message)
    ("yaml", "- copy: {dest: x\n", 5, ["YAML", "flow mapping that starts at column"]),
    ("keyword", "- copy: dest={{ root }}/x content=x\n  whn: true\n", 5, ["whn", "when"]),
    ("module", "- name: typo\n  copyy: dest={{ root }}/x content=x\n", 5, ["copyy", "copy"]),
    ("param", "- name: bad mode\n  file:\n    path: /x\n    state: [1]\n", 5, ["state"]),
    ("undefined arg", "- name: u\n  copy: dest={{ root }}/x content={{ nope_var }}\n", 5, ["nope_var"]),
    ("undefined when", "- name: w\n  debug: msg=x\n  when: nope_flag\n", 5, ["nope_flag"]),
    ("notify", "- name: n\n  command: /bin/true\n  notify: restart nothing\n", 5, ["restart nothing"]),
    ("loop var", "- name: l\n  debug: msg={{ item }}\n  loop: \"{{ nope_list }}\"\n", 5, ["nope_list"]),
    ("loop number", "- name: l\n  debug: msg={{ item }}\n  loop: 42\n", 5, ["loop needs a list, got a number 42"]),
    ("loop text", "- name: l\n  debug: msg={{ item }}\n  loop: a, b\n", 5, ["loop needs a list, got a string 'a, b'"]),
    ("loop mapping", "- name: l\n  debug: msg={{ item }}\n  loop: {a: 1}\n", 5, ["loop needs a list, got a mapping"]),
    ("with_dict list", "- name: l\n  debug: msg={{ item }}\n  with_dict: [1]\n", 5, ["with_dict needs a mapping"]),
]


@pytest.mark.parametrize(("name", "tasks", "line", "words"), CASES, ids=[c[0] for c in CASES])
def test_bad_playbook_fails_before_anything_runs(site: Site, name: str, tasks: str, line: int,
                                                  words: list[str]) -> None:
    site.playbook(play(GOOD + tasks, hosts="all"))
    result = site.cli("apply", "-i", str(site.inventory), "site.yml")
    assert result.exit_code == 1, result.output
    message = result.stderr.strip()
    assert message.startswith("ERROR: "), result.output
    assert len(message.splitlines()) <= 3, message
    assert message.startswith(f"ERROR: site.yml:{line}: "), message
    for word in words:
        assert word in message
    assert "Traceback" not in result.output
    assert not any(site.exists(h, "applied") for h in ("h1", "h2", "h3"))


def test_undefined_variable_in_a_template_file(site: Site) -> None:
    site.write("templates/t.j2", "line one\n{{ ok_var }}\n{{ not_there }}\n")
    error = site.input_error(play("""
        - copy: dest={{ root }}/applied content=x
        - template: src=t.j2 dest={{ root }}/t
    """, extra="vars: {ok_var: 1}"))
    assert "not_there" in str(error)
    assert "t.j2" in str(error)


def test_bad_template_syntax_names_the_template_line(site: Site) -> None:
    site.write("templates/t.j2", "line one\n{% if x %}\nno endif\n")
    error = site.input_error(play("- template: src=t.j2 dest={{ root }}/t\n", extra="vars: {x: 1}"))
    assert "t.j2" in str(error)


@pytest.mark.parametrize("inventory", [
    "all:\n  hosts:\n    h1: [not, a, mapping\n",
    "[web:vars]\njust words here\n",
    "all:\n  children:\n    web:\n      hosts: 5\n",
])
def test_bad_inventory_is_one_clear_error(site: Site, inventory: str) -> None:
    site.playbook(play(GOOD))
    (site.dir / "bad.yml" if inventory.startswith("all") else site.dir / "bad.ini").write_text(inventory)
    path = "bad.yml" if inventory.startswith("all") else "bad.ini"
    result = site.cli("apply", "-i", path, "site.yml")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"ERROR: {path}:"), result.stderr
    assert "Traceback" not in result.output


def test_missing_playbook_and_missing_include_file(site: Site) -> None:
    missing = site.cli("apply", "-i", str(site.inventory), "nope.yml")
    assert missing.exit_code in (1, 2) and "nope.yml" in missing.output
    run = site.run(play("- include_tasks: not-there.yml\n- copy: dest={{ root }}/after content=x\n", hosts="h1"))
    assert run.exit_code == 1
    assert "not-there.yml" in run.results("h1")[0].msg
    assert not site.exists("h1", "after")


def test_an_undefined_variable_under_ignore_errors_fails_only_where_it_runs(site: Site) -> None:
    """As in Ansible (whose tests meet undefined variables on purpose): not an error before the
    run, the task fails on each host, its failure is ignored and the play goes on."""
    run = site.run(play("""
        - name: meets it
          debug: msg="{{ 'x' in not_defined_anywhere }}"
          ignore_errors: yes
          register: met
        - name: goes on
          copy: dest={{ root }}/applied content="{{ met.failed }}"
    """, hosts="h1"))
    assert run.exit_code == 0
    assert run.status("h1", "meets it") == "failed"
    assert "not_defined_anywhere" in run.result("h1", "meets it").msg
    assert site.read("h1", "applied") == "True"


def test_a_missing_parameter_under_ignore_errors_fails_where_it_runs(site: Site) -> None:
    """Ansible's copy target leaves dest out on purpose, ignoring the error: a warning before
    the run, and the task fails with the words of Ansible's copy action."""
    run = site.run(play("""
        - name: no dest
          copy: content=x
          ignore_errors: true
          register: failed_copy
        - name: goes on
          copy: dest={{ root }}/applied content="{{ failed_copy.msg is search('dest is required') }}"
    """, hosts="h1"))
    assert run.exit_code == 0
    assert run.status("h1", "no dest") == "failed"
    assert site.read("h1", "applied") == "True"
    assert any("requires 'dest'" in w for w in run.report.warnings)


def test_a_missing_parameter_is_still_bad_input_without_ignore_errors(site: Site) -> None:
    error = site.input_error(play("- name: no dest\n  copy: content=x\n"))
    assert "requires 'dest'" in str(error)


def test_an_empty_copy_src_fails_with_ansibles_words(site: Site) -> None:
    """``src: ''`` is not the role's files/ folder: Ansible's copy action refuses it."""
    run = site.run(play("""
        - name: empty src
          copy: {src: '', dest: "{{ root }}/x"}
          ignore_errors: true
    """, hosts="h1"))
    assert run.status("h1", "empty src") == "failed"
    assert "src (or content) is required" in run.result("h1", "empty src").msg
    assert not site.exists("h1", "x")


def test_names_an_included_file_sets_by_templated_set_fact_keys_are_not_refused(site: Site) -> None:
    """devsec.ssh_hardening: an included file sets variables named by data
    (set_fact: "{{ item.key }}": ...); a handler reading one is not an undefined variable
    before the run, as Ansible knows the names only when the task runs."""
    site.write("vars.yml", "- set_fact:\n    \"{{ item.key }}\": \"{{ item.value }}\"\n"
                           "  with_dict: {service_name: cron}\n"
                           "- command: /bin/true\n  changed_when: true\n  notify: restart\n")
    run = site.run(play("""
        - include_tasks: vars.yml
    """, extra="handlers:\n    - name: restart\n      copy: dest={{ root }}/restarted content={{ service_name }}"))
    assert run.exit_code == 0, run.json
    assert site.read("h1", "restarted") == "cron"
