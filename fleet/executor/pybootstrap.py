"""A host connection that installs python3 first when the host has none (``bootstrap_python``).

Without the variable, a missing interpreter fails as before, and the message names the option.
In a check run nothing is installed: the host is reported unreachable, saying that applying
would install python3 (check mode writes nothing, not even before the agent runs).
"""

from __future__ import annotations

import contextlib

from fleet.errors import ConnectionFailed
from fleet.executor.connection import HostConnection
from fleet.session import AgentSession
from fleet.transport.bootstrap import Bootstrap, ensure_python, interpreter_missing
from fleet.transport.chroot import ChrootTransport

HINT = "or set bootstrap_python: true (fleet bake --bootstrap-python) to have fleet install it"
CHECK_HINT = ("not installed in check mode, which changes nothing on the host: bootstrap_python: true "
              "installs it when the playbook is applied")


class BootstrappingConnection(HostConnection):
    """:class:`HostConnection` that installs python3 over the raw transport when it is missing."""

    bootstrap_python = False
    check_mode = False  # a check run: never install
    bootstrapped: Bootstrap | None = None

    async def session(self, become_user: str | None) -> AgentSession:
        try:
            return await super().session(become_user)
        except ConnectionFailed as exc:
            if not interpreter_missing(exc, self.interpreter) or self.bootstrapped is not None:
                raise
            if not self.bootstrap_python:
                raise ConnectionFailed(f"{exc.message}; {HINT}", exc.location) from None
            if self.check_mode:
                raise ConnectionFailed(f"{exc.message}; {CHECK_HINT}", exc.location) from None
        self.bootstrapped = await self.install_python()
        return await super().session(become_user)

    async def install_python(self) -> Bootstrap:
        """python3 installed on the host through a fresh transport (closed afterwards)."""
        transport = self.spec.build()
        if isinstance(transport, ChrootTransport):
            transport.check_python = False
        try:
            await transport.connect()
            return await ensure_python(transport, self.interpreter, limit=self.max_output, host=self.name)
        finally:
            with contextlib.suppress(Exception):
                await transport.close()
