"""The typed model of a playbook, as the executor consumes it.

The loader resolves everything static: ``import_tasks``/``import_role``/``import_playbook`` are
inlined, block and play keywords that children inherit (``when``, ``tags``, ``become``,
``become_user``, ``ignore_errors``, ``no_log``, ``check_mode``, ``diff``, ``vars``,
``any_errors_fatal``) are pushed down onto each task (``when`` lists concatenated, tags
unioned, scalar keywords overridden by the nearest definition), and every object keeps the
:class:`~fleet.errors.Location` it was defined at.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fleet.errors import Location
from fleet.vars import Layer


@dataclass(frozen=True)
class LoopControl:
    """``loop_control``: the loop variable name and friends. ``loop_var``, ``index_var`` and
    ``extended`` may be templates, rendered per host when the task runs (as Ansible does)."""

    loop_var: str = "item"
    index_var: str | None = None
    label: str | None = None
    pause: float = 0.0
    extended: bool | str = False

    @property
    def dynamic(self) -> bool:
        """Is any of them left to render when the task runs?"""
        return any(isinstance(value, str) and ("{{" in value or "{%" in value)
                   for value in (self.loop_var, self.index_var, self.extended))


@dataclass
class RoleContext:
    """The role a task belongs to: for ``role_name``, ``role_path`` and file/template lookup."""

    name: str
    path: Path
    defaults: Layer
    vars: Layer
    params: Layer  # role params given where the role was referenced


@dataclass
class Task:
    """One task: a module or controller action plus the keywords that govern it.

    ``args`` holds raw, unrendered values; free-form strings were already split into a dict
    (``command``/``shell`` put the command line in ``cmd``; ``k=v`` pairs become keys).
    ``loop`` is the raw ``loop:`` value, or the list built from ``with_items``/``with_list``/
    ``with_dict``/``with_fileglob`` (``loop_kind`` says which, so the executor can apply
    ``dict2items``/fileglob semantics after rendering).
    """

    module: str  # fleet's modules by short name ("file", "debug", ...); Ansible's as the task wrote it
    args: dict[str, Any]
    location: Location
    name: str | None = None
    when: list[Any] = field(default_factory=list)
    loop: Any = None
    loop_kind: str = "loop"  # loop | items | list | dict | fileglob
    loop_control: LoopControl = field(default_factory=LoopControl)
    register: str | None = None
    notify: list[str] = field(default_factory=list)
    tags: frozenset[str] = frozenset()
    become: bool | str | None = None  # a template is rendered per host
    become_user: str | None = None
    remote_user: str | None = None  # the login user (a template is rendered per host); ansible_user wins
    ignore_errors: Any = False  # bool or template
    ignore_unreachable: bool = False
    changed_when: list[Any] | None = None
    failed_when: list[Any] | None = None
    no_log: Any = False
    retries: Any = None
    delay: Any = 5
    until: list[Any] | None = None
    check_mode: bool | None = None  # task-level override of --check
    diff: bool | None = None
    run_once: bool = False
    any_errors_fatal: bool | None = None
    delegate_to: str | None = None  # delegate_to (local_action: "localhost"), a template
    delegate_facts: bool | None = None  # facts the task sets go to the delegated host
    throttle: Any = None  # at most this many hosts at once (0 or None: forks), a number or template
    vars_layers: tuple[Layer, ...] = ()  # block vars (outermost first), then task vars
    role: RoleContext | None = None
    base_dir: Path = Path(".")  # directory of the file the task came from
    listen: list[str] = field(default_factory=list)  # handlers only
    # ``environment`` entries, outermost level first (play, role, block, task): mappings whose
    # values are templates, or templates giving a mapping; merged per host when the task runs
    environment: tuple[Any, ...] = ()
    collections: tuple[str, ...] = ()  # ``collections``: where short names of Ansible's modules are looked up
    timeout: Any = None  # seconds the action may take (``timeout``; 0/None: no limit), a number or template
    # ``module_defaults`` merged over the levels above (fleet.playbook.moduledefaults): the task's own
    # module's mapping values are already in ``args``; ``late_defaults`` are its template values,
    # rendered and laid under ``args`` per host; the rest serve the module an action hands on to
    module_defaults: dict[str, Any] = field(default_factory=dict)
    late_defaults: list[Any] = field(default_factory=list)
    # ``async``/``poll``: run the action detached on the host for at most ``async_val`` seconds,
    # looking at it every ``poll`` seconds (0: do not wait); numbers or templates (fleet.executor.asyncjobs)
    async_val: Any = 0
    poll: Any = 15
    # include_tasks/include_role only: the tasks.Inherited keywords the included tasks start
    # from (the include's own when/tags/vars apply to the include itself, as in Ansible)
    inherited: Any = field(default=None, repr=False, compare=False)

    @property
    def dynamic_module(self) -> bool:
        """Is the module named by a template (``action: "{{ ansible_facts.pkg_mgr }}"``), rendered
        per host when the task runs (fleet.executor.dynamic)?"""
        return "{{" in self.module or "{%" in self.module

    @property
    def display_name(self) -> str:
        """What the terminal and reports call this task (Ansible's convention)."""
        if self.name:
            return f"{self.role.name} : {self.name}" if self.role else self.name
        label = self.module
        return f"{self.role.name} : {label}" if self.role else label


@dataclass
class Block:
    """``block``/``rescue``/``always``; children already carry the inherited keywords."""

    block: list[Item]
    location: Location
    rescue: list[Item] = field(default_factory=list)
    always: list[Item] = field(default_factory=list)
    name: str | None = None


Item = Task | Block


@dataclass
class Handler(Task):
    """A task run at flush time on hosts that notified it (by name or ``listen`` topic)."""


@dataclass
class Play:
    """One play. ``tasks`` is the full ordered list: pre_tasks, roles' tasks, tasks, post_tasks,
    with ``meta: flush_handlers`` tasks inserted where Ansible flushes implicitly (after
    pre_tasks, after roles+tasks, after post_tasks)."""

    hosts: str
    location: Location
    name: str = ""
    tasks: list[Item] = field(default_factory=list)
    handlers: list[Handler] = field(default_factory=list)
    vars_layers: tuple[Layer, ...] = ()  # role defaults, play vars, vars_files, role vars
    gather_facts: bool | None = None  # None: not said (ansible.cfg's gathering decides)
    gather_args: dict[str, Any] = field(default_factory=dict)  # gather_subset, gather_timeout, fact_path
    become: bool | str | None = None  # a template is rendered per host
    become_user: str | None = None
    serial: list[Any] = field(default_factory=list)  # ints or "30%" strings; [] = all at once
    max_fail_percentage: float | None = None
    any_errors_fatal: bool = False
    strategy: str = "linear"
    tags: frozenset[str] = frozenset()
    check_mode: bool | None = None
    diff: bool | None = None
    base_dir: Path = Path(".")
    roles: list[RoleContext] = field(default_factory=list)
    remote_user: str | None = None  # play-level remote_user (overrides ansible_user)
    connection: str | None = None  # play-level connection, e.g. "local"
    environment: tuple[Any, ...] = ()  # the play's ``environment`` (its implicit fact gathering uses it)
    vars_prompt: tuple[Any, ...] = ()  # fleet.playbook.prompts.Prompt: answered before the run connects


@dataclass
class Playbook:
    """A loaded playbook: its plays in order and where it lives."""

    path: Path
    plays: list[Play]

    @property
    def base_dir(self) -> Path:
        return self.path.parent


def walk(items: Iterable[Item]) -> Iterator[Task]:
    """Every task in a tree of blocks, in order."""
    for item in items:
        if isinstance(item, Block):
            yield from walk(item.block)
            yield from walk(item.rescue)
            yield from walk(item.always)
        else:
            yield item
