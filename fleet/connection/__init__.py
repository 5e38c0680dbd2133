"""The connection layer: from a host's variables to a running agent, and talking to it.

- :mod:`~fleet.connection.settings`: connection settings from Ansible's variables and the
  command line (:class:`ConnectionDefaults`, :func:`ssh_options`, the ``SPECS`` registry).
- :mod:`~fleet.connection.host`: :class:`HostConnection`, one host's transport and agents
  (one per become user), knowing the run's mode.
- :mod:`~fleet.connection.agentstart`: starting the agent (``python3 -I``, sudo's password
  only to sudo's own prompt); :mod:`~fleet.connection.session`: :class:`AgentSession`, framed
  requests within the host's output budget; :mod:`~fleet.connection.calls`:
  :class:`ModuleCall`, what a ``run`` request carries.
- :mod:`~fleet.connection.credentials`: passwords become secrets, unsafe key files warned about.
- :mod:`~fleet.connection.guard`: the controller's side of the connection guard.
- :mod:`~fleet.connection.pyinstall`: installing python3 where it is missing -- a write path.
- :mod:`~fleet.connection.mux`: the persistence daemon that keeps agents between runs.

The layer knows nothing of plays or tasks; transports (:mod:`fleet.transport`) know nothing
of it.
"""

from fleet.connection.agentstart import Become, agent_payload
from fleet.connection.calls import ModuleCall, source_hash
from fleet.connection.credentials import note_credentials, read_become_password
from fleet.connection.guard import armed, guard_seconds, settle
from fleet.connection.host import HostConnection, make_connection
from fleet.connection.pyinstall import Bootstrap, ensure_python, purge_python
from fleet.connection.pyinstall import raw as run_raw
from fleet.connection.session import AgentSession
from fleet.connection.settings import (
    INSECURE_VAR,
    SSH_ARG_VARS,
    ConnectionDefaults,
    env_accepts_new_host_keys,
    interpreter_for,
    ssh_options,
    transport_spec,
)

__all__ = [
    "INSECURE_VAR",
    "SSH_ARG_VARS",
    "AgentSession",
    "Become",
    "Bootstrap",
    "ConnectionDefaults",
    "HostConnection",
    "ModuleCall",
    "agent_payload",
    "armed",
    "ensure_python",
    "env_accepts_new_host_keys",
    "guard_seconds",
    "interpreter_for",
    "make_connection",
    "note_credentials",
    "purge_python",
    "read_become_password",
    "run_raw",
    "settle",
    "source_hash",
    "ssh_options",
    "transport_spec",
]
