"""Every kind of bad input is an InputError naming file:line and what is wrong."""

from __future__ import annotations

import textwrap

import pytest

from .conftest import LoadError


def play(tasks: str) -> str:
    """A play whose tasks section is ``tasks`` (a YAML list, dedented); tasks start on line 3."""
    return "- hosts: all\n  tasks:\n" + textwrap.indent(textwrap.dedent(tasks).lstrip("\n"), "    ")


PLAY_ERRORS = [
    ("- hosts: all\n  taks: []\n", "site.yml:1", "unknown play keyword 'taks' (did you mean 'tasks'?)"),
    ("- name: no hosts\n", "site.yml:1", "play has no 'hosts'"),
    ("- hosts: all\n  become: maybe\n", "site.yml:1", "become must be a boolean"),
    ("- hosts: all\n  become_method: su\n", "site.yml:1", "become_method 'su' is not supported"),
    ("- hosts: all\n  strategy: host_pinned\n", "site.yml:1", "strategy 'host_pinned' is not supported"),
    ("- hosts: all\n  order: sorted\n", "site.yml:1", "order 'sorted' is not supported"),
    ("- hosts: all\n  serial: lots\n", "site.yml:1", "serial must be a number of hosts or a percentage"),
    ("- hosts: all\n  serial: [1, true]\n", "site.yml:2", "serial must be a number"),
    ("- hosts: all\n  max_fail_percentage: 200\n", "site.yml:1", "between 0 and 100"),
    ("- hosts: all\n  gather_facts: sometimes\n", "site.yml:1", "gather_facts must be a boolean"),
    ("- hosts: all\n  vars: 3\n", "site.yml:1", "play vars must be a mapping"),
    ("- hosts: all\n  vars:\n    - [1]\n", "site.yml:3", "play vars must be a mapping"),
    ("- hosts: all\n  vars_files: ['{{ env }}.yml']\n", "site.yml:2", "vars_files entry cannot be a template"),
    ("- hosts: all\n  vars_files: [missing.yml]\n", "site.yml:2", "vars file not found"),
    ("- hosts: all\n  tasks: {ping: }\n", "site.yml:2", "tasks must be a list, got a mapping"),
    ("- hosts: all\n  roles: web\n", "site.yml:1", "roles must be a list"),
    ("- hosts: all\n  handlers: 1\n", "site.yml:1", "handlers must be a list"),
    ("hosts: all\n", "site.yml:1", "a playbook must be a list of plays"),
    ("", "site.yml:1", "the playbook is empty"),
    ("- just a string\n", "site.yml:1", "each play must be a mapping"),
    ("- hosts: all\n  tasks: [\n", "site.yml:2", "YAML syntax error"),  # where the [ opens, not past the end
    ("- hosts: all\n  hosts: web\n", "site.yml:2", "duplicate key 'hosts'"),
    ("- import_playbook: '{{ x }}.yml'\n", "site.yml:1", "import_playbook cannot be a template"),
    ("- import_playbook: other.yml\n  hosts: all\n", "site.yml:1", "cannot also be an import_playbook"),
    ("- import_playbook: missing.yml\n", "site.yml:1", "playbook not found"),
    ("- import_playbook: site.yml\n", "site.yml:1", "import_playbook cycle"),
    ("- import_playbook: x.yml\n  serial: 1\n", "site.yml:1", "'serial' cannot be used with import_playbook"),
    ("- include: other.yml\n", "site.yml:1", "use import_playbook"),
]


@pytest.mark.parametrize(("text", "where", "message"), PLAY_ERRORS)
def test_play_errors(load_error: LoadError, text: str, where: str, message: str) -> None:
    err = load_error({"site.yml": text}, where=where)
    assert message in str(err)


