"""A task for one of Ansible's modules as an agent call, and the request that carries it.

A bridged call in a ``run`` request::

    {"sha": SHA1 of fleet/agent/ansiblehost.py, "task": N,
     "ansible": {"server": SHA256, "zip": SHA256, "core": "2.19.4", "fqn": "ansible.modules.getent",
                 "style": "ansiballz", "profile": "legacy", "extensions": {},
                 "params": "{\"ANSIBLE_MODULE_ARGS\": {...}}", "env": {...}}}

The request's ``blobs`` field (``{SHA256: base64}``) brings the fork server's source and the
module zips the agent does not have yet; ``sources`` brings ``ansiblehost.py`` with the first
bridged call of an agent. :class:`Channel` keeps the account of what one agent holds, with the
agent's own bound (:data:`fleet.agent.ansiblehost.MAX_BLOBS`, least recently used dropped), so
what the agent dropped is sent again.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from fleet.agent.ansiblehost import MAX_BLOBS
from fleet.bridge.args import TaskFlags, module_args
from fleet.bridge.core import AnsibleCore
from fleet.bridge.payload import Payload, PayloadCache, Store
from fleet.bridge.resolve import Resolution


@dataclass(frozen=True)
class HostCode:
    """The host side of the bridge as sent: ansiblehost.py (a module source, by sha1 as the
    session's sources) and ansibleserver.py (a blob, by sha256)."""

    host_source: str
    host_sha: str
    server: bytes = field(repr=False)
    server_sha: str = ""

    @classmethod
    def load(cls) -> HostCode:
        package = resources.files("fleet.agent")
        host = (package / "ansiblehost.py").read_text("utf-8")
        server = (package / "ansibleserver.py").read_bytes()
        return cls(host, hashlib.sha1(host.encode("utf-8")).hexdigest(), server, hashlib.sha256(server).hexdigest())


@dataclass(frozen=True)
class BridgedCall:
    """One task of an Ansible module, ready for an agent."""

    payload: Payload
    params: str  # JSON of {"ANSIBLE_MODULE_ARGS": ...}, _ansible_* included
    env: Mapping[str, str]
    task: int = 0
    code: HostCode | None = field(default=None, repr=False, compare=False)  # the host side it runs in


class Channel:
    """Builds bridged requests for one agent and remembers which blobs it was given."""

    def __init__(self, code: HostCode, limit: int = MAX_BLOBS) -> None:
        self.code = code
        self.limit = limit
        self.held: OrderedDict[str, int] = OrderedDict()  # sha -> size, least recently used first
        self.host_sent = False
        self.sent_bytes = 0  # payload and host code bytes this channel sent (the report says it)
        self.asked: set[str] = set()  # shas a kept agent was asked about (query/learn)

    def message(self, calls: Sequence[BridgedCall], check: bool, diff: bool, timeout: float | None,
                max_output: int | None = None) -> dict[str, Any]:
        """The ``run`` request for ``calls``: blobs and the host code only where needed."""
        blobs: dict[str, str] = {}
        for sha, data in [(self.code.server_sha, self.code.server)] + [(c.payload.sha, c.payload.zip) for c in calls]:
            if sha not in self.held and sha not in blobs:
                blobs[sha] = base64.b64encode(data).decode("ascii")
        message: dict[str, Any] = {
            "op": "run", "timeout": timeout,
            "calls": [self.wire(c, check, diff) for c in calls], "blobs": blobs,
            "sources": {} if self.host_sent else {self.code.host_sha: self.code.host_source},
        }
        if max_output is not None:
            message["max_output"] = max_output
        if len({c.task for c in calls}) > 1:
            message["stream"] = True
        return message

    def sent(self, message: Mapping[str, Any]) -> None:
        """The agent answered ``message``: it holds what it carried (and used what it named)."""
        if self.code.host_sha in (message.get("sources") or {}):
            self.host_sent = True
            self.sent_bytes += len(self.code.host_source)
        for sha, text in message.get("blobs", {}).items():
            self.held[sha] = len(text) * 3 // 4 - text.count("=")
            self.sent_bytes += self.held[sha]
        for sha in [self.code.server_sha] + [c["ansible"]["zip"] for c in message.get("calls", []) if "ansible" in c]:
            if sha in self.held:
                self.held.move_to_end(sha)
        while sum(self.held.values()) > self.limit and len(self.held) > 1:
            self.held.popitem(last=False)

    def attach(self, message: dict[str, Any], calls: Sequence[Any]) -> None:
        """Make a ``run`` request of fleet's connection layer (``message``, built for
        ``calls``, ``ModuleCall`` s) carry its bridged calls: their entries, the blobs and the
        host code the agent lacks. Native and bridged calls share the request."""
        blobs: dict[str, str] = {}
        needed = [(self.code.server_sha, self.code.server)]
        for index, call in enumerate(calls):
            bridged = call.bridged
            if bridged is None:
                continue
            entry = self.wire(bridged, call.check, call.diff)
            for key in ("task", "stop", "notify"):
                if getattr(call, key):
                    entry[key] = getattr(call, key)
            if getattr(call, "job", None):  # the async keyword: the agent runs it as a detached job
                entry["async"] = call.job
            message["calls"][index] = entry
            needed.append((bridged.payload.sha, bridged.payload.zip))
        for sha, data in needed:
            if sha not in self.held and sha not in blobs:
                blobs[sha] = base64.b64encode(data).decode("ascii")
        message["blobs"] = blobs
        if not self.host_sent:
            message["sources"] = dict(message.get("sources") or {}, **{self.code.host_sha: self.code.host_source})

    def query(self, calls: Sequence[Any]) -> dict[str, Any]:
        """The ``held`` request: which of the blobs and host code these calls need does a kept
        agent (another run's) hold already?"""
        shas = [self.code.server_sha] + [c.bridged.payload.sha for c in calls if c.bridged is not None]
        blobs = [sha for sha in dict.fromkeys(shas) if sha not in self.held and sha not in self.asked]
        sources = [] if self.host_sent or self.code.host_sha in self.asked else [self.code.host_sha]
        return {"op": "held", "blobs": blobs, "sources": sources}

    def learn(self, answer: Mapping[str, Any], calls: Sequence[Any]) -> None:
        """The agent's answer to :meth:`query`: what it holds counts as sent."""
        self.asked.update(self.query(calls)["blobs"])
        self.asked.add(self.code.host_sha)
        sizes = {self.code.server_sha: len(self.code.server)}
        sizes.update((c.bridged.payload.sha, len(c.bridged.payload.zip)) for c in calls if c.bridged is not None)
        for sha in answer.get("blobs") or []:
            if sha in sizes:
                self.held[sha] = sizes[sha]
        if self.code.host_sha in (answer.get("sources") or []):
            self.host_sent = True

    def wire(self, call: BridgedCall, check: bool, diff: bool) -> dict[str, Any]:
        """The agent's entry for ``call``; check and diff travel per call, as for native calls."""
        payload = call.payload
        entry: dict[str, Any] = {"sha": self.code.host_sha, "check": check, "diff": diff, "ansible": {
            "server": self.code.server_sha, "zip": payload.sha, "core": payload.core, "fqn": payload.module_fqn,
            "style": payload.style, "profile": payload.profile, "extensions": payload.extensions,
            "params": call.params, "env": dict(call.env)}}
        if call.task:
            entry["task"] = call.task
        return entry


class Calls:
    """Makes :class:`BridgedCall` s: payloads cached per module, arguments per task."""

    def __init__(self, core: AnsibleCore, store: Store | None = None) -> None:
        self.core = core
        self.payloads = PayloadCache(core, store)
        self.code = HostCode.load()

    def make(self, module: Resolution, args: Mapping[str, Any], flags: TaskFlags,
             task_vars: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None,
             task: int = 0) -> BridgedCall:
        payload = self.payloads.get(module)
        params = module_args(self.core, module.name, args, flags, task_vars)
        text = json.dumps({"ANSIBLE_MODULE_ARGS": params})
        return BridgedCall(payload, text, dict(env or {}), task, code=self.code)


async def send(session: Any, channel: Channel, calls: Sequence[BridgedCall], check: bool, diff: bool,
               timeout: float | None) -> list[dict[str, Any]]:
    """One round trip of bridged ``calls`` on an ``AgentSession`` (as ``AgentSession.run`` does
    for native calls): the results, in fleet's shape."""
    message = channel.message(calls, check, diff, timeout, session.max_output)
    tasks = len({c.task for c in calls})
    answer = await session.request(message, None if timeout is None else timeout * tasks + 5.0, tasks, len(calls))
    channel.sent(message)
    return list(answer.get("results") or [])
