"""The ``environment`` keyword: the same playbook (tests/fixtures/environment: play, block,
task, template and list forms, loops, includes, imports, roles, fact gathering, a native
module's own program, Ansible's module code) run by fleet and by ansible-playbook over the
local connection, compared file by file; then what only fleet can be asked (warnings, errors
naming file:line, vault values, the agent's own environment restored after each call)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from fleet.agent.commands import task_environment as agent_environment
from fleet.cli.vault import vault_yaml
from fleet.errors import InputError, Location
from fleet.executor.environment import task_environment
from fleet.playbook import Task
from fleet.result import REDACTED, RunReport
from fleet.secrets import Secrets
from fleet.templating import Templar
from fleet.vault import VaultKeyring, VaultSecret
from tests.conftest import REPO
from tests.unit.executor.conftest import Site, play
from tests.unit.executor.twins import local_inventory, run_twins

FIXTURE = REPO / "tests" / "fixtures" / "environment"
KEYRING = VaultKeyring([VaultSecret("default", b"pw-for-env-tests")])


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, str], dict[str, str], RunReport]:
    base = tmp_path_factory.mktemp("environment")
    env = dict(os.environ, ANSIBLE_HOME=str(base / "site" / "ansible-home"),
               ANSIBLE_LOCAL_TEMP=str(base / "site" / "ansible-local"),
               ANSIBLE_REMOTE_TMP=str(base / "site" / "ansible-remote"))
    twins = run_twins(FIXTURE, base, lambda out: "[web]\n" + local_inventory(out), env)
    assert "could not parse environment value, skipping" in twins.ansible.stdout + twins.ansible.stderr
    return twins.outputs("fleet"), twins.outputs("ansible"), twins.report


def test_every_level_and_form_as_ansible(both: tuple[dict[str, str], dict[str, str], RunReport]) -> None:
    fleet, ansible, _ = both
    assert sorted(fleet) == sorted(ansible)
    assert len(fleet) == 23
    assert fleet == ansible
    # the levels the issue names, spelled out (the values above are Ansible's)
    assert fleet["play"] == "play p fromvar\n" and fleet["block"] == "block b\n"
    assert fleet["task"] == "task b t p\n" and fleet["facts"] == "fromvar play\n" and fleet["handler"] == "play p\n"
    assert fleet["validate-saw"] == "validate\n" and fleet["slurped"] == "play p fromvar\n"


def test_a_template_giving_no_mapping_warns(both: tuple[dict[str, str], dict[str, str], RunReport]) -> None:
    _, _, report = both
    results = {r.task: r for r in report.host("h1").results}
    assert results["a template giving no mapping is skipped"].warnings == [
        "could not parse environment value, skipping: {{ notdict }}"]
    assert results["per loop item"].warnings == []
    assert results["Ansible's module code sees it (a path parameter expands $VARS in the module)"].via == "ansible"


def test_the_agent_forgets_a_tasks_environment(site: Site) -> None:
    # the tasks go in one request to one agent: the second must not see the first's variable
    run = site.run(play("""
        - shell: echo "$ONLY_HERE" > {{ root }}/first
          environment: {ONLY_HERE: set}
        - shell: echo "${ONLY_HERE-unset}" > {{ root }}/second
    """, hosts="h1"))
    assert run.exit_code == 0
    assert (site.read("h1", "first"), site.read("h1", "second")) == ("set\n", "unset\n")


def test_per_host_values(site: Site) -> None:
    site.host_vars = {"h1": {"where": "one"}, "h2": {"where": "two"}}
    run = site.run(play("""
        - shell: echo "$WHERE" > {{ root }}/where
    """, hosts="web", extra="environment: {WHERE: 'host-{{ where }}'}"))
    assert run.exit_code == 0
    assert (site.read("h1", "where"), site.read("h2", "where")) == ("host-one\n", "host-two\n")


def test_an_undefined_variable_is_found_before_connecting(site: Site) -> None:
    error = site.input_error(play("""
        - shell: echo hi > {{ root }}/never
          environment: {X: "{{ nowhere_defined }}"}
    """, hosts="h1"))
    assert "undefined variable 'nowhere_defined'" in error.message and str(error.location).endswith("site.yml:4")


def test_an_undefined_value_fails_the_task_at_its_line(site: Site) -> None:
    run = site.run(play("""
        - shell: echo hi > {{ root }}/never
          environment: {X: "{{ settings.proxy }}"}
          ignore_errors: true
        - shell: echo after > {{ root }}/after
    """, hosts="h1", extra="vars: {settings: {}}"))
    result = run.results("h1")[0]
    assert result.status == "failed" and result.ignored
    assert "site.yml:5" in result.msg and "error processing keyword 'environment'" in result.msg
    assert "proxy" in result.msg
    assert not site.exists("h1", "never") and site.read("h1", "after") == "after\n"


def test_a_non_mapping_is_refused_before_anything_runs(site: Site) -> None:
    error = site.input_error(play("""
        - shell: echo hi > {{ root }}/out
          environment: [PATH=/bin]
    """, hosts="h1"))
    assert "environment must be a mapping" in error.message and str(error.location).endswith("site.yml:5")


def test_a_vault_value_reaches_the_host_and_never_the_output(site: Site) -> None:
    secret = "Env-Vaulted-Token-8812"
    vaulted = vault_yaml(KEYRING.encrypt(secret), indent=8)
    run = site.run(play("""
        - shell: echo "token=$TOKEN"; echo "$TOKEN" > {{ root }}/token
          environment: {TOKEN: "{{ token }}"}
          register: said
        - debug: var=said.stdout
    """, hosts="h1", extra=f"vars:\n  token: {vaulted}"), secrets=Secrets(KEYRING))
    assert run.exit_code == 0
    assert site.read("h1", "token") == secret + "\n"
    shell, debug = run.results("h1")
    assert shell.data["stdout"] == f"token={REDACTED}" and debug.data == {"said.stdout": f"token={REDACTED}"}
    assert secret not in json.dumps(run.json) + json.dumps([r.data for r in run.results("h1")])


def test_an_inline_vault_value_in_the_keyword_itself(site: Site) -> None:
    secret = "Env-Inline-Vaulted-4471"
    tasks = ("- shell: echo \"said=$DIRECT\"; echo \"$DIRECT\" > {{ root }}/direct\n"
             "  environment:\n    DIRECT: " + vault_yaml(KEYRING.encrypt(secret), indent=6))
    run = site.run(play(tasks, hosts="h1"), secrets=Secrets(KEYRING))
    assert run.exit_code == 0
    assert site.read("h1", "direct") == secret + "\n"
    assert run.results("h1")[0].data["stdout"] == f"said={REDACTED}"


def test_merging_rules(tmp_path: Path) -> None:
    """Later entries win per variable; the omit placeholder leaves one out; text as str()."""
    templar = Templar()
    task = Task(module="shell", args={}, location=Location("site.yml", 3), environment=(
        {"A": "outer", "B": "{{ b }}", "N": 7},
        "{{ more }}",
        {"A": "inner", "B": "{{ omit }}", "T": True},
    ))
    warnings: list[str] = []
    env = task_environment(templar, task, {"b": "bee", "more": {"C": [1], "A": "middle"}}, warnings)
    assert env == {"A": "inner", "B": "bee", "N": "7", "C": "[1]", "T": "True"} and warnings == []
    with pytest.raises(InputError, match="error processing keyword 'environment'"):
        task_environment(templar, task, {"more": {}}, warnings)


def test_what_needs_an_undefined_ansible_env_is_left_out() -> None:
    """As Ansible (checked with ansible-playbook, gather_facts: false): in every task."""
    templar = Templar()
    entries = ({"PATH": "{{ ansible_env.PATH }}:/opt/bin", "KEPT": "yes"},)
    for module in ("setup", "shell"):
        task = Task(module=module, args={}, location=Location("site.yml", 3), environment=entries)
        assert task_environment(templar, task, {}) == {"KEPT": "yes"}
    assert task_environment(templar, task, {"ansible_env": {"PATH": "/bin"}}) == {"PATH": "/bin:/opt/bin", "KEPT": "yes"}
    other = Task(module="shell", args={}, location=Location("site.yml", 3), environment=({"X": "{{ missing }}"},))
    with pytest.raises(InputError, match="missing"):
        task_environment(templar, other, {})


def test_the_agent_restores_its_environment_whatever_the_call_did(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLEET_ENV_TEST_KEEP", "agent")
    before = dict(os.environ)
    with pytest.raises(RuntimeError), agent_environment({"FLEET_ENV_TEST_KEEP": "task", "FLEET_ENV_TEST_NEW": 1}):
        assert os.environ["FLEET_ENV_TEST_KEEP"] == "task" and os.environ["FLEET_ENV_TEST_NEW"] == "1"
        os.environ["FLEET_ENV_TEST_MODULE"] = "left by a module"
        raise RuntimeError
    assert dict(os.environ) == before