TASK_ERRORS = [
    ("- fille: path=/x\n", 3, "unknown module 'fille' (did you mean 'file'?)"),
    ("- lineinfle: path=/x\n", 3, "unknown module 'lineinfle' (did you mean 'lineinfile'?)"),
    ("- ansible.builtin.nope: {}\n", 3, "unknown module 'ansible.builtin.nope'"),
    ("- ping:\n  registr: r\n", 3, "unknown keyword or module 'registr' (did you mean 'register'?)"),
    ("- ping:\n  file: path=/x\n", 3, "more than one module: 'ping' and 'file'"),
    ("- name: nothing to do\n", 3, "task has no module or action"),
    ("- {}\n", 3, "empty task"),
    ("- ping\n", 3, "each task must be a mapping, got the string 'ping'"),
    ("- ping:\n  loop: [1]\n  with_items: [2]\n", 3, "task has both 'loop' and 'with_items'"),
    ("- ping:\n  with_nope: [[1], [2]]\n", 3, "with_nope is not supported"),
    ("- ping:\n  with_coll.nope: [1]\n", 3, "with_coll.nope is not supported"),
    ("- local_action: command echo\n  action: command echo\n", 3, "action and local_action are mutually exclusive"),
    ("- ping:\n  delegate_to: [a]\n", 4, "delegate_to must be a string"),
    ("- include_role: {name: x}\n  delegate_to: h2\n", 3, "'delegate_to' is not a valid keyword of include_role"),
    ("- ping:\n  async: soon\n", 3, "async must be a number"),
    ("- ping:\n  poll: often\n", 3, "poll must be a number"),
    ("- include_tasks: x.yml\n  async: 10\n", 3, "'async' cannot be used with include_tasks"),
    ("- ping:\n  listen: x\n", 3, "'listen' is only valid on handlers"),
    ("- ping:\n  loop: [1]\n  loop_control: {loop_vr: x}\n", 5,
     "loop_control has no option 'loop_vr' (did you mean 'loop_var'?)"),
    ("- ping:\n  loop_control: [1]\n", 4, "loop_control must be a mapping"),
    ("- ping:\n  when: {a: 1}\n", 4, "when must be a condition"),
    ("- ping:\n  tags: {a: 1}\n", 4, "tags must be a string"),
    ("- ping:\n  notify: {a: 1}\n", 4, "notify must be a string"),
    ("- ping:\n  register: two words\n", 3, "register: 'two words' is not a valid variable name"),
    ("- ping:\n  retries: lots\n", 3, "retries must be a number"),
    ("- ping:\n  become: maybe\n", 3, "become must be a boolean (true/false, yes/no), got the string 'maybe'"),
    ("- ping:\n  become_user: [a]\n", 4, "become_user must be a string"),
    ("- ping:\n  check_mode: perhaps\n", 3, "check_mode must be a boolean"),
    ("- ping:\n  ignore_errors: sometimes\n", 3, "ignore_errors must be a boolean"),
    ("- ping:\n  environment: 5\n", 3, "environment must be a mapping of variable names to values"),
    ("- ping:\n  environment: [{A: 1}, FOO=bar]\n", 4, "environment must be a mapping of variable names to values"),
    ("- ping:\n  environment: {'{{ k }}': v}\n", 4, "environment: '{{ k }}' is not a variable name"),
    ("- include_tasks: x.yml\n  environment: {A: 1}\n", 3, "'environment' cannot be used with include_tasks"),
    ("- ping:\n  vars: [1]\n", 4, "vars must be a mapping"),
    ("- ping:\n  become_method: doas\n", 3, "become_method 'doas' is not supported"),
    ("- file: /tmp/x state=touch\n", 3, "module file does not take free-form text ('/tmp/x')"),
    ("- shell: echo \"oops\n", 3, "cannot split the arguments of shell"),
    ("- file: [1]\n", 3, "arguments of file must be a mapping or key=value text"),
    ("- command: ls\n  args: chdir=/tmp\n", 3, "args must be a mapping"),
    ("- action: {path: /x}\n", 3, "action given as a mapping needs 'module'"),
    ("- action: nosuch x=1\n", 3, "unknown module 'nosuch'"),
    ("- action: file path=/x\n  ping:\n", 3, "task has both 'action' and the module 'ping'"),
    ("- include: other.yml\n", 3, "'include' was removed from Ansible"),
    ("- rescue: []\n", 3, "'rescue' without 'block'"),
    ("- block: []\n  loop: [1]\n", 3, "a block cannot loop ('loop')"),
    ("- block: []\n  register: x\n", 3, "'register' is not a block keyword"),
    ("- block: {ping: }\n", 3, "block must be a list, got a mapping"),
    ("- block:\n    - fille: {}\n", 4, "unknown module 'fille'"),
    ("- import_tasks: '{{ os }}.yml'\n", 3, "cannot be a template ('{{ os }}.yml'); use include_tasks"),
    ("- import_tasks: other.yml\n  loop: [1]\n", 3, "import_tasks cannot loop ('loop'); use include_tasks"),
    ("- import_tasks: other.yml\n  register: r\n", 3, "'register' cannot be used with import_tasks"),
    ("- import_tasks: missing.yml\n", 3, "task file 'missing.yml' not found"),
    ("- include_tasks:\n    file: x.yml\n    apply: {tagz: x}\n", 3, "'tagz' is not a keyword apply can set (did you mean 'tags'?)"),
    ("- include_tasks:\n", 3, "include_tasks needs a file name"),
    ("- import_role: name=nothere\n", 3, "role 'nothere' not found"),
    ("- import_role: {}\n", 3, "import_role needs the role's name"),
    ("- include_role: {name: x, tasks_form: y}\n", 3,
     "include_role has no option 'tasks_form' (did you mean 'tasks_from'?)"),
    ("- meta: flush_handler\n", 3, "unknown meta action 'flush_handler' (did you mean 'flush_handlers'?)"),
    ("- ping:\n  1: x\n", 3, "task key 1 must be a string"),
]


