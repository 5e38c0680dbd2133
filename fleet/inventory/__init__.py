"""Ansible-compatible inventory: YAML, INI, scripts, directories, host lists, patterns.

Use :meth:`Inventory.load` with the ``-i`` sources; see :mod:`fleet.inventory.patterns`
for host patterns and :meth:`Inventory.host_layers` for variable precedence.
"""

from fleet.inventory.inventory import Inventory
from fleet.inventory.model import Group, Host, VarsBlock

__all__ = ["Group", "Host", "Inventory", "VarsBlock"]
