"""Tasks, blocks, handlers and static/dynamic includes: parsing and keyword inheritance."""

from __future__ import annotations

from pathlib import Path

from fleet.errors import Location
from fleet.playbook.models import Block, Handler, LoopControl, Task
from fleet.playbook.tasks import Inherited, TaskFileLoader

from .conftest import MODULES, Load, WriteTree, body, flat, names


def tasks_of(load: Load, section: str, **files: str) -> list[Task]:
    """Load a one-play playbook whose ``tasks:`` section is ``section`` (indented by caller)."""
    pb = load({"site.yml": "- hosts: all\n  tasks:\n" + section, **files})
    return body(pb)


def test_module_dict_args_kept_raw(load: Load, tmp_path: Path) -> None:
    (task,) = tasks_of(load, """
    - name: Create dir
      ansible.builtin.file:
        path: "{{ base }}/x"
        state: directory
        mode: "0755"
    """)
    assert task.module == "file"
    assert task.args == {"path": "{{ base }}/x", "state": "directory", "mode": "0755"}
    assert task.name == "Create dir"
    assert task.location == Location(str(tmp_path / "site.yml"), 4)
    assert task.base_dir == tmp_path
    assert task.role is None


def test_free_form_args(load: Load) -> None:
    tasks = tasks_of(load, """
    - shell: echo "{{ a | default('x y') }}" > /tmp/f creates=/tmp/f
    - command: ls -l chdir=/tmp
      args:
        chdir: /var
        creates: /nope
    - file: path=/x state=touch
    - debug: msg="hello {{ who }}"
    - set_fact: a=1 b=2
    - ansible.legacy.meta: flush_handlers
    - action: file path=/y state=absent
    - action:
        module: copy
        dest: /z
        content: hi
    - ping:
    """)
    assert [(t.module, t.args) for t in tasks] == [
        ("shell", {"cmd": "echo \"{{ a | default('x y') }}\" > /tmp/f", "creates": "/tmp/f"}),
        ("command", {"cmd": "ls -l", "chdir": "/tmp", "creates": "/nope"}),
        ("file", {"path": "/x", "state": "touch"}),
        ("debug", {"msg": "hello {{ who }}"}),
        ("set_fact", {"a": "1", "b": "2"}),
        ("meta", {"_raw_params": "flush_handlers"}),
        ("file", {"path": "/y", "state": "absent"}),
        ("copy", {"dest": "/z", "content": "hi"}),
        ("ping", {}),
    ]


def test_keywords_normalised(load: Load) -> None:
    (task,) = tasks_of(load, """
    - name: all the keywords
      command: /bin/true
      when: x is defined
      changed_when: false
      failed_when: [rc > 1, "'boom' in stdout"]
      until: result is succeeded
      register: result
      notify: restart app
      tags: a, b
      become: yes
      become_user: app
      ignore_errors: "{{ lenient }}"
      ignore_unreachable: true
      no_log: true
      delay: 2
      vars: {v: 1}
      check_mode: no
      diff: true
      run_once: true
      any_errors_fatal: true
      environment: {PATH: /bin}
    """)
    assert task.when == ["x is defined"]
    assert task.changed_when == [False]
    assert task.failed_when == ["rc > 1", "'boom' in stdout"]
    assert task.until == ["result is succeeded"] and task.retries == 3 and task.delay == 2
    assert task.register == "result"
    assert task.notify == ["restart app"]
    assert task.tags == frozenset({"a", "b"})
    assert (task.become, task.become_user) == (True, "app")
    assert task.ignore_errors == "{{ lenient }}"
    assert task.ignore_unreachable and task.no_log is True and task.run_once
    assert (task.check_mode, task.diff, task.any_errors_fatal) == (False, True, True)
    assert task.environment == ({"PATH": "/bin"},)
    assert [(lay.kind, lay.values) for lay in task.vars_layers] == [("task vars", {"v": 1})]


def test_defaults(load: Load) -> None:
    (task,) = tasks_of(load, "    - ping:\n")
    assert task == Task(module="ping", args={}, location=task.location, base_dir=task.base_dir)
    assert task.display_name == "ping"


