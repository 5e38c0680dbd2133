"""Persistent agents between runs (like OpenSSH's ControlPersist, which Ansible enables).

A per-user daemon keeps each host's connection and started agents for ``--persist`` seconds
after a run ends; the next run leases them over a private unix socket instead of opening SSH
and starting Python again. See :mod:`fleet.mux.server` and :mod:`fleet.mux.client`.

The daemon is a credential cache, as ssh-agent is: it keeps agents that sudo started with a
password, and lends one only to a lease that gives the same password. Its memory is closed to
tracing and core dumps (:mod:`fleet.mux.memory`).
"""
