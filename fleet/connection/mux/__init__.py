"""Persistent agents between runs (like OpenSSH's ControlPersist, which Ansible enables).

A per-user daemon keeps each host's connection and started agents for ``--persist`` seconds
after a run ends; the next run leases them over a private unix socket instead of opening SSH
and starting Python again. See :mod:`~fleet.connection.mux.server` (the daemon, run as
``python -P -m fleet.connection.mux.server``), :mod:`~fleet.connection.mux.relay` (its side of
a lease), :mod:`~fleet.connection.mux.client` and :mod:`~fleet.connection.mux.stream` (the
run's side), :mod:`~fleet.connection.mux.records` (what travels between them) and
:mod:`~fleet.connection.mux.place` (where the daemon lives and whom fleet trusts there).

The daemon is a credential cache, as ssh-agent is: it keeps agents that sudo started with a
password, and lends one only to a lease that gives the same password. Its memory is closed to
tracing and core dumps (:mod:`~fleet.connection.mux.memory`); a run sends it nothing unless its directory
and the process listening on its socket are the user's own.

A daemon is never something a run waits on forever: every exchange has a deadline, a lease
hears from the daemon at least every few seconds, and a daemon that is stopped, gone or
unusable makes the run connect directly, with one warning naming the daemon.

The face is the run's side; the daemon's modules are not imported by it.
"""

from fleet.connection.mux.client import MuxClient, Unavailable, control, exchange, other_daemons
from fleet.connection.mux.protocol import DEFAULT_PERSIST, persist_from_env

__all__ = ["DEFAULT_PERSIST", "MuxClient", "Unavailable", "control", "exchange", "other_daemons", "persist_from_env"]
