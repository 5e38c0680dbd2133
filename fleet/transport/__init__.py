"""Ways to start the agent on a host and get its byte stream.

A transport only knows how to run a shell command line on the target and hand back an
:class:`~fleet.transport.base.AgentProcess`. Everything above it (bootstrap, framing,
become) is shared in :mod:`fleet.session`.
"""

from fleet.transport.base import AgentProcess, Transport

__all__ = ["AgentProcess", "Transport"]
