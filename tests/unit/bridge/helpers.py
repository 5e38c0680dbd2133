"""Driving bridged calls: through an in-process agent (unit) or an AgentSession (e2e)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Driver:
    """Resolves, builds and sends bridged tasks; keeps the messages it sent."""

    core: Any
    resolver: Any
    sent: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        from fleet.bridge.channel import Calls, Channel, HostCode

        self.calls = Calls(self.core)
        self.channel = Channel(HostCode.load())

    def call(self, name: str, args: dict[str, Any], check: bool = False, collections: tuple[str, ...] = (),
             env: dict[str, str] | None = None, no_log: bool = False, task: int = 0):
        from fleet.bridge.args import TaskFlags

        module = self.resolver.resolve(name, collections)
        assert module.runnable, module.refused
        return self.calls.make(module, args, TaskFlags(check=check, no_log=no_log), env=env, task=task)

    def local(self, agent: Any, calls: list, check: bool = False, timeout: float = 60,
              max_output: int = 1 << 20) -> list[dict[str, Any]]:
        """Send ``calls`` to an in-process ``fleet.agent.main.Agent``."""
        message = self.channel.message(calls, check, False, timeout, max_output)
        self.sent.append(message)
        answer = agent.handle(dict(message, id=len(self.sent)))
        self.channel.sent(message)
        return answer["results"]

    def shape(self, result: dict[str, Any], name: str, no_log: bool = False):
        from fleet.bridge.results import shape

        return shape(self.core, result, name, no_log=no_log)
