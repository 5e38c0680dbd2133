"""Plays, roles, blocks and tasks: loaded from Ansible-format YAML into typed models.

- :mod:`~fleet.playbook.models`: ``Playbook``, ``Play``, ``Block``, ``Task``, ``RoleContext``;
  every object keeps its file:line.
- :mod:`~fleet.playbook.loader`: ``load_playbook`` (static imports inlined, inherited keywords
  pushed down); :mod:`~fleet.playbook.tasks` and :mod:`~fleet.playbook.roles` load task files
  and roles (also for dynamic includes at run time).
- :mod:`~fleet.playbook.kv`: ``k=v`` argument strings; :mod:`~fleet.playbook.modulenames`:
  module names (FQCNs, aliases, "did you mean"); :mod:`~fleet.playbook.moduledefaults`: how
  ``module_defaults`` apply to a module.
"""

from fleet.playbook.keywords import as_bool
from fleet.playbook.kv import check_module_args, module_args, parse_kv
from fleet.playbook.loader import load_playbook
from fleet.playbook.models import Block, Item, Play, Playbook, RoleContext, Task, walk
from fleet.playbook.moduledefaults import applicable, lay_under, normalize, task_names
from fleet.playbook.modulenames import closest
from fleet.playbook.prompts import answer_prompts, terminal_asker
from fleet.playbook.tasks import TaskFileLoader

__all__ = [
    "Block",
    "Item",
    "Play",
    "Playbook",
    "RoleContext",
    "Task",
    "TaskFileLoader",
    "answer_prompts",
    "applicable",
    "as_bool",
    "check_module_args",
    "closest",
    "lay_under",
    "load_playbook",
    "module_args",
    "normalize",
    "parse_kv",
    "terminal_asker",
    "task_names",
    "walk",
]