@pytest.mark.parametrize(("tasks", "line", "message"), TASK_ERRORS)
def test_task_errors(load_error: LoadError, tasks: str, line: int, message: str) -> None:
    err = load_error({"site.yml": play(tasks)}, where=f"site.yml:{line}")
    assert message in str(err)


def test_handler_errors(load_error: LoadError) -> None:
    err = load_error({"site.yml": "- hosts: all\n  handlers:\n    - import_role: name=x\n"},
                     where="site.yml:3")
    assert "import_role cannot be used in handlers" in str(err)
    err = load_error({"site.yml": "- hosts: all\n  handlers:\n    - block: [{ping: }]\n"
                                  "      rescue: [{ping: }]\n"}, where="site.yml:3")
    assert "rescue/always are not supported in handlers" in str(err)


def test_errors_in_imported_files(load_error: LoadError) -> None:
    err = load_error({"site.yml": play("- import_tasks: a.yml\n"), "a.yml": "ping: {}\n"},
                     where="a.yml:1")
    assert "must be a list, got a mapping" in str(err)
    err = load_error({"site.yml": play("- import_tasks: b.yml\n"),
                      "b.yml": "- ping:\n- name: bad\n  copy: {}\n  bogus: 1\n"}, where="b.yml:2")
    assert "unknown keyword or module 'bogus'" in str(err)
    err = load_error({"site.yml": "- hosts: all\n  vars_files: [v.yml]\n", "v.yml": "- 1\n"},
                     where="v.yml:1")
    assert "must be a mapping, got a list" in str(err)


def test_import_cycle(load_error: LoadError, tmp_path: object) -> None:
    err = load_error({
        "site.yml": play("- import_tasks: a.yml\n"),
        "a.yml": "- ping:\n- import_tasks: b.yml\n",
        "b.yml": "- import_tasks: a.yml\n",
    }, where="b.yml:1")
    assert "import cycle: " in str(err)
    assert str(err).endswith("a.yml -> " + str(tmp_path) + "/b.yml -> " + str(tmp_path) + "/a.yml")


def test_import_playbook_cycle_chain(load_error: LoadError) -> None:
    err = load_error({"site.yml": "- import_playbook: b.yml\n", "b.yml": "- import_playbook: site.yml\n"},
                     where="b.yml:1")
    assert "import_playbook cycle" in str(err) and "site.yml -> " in str(err)
