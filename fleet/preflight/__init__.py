"""Checks that run before anything connects: bad input fails the run with nothing applied.

- :mod:`~fleet.preflight.checks`: every task and handler -- module parameters, template
  syntax, variables defined nowhere, ``notify`` names that reach no handler; the hosts the
  plays and ``--limit`` select.
- :mod:`~fleet.preflight.prescan`: the names dynamically included files define (scanned, not
  loaded), so the undefined-variable check knows them.
- :mod:`~fleet.preflight.ssh`: every selected host's SSH settings.

It sits above the executor, whose rules it applies early; the executor never imports it.
"""

from fleet.preflight.checks import check_hosts, check_playbook
from fleet.preflight.ssh import check_ssh_settings

__all__ = ["check_hosts", "check_playbook", "check_ssh_settings"]
