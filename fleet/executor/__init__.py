"""Runs a loaded playbook against an inventory: plays, hosts, tasks, handlers, results.

- :mod:`~fleet.executor.run`: :func:`run_playbook`, the plays in order, above the
  :mod:`~fleet.executor.play` runner (batches, strategies, blocks, includes, meta) and the
  :mod:`~fleet.executor.task` executor (one agent request per task, or per pipelined group).
- :mod:`~fleet.executor.state`: what they share -- :class:`RunState`, ``PlayState`` and the
  ``PlayContext`` protocol through which meta tasks, includes and handlers reach the play.
- :mod:`~fleet.executor.options`: :class:`RunOptions`; :mod:`~fleet.executor.interrupt`:
  SIGINT/SIGTERM during a run.

What the checks before a run (:mod:`fleet.preflight`) need of the executor's rules is here too:
which actions are control flow or run on the controller, how local files are found, and what
``notify`` names reach.
"""

from fleet.executor.actions import CONTROL_ACTIONS, LOCAL
from fleet.executor.bridged import Route, route
from fleet.executor.defaults import defaults_pending
from fleet.executor.factcache import FactCache, cache_from_config
from fleet.executor.files import find_file
from fleet.executor.handlernames import handler_known
from fleet.executor.interrupt import run_with_signals
from fleet.executor.meta import META_ACTIONS
from fleet.executor.options import ENV_HOST_STATE_DIR, RunOptions
from fleet.executor.run import run_playbook
from fleet.executor.state import NullReporter, Reporter, RunState

__all__ = [
    "FactCache",
    "cache_from_config",
    "CONTROL_ACTIONS",
    "ENV_HOST_STATE_DIR",
    "LOCAL",
    "META_ACTIONS",
    "NullReporter",
    "Reporter",
    "RunOptions",
    "Route",
    "RunState",
    "defaults_pending",
    "find_file",
    "handler_known",
    "route",
    "run_playbook",
    "run_with_signals",
]