def test_loops(load: Load) -> None:
    tasks = tasks_of(load, """
    - debug: var=item
      loop: "{{ things }}"
      loop_control:
        loop_var: thing
        index_var: i
        label: "{{ thing.name }}"
        pause: 1
        extended: true
    - debug: var=item
      with_items: [a, [b, c]]
    - debug: var=item
      with_list: [[1, 2]]
    - debug: var=item
      with_dict: {a: 1}
    - debug: var=item
      with_fileglob: "files/*.conf"
    """)
    assert [(t.loop, t.loop_kind) for t in tasks] == [
        ("{{ things }}", "loop"), (["a", ["b", "c"]], "items"), ([[1, 2]], "list"),
        ({"a": 1}, "dict"), ("files/*.conf", "fileglob")]
    assert tasks[0].loop_control == LoopControl("thing", "i", "{{ thing.name }}", 1.0, True)
    assert tasks[1].loop_control == LoopControl()


def test_a_collection_lookup_as_a_loop(load: Load) -> None:
    """``with_<FQCN>``: the lookup's name is the loop kind (the bridge finds it when it runs)."""
    (task,) = tasks_of(load, """
    - debug: var=item
      with_community.general.collection_version: [community.general]
    """)
    assert (task.module, task.loop, task.loop_kind) == (
        "debug", ["community.general"], "community.general.collection_version")


def test_block_inheritance(load: Load) -> None:
    pb = load({"site.yml": """
    - hosts: all
      become: true
      tags: play
      environment: {A: "1"}
      tasks:
        - name: outer
          when: outer_ok
          tags: [outer]
          become_user: postgres
          vars: {level: outer}
          environment: {B: "2"}
          block:
            - name: inner
              when: [inner_ok]
              tags: inner
              become: false
              ignore_errors: true
              vars: {level: inner}
              block:
                - name: leaf
                  command: /bin/true
                  when: leaf_ok
                  tags: leaf
                  vars: {level: leaf}
                  environment: {A: "3"}
              rescue:
                - name: fix
                  debug: msg=fixing
              always:
                - name: cleanup
                  debug: msg=done
            - name: sibling
              ping:
        - name: top
          ping:
    """})
    items = pb.plays[0].tasks
    outer = items[1]
    assert isinstance(outer, Block) and outer.name == "outer"
    inner = outer.block[0]
    assert isinstance(inner, Block) and inner.name == "inner"
    assert [t.name for t in inner.block] == ["leaf"]
    assert [t.name for t in inner.rescue] == ["fix"]
    assert [t.name for t in inner.always] == ["cleanup"]
    leaf, fix, cleanup, sibling, top = (t for t in flat(items) if t.name)
    assert leaf.when == ["outer_ok", "inner_ok", "leaf_ok"]
    assert fix.when == cleanup.when == ["outer_ok", "inner_ok"]
    assert sibling.when == ["outer_ok"] and top.when == []
    assert leaf.tags == {"play", "outer", "inner", "leaf"}
    assert fix.tags == {"play", "outer", "inner"} and top.tags == {"play"}
    assert (leaf.become, leaf.become_user, leaf.ignore_errors) == (False, "postgres", True)
    assert (sibling.become, sibling.become_user, sibling.ignore_errors) == (True, "postgres", False)
    assert (top.become, top.become_user) == (True, None)
    assert [(lay.kind, dict(lay.values)) for lay in leaf.vars_layers] == [
        ("block vars", {"level": "outer"}), ("block vars", {"level": "inner"}),
        ("task vars", {"level": "leaf"})]
    assert [lay.kind for lay in fix.vars_layers] == ["block vars", "block vars"]
    assert leaf.environment == ({"A": "1"}, {"B": "2"}, {"A": "3"})  # outermost first: merged in order
    assert top.environment == ({"A": "1"},)


def test_import_tasks_inlines_with_keywords(load: Load, tmp_path: Path) -> None:
    pb = load({
        "site.yml": """
        - hosts: all
          tasks:
            - import_tasks: tasks/setup.yml
              when: setup_wanted
              tags: setup
              become: true
              vars: {pkg: nginx}
            - name: after
              ping:
        """,
        "tasks/setup.yml": """
        - name: one
          command: echo {{ pkg }}
          when: one_ok
        - ansible.builtin.import_tasks: more.yml
        """,
        "tasks/more.yml": """
        - name: two
          file: path=/x state=touch
        """,
    })
    one, two, after = (t for t in flat(pb.plays[0].tasks) if t.name)
    assert one.when == ["setup_wanted", "one_ok"] and two.when == ["setup_wanted"]
    assert one.tags == two.tags == {"setup"} and after.tags == frozenset()
    assert one.become is True and two.become is True and after.become is None
    assert [(lay.kind, dict(lay.values)) for lay in two.vars_layers] == [("block vars", {"pkg": "nginx"})]
    assert one.base_dir == tmp_path / "tasks" and two.base_dir == tmp_path / "tasks"
    assert one.location == Location(str(tmp_path / "tasks/setup.yml"), 1)
    assert two.location == Location(str(tmp_path / "tasks/more.yml"), 1)


