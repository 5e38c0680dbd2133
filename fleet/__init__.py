"""fleet: Ansible-compatible configuration and fleet management.

The public Python API lives in :mod:`fleet.api`; everything else is internal.
"""

__version__ = "0.1.0"
