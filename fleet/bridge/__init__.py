"""The Ansible bridge (issue 19): Ansible's own module code for every module fleet does not
implement natively, run through fleet's agent.

ansible-core is an optional extra (``pip install 'fleet[ansible]'``), imported at run time
only (:mod:`fleet.bridge.core`), never copied into fleet. :mod:`~fleet.bridge.resolve` finds a
module the way ansible-core does, :mod:`~fleet.bridge.payload` has ansible-core build its
AnsiballZ payload, :mod:`~fleet.bridge.args` adds the ``_ansible_*`` arguments,
:mod:`~fleet.bridge.channel` turns a task into an agent call (payloads sent once per agent) and
:mod:`~fleet.bridge.results` shapes what the module returned as Ansible would. On the host,
``fleet/agent/ansiblehost.py`` and ``fleet/agent/ansibleserver.py`` run it in a forked child.
"""

from fleet.bridge.args import TaskFlags
from fleet.bridge.argspec import argument_errors, installed_version
from fleet.bridge.channel import BridgedCall, Channel, HostCode
from fleet.bridge.core import INSTALL, AnsibleMissing
from fleet.bridge.resolve import Resolution
from fleet.bridge.results import Shaped, fleet_diff
from fleet.bridge.run import Bridge, plain

__all__ = ["INSTALL", "AnsibleMissing", "Bridge", "BridgedCall", "Channel", "HostCode", "Resolution", "Shaped",
           "TaskFlags", "argument_errors", "fleet_diff", "installed_version", "plain"]
