"""Errors that carry where in the user's input they come from.

Library code raises these; only the CLI turns them into messages and exit codes.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Location:
    """A place in a user file: ``path:line`` (line is 1-based, 0 when unknown)."""

    path: str
    line: int = 0

    def __str__(self) -> str:
        return f"{self.path}:{self.line}" if self.line else self.path


class FleetError(Exception):
    """Base class for every error fleet reports to the user as one clear message."""

    def __init__(self, message: str, location: Location | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.location = location

    def __str__(self) -> str:
        if self.location is None:
            return self.message
        return f"{self.location}: {self.message}"


class InputError(FleetError):
    """Bad user input: YAML, inventory, playbook, parameters, variables, templates."""


class ModuleRefused(InputError):
    """A module's own rules refused the task's parameters on the controller (its ``check``).
    ``reason``: the module's own words, what a registered result's ``msg`` holds (as Ansible's
    module would have said it)."""

    def __init__(self, message: str, location: Location | None = None, reason: str = "") -> None:
        super().__init__(message, location)
        self.reason = reason or message


class AnsibleOnlyValue(ModuleRefused):
    """A literal value fleet's native module does not handle but Ansible's module of that name
    does (its AnsibleOnly failure at preflight): the task can run through the bridge."""


class TemplateError(InputError):
    """A Jinja2 template failed to parse or render (undefined variable, bad filter, ...)."""


class ConnectionFailed(FleetError):
    """A host could not be reached or its agent could not be started."""


class AgentError(FleetError):
    """The agent on a host broke the protocol, died, or timed out.

    ``partial`` holds the results a streamed request had already delivered.
    """

    def __init__(self, message: str, location: Location | None = None, partial: list | None = None) -> None:
        super().__init__(message, location)
        self.partial = partial or []


class AgentLost(AgentError):
    """The stream to the agent ended: the host went away or the agent was killed."""