def test_include_tasks_stays_dynamic(load: Load, tmp_path: Path, write_tree: WriteTree) -> None:
    pb = load({
        "site.yml": """
        - hosts: all
          become: true
          tasks:
            - block:
                - name: include
                  include_tasks: "{{ os }}.yml"
                  when: os is defined
                  tags: inc
                  become_user: app
                  vars: {x: 1}
                  loop: [a, b]
              when: outer
              tags: blk
        """,
        "linux.yml": """
        - name: included
          debug: msg=hi
          tags: own
        """,
    })
    (inc,) = body(pb)[:1]
    assert inc.module == "include_tasks" and inc.args == {"file": "{{ os }}.yml"}
    assert inc.when == ["outer", "os is defined"] and inc.loop == ["a", "b"]
    assert inc.tags == {"blk", "inc"}
    inherited = inc.inherited
    assert isinstance(inherited, Inherited)
    assert inherited.when == ("outer",) and inherited.tags == {"blk"}
    assert (inherited.become, inherited.become_user) == (True, "app")
    # what the executor does at run time
    loader = TaskFileLoader(tmp_path, module_exists=MODULES.__contains__)
    (task,) = loader.load_tasks(Path("linux.yml"), inc.inherited, inc.role, base_dir=inc.base_dir,
                                location=inc.location)
    assert isinstance(task, Task) and task.name == "included"
    assert task.when == ["outer"] and task.tags == {"blk", "own"}
    assert (task.become, task.become_user) == (True, "app")
    assert task.location == Location(str(tmp_path / "linux.yml"), 1)


def test_handlers_and_listen(load: Load) -> None:
    pb = load({"site.yml": """
    - hosts: all
      become: true
      tasks:
        - command: /bin/true
          notify: [restart web, reload all]
      handlers:
        - name: restart web
          service: name=nginx state=restarted
          listen: "reload all"
        - name: restart db
          service: name=pg state=restarted
          listen: [reload all, db]
        - block:
            - name: in block
              ping:
          when: x
        - import_tasks: handlers/more.yml
    """, "handlers/more.yml": "- name: more\n  ping:\n"})
    handlers = pb.plays[0].handlers
    assert all(isinstance(h, Handler) for h in handlers)
    assert [h.name for h in handlers] == ["restart web", "restart db", "in block", "more"]
    assert handlers[0].listen == ["reload all"] and handlers[1].listen == ["reload all", "db"]
    assert handlers[0].args == {"name": "nginx", "state": "restarted"}
    assert handlers[0].become is True and handlers[2].when == ["x"]


def test_implicit_flushes(load: Load) -> None:
    pb = load({"site.yml": """
    - hosts: all
      post_tasks: [{name: post, ping: }]
      tasks: [{name: task, ping: }]
      pre_tasks: [{name: pre, ping: }]
    """})
    assert names(pb.plays[0].tasks) == ["pre", "flush", "task", "flush", "post", "flush"]
    flush = pb.plays[0].tasks[1]
    assert isinstance(flush, Task) and flush.location == pb.plays[0].location


def test_empty_task_file_and_sections(load: Load) -> None:
    pb = load({"site.yml": """
    - hosts: all
      tasks:
      handlers:
      pre_tasks:
        - import_tasks: empty.yml
    """, "empty.yml": "# nothing here\n"})
    assert names(pb.plays[0].tasks) == ["flush", "flush", "flush"]
    assert pb.plays[0].handlers == []


def test_task_base_dir_for_nested_include_path(load: Load, tmp_path: Path) -> None:
    pb = load({"site.yml": """
    - hosts: all
      tasks:
        - import_tasks: a/b.yml
    """, "a/b.yml": "- include_tasks: c.yml\n", "a/c.yml": "- ping:\n"})
    (inc,) = body(pb)[:1]
    assert inc.base_dir == tmp_path / "a"
    loader = TaskFileLoader(tmp_path, module_exists=MODULES.__contains__)
    (ping,) = loader.load_tasks(Path("c.yml"), inc.inherited, None, base_dir=inc.base_dir)
    assert isinstance(ping, Task) and ping.location.path == str(tmp_path / "a/c.yml")
