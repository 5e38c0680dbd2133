"""Controller side of an agent: start it through a transport (:mod:`fleet.connection.agentstart`),
then exchange frames (the ``run`` request's calls: :mod:`fleet.connection.calls`).

What the controller accepts from one agent is bounded (``max_output``, ``--max-host-output`` /
``fleet_max_host_output``): every frame of an answer, progress frames included, counts against
``max_output`` bytes per task of the request (inflated size); a frame past it is refused from
its header or while inflating, before it is parsed, and the agent is stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import signal
import sys
import zlib
from dataclasses import dataclass, field
from typing import Any

from fleet.agent import wire
from fleet.bridge import Channel
from fleet.connection.agentstart import (
    BOOTSTRAP,
    READY,
    AgentStart,
    Become,
    agent_command,
    agent_payload,
    check_password,
    last_line,
    start_failure,
    start_timeout,
    sudo_prompt,
)
from fleet.connection.calls import ModuleCall, request_wait, run_request
from fleet.errors import AgentError, AgentLost, ConnectionFailed
from fleet.transport import (
    DEFAULT_MAX_OUTPUT,
    AgentProcess,
    RelayLost,
    Transport,
    output_exceeded,
)

__all__ = ["BOOTSTRAP", "READY", "AgentSession", "Become", "agent_command", "agent_payload"]

STATUSES = frozenset({"ok", "changed", "failed", "skipped"})  # what an agent result may say


class OutputExceeded(wire.FrameError):
    """An answer brought more than the session's output budget (``limit`` bytes)."""

    def __init__(self, limit: int) -> None:
        super().__init__(limit)
        self.limit = limit


@dataclass
class AgentSession:
    """One running agent: sends requests, reads answers, ships each module source once."""

    host: str
    process: AgentProcess
    hello: dict = field(default_factory=dict)
    sent_modules: set[str] = field(default_factory=set)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    broken: bool = False
    leased: bool = False  # borrowed from the persistence daemon: closing returns it, never stops it
    requests: int = 0  # round trips so far (the report counts them per host)
    max_output: int = DEFAULT_MAX_OUTPUT  # bytes accepted per task of a request (see the module doc)
    prompt: str = ""  # this agent's sudo prompt: left out of the errors that quote sudo's stderr
    _checked: bool = False  # hello's protocol version compared with ours
    busy: bool = False  # a request is out: the agent may be running tasks
    begun: bool = False  # told which run it works for (lock, pending handlers)
    # sent with the next request when set: which run the agent works for (an Opening of
    # fleet.executor.hoststate); its answer is handed to ``opening.done``
    opening: Any = None
    # Ansible's modules (fleet.bridge.Channel): which payloads this agent holds; made at the
    # first bridged call. A kept agent (leased) is asked what it holds from earlier runs.
    channel: Any = None
    # one request at a time: tasks of several hosts delegated to this host share its agent
    _turn: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False, compare=False)

    @classmethod
    async def start(
        cls,
        transport: Transport,
        host: str,
        interpreter: str,
        payload: bytes,
        become: Become | None = None,
        timeout: float = 30.0,
        max_output: int = DEFAULT_MAX_OUTPUT,
    ) -> AgentSession:
        """Start the agent and wait for its hello; ConnectionFailed with a clear reason if not."""
        check_password(become)
        prompt = sudo_prompt() if become is not None and become.password is not None else ""
        process = await transport.spawn(agent_command(interpreter, become, prompt))
        session = cls(host, process, max_output=max_output, prompt=prompt)
        try:
            await asyncio.wait_for(session._handshake(payload, become), timeout)
        except TimeoutError:
            process.kill()
            raise start_timeout(timeout, process.stderr_text(), become, prompt) from None
        except (EOFError, wire.FrameError) as exc:
            code = await process.finish(timeout=2.0)
            raise start_failure(code, process.stderr_text(), interpreter, become, prompt, exc) from None
        return session

    async def _handshake(self, payload: bytes, become: Become | None) -> None:
        starting = AgentStart(self.process, self.max_output)
        if become is not None and become.password is not None:
            await starting.through_sudo(become, self.prompt)
            await self.process.write(payload)
        else:  # nothing can ask for input: send the agent right behind the command
            await self.process.write(payload)
            await starting.ready()
        self.hello = await starting.hello()
        self.check_hello()

    def check_hello(self) -> None:
        """ConnectionFailed (the agent stopped) unless the hello's protocol version is ours."""
        self._checked = True
        version = self.hello.get("version")
        if version != wire.VERSION:
            self.broken = True
            self.process.kill()
            raise ConnectionFailed(
                f"{self.host}: the agent speaks frame protocol version {version!r:.20}, this "
                f"fleet speaks {wire.VERSION}: the agent was stopped (a persistence daemon of "
                f"another fleet version? run 'fleet mux stop')")

    async def read_message(self, limit: int | None = None) -> dict:
        """The next frame from the agent, decoded; FrameError if it is not a valid frame (an
        oversized length is refused before its payload is read), EOFError if the stream ends,
        OutputExceeded past ``limit`` bytes (default ``max_output``)."""
        message, _ = await self._read_frame(self.max_output if limit is None else limit)
        return message

    async def _read_frame(self, limit: int) -> tuple[dict, int]:
        """The next frame and its size (inflated), refused past ``limit`` bytes."""
        flags, length, crc = wire.parse_header(await self.process.read_exactly(wire.HEADER.size))
        if length > limit:
            raise OutputExceeded(limit)
        payload = await self.process.read_exactly(length)
        if zlib.crc32(payload) != crc:
            raise wire.FrameError(f"corrupt frame: checksum mismatch on {len(payload)} bytes")
        try:
            text = wire.inflate(flags, payload, min(limit, wire.MAX_MESSAGE))
        except wire.TooLarge:
            if limit < wire.MAX_MESSAGE:
                raise OutputExceeded(limit) from None
            raise
        return wire.parse_json(text), len(text)

    async def request(self, message: dict, timeout: float | None = None, tasks: int = 1,
                      results: int | None = None) -> dict:
        """:meth:`_request` in this agent's turn (another request waits for its answer)."""
        async with self._turn:
            return await self._request(message, timeout, tasks, results)

    async def _request(self, message: dict, timeout: float | None = None, tasks: int = 1,
                       results: int | None = None) -> dict:
        """Send one request and return its answer; AgentError if the agent fails or times out.

        The answer (with its progress frames) may bring ``max_output`` bytes per task of the
        request (``tasks``), and progress frames at most ``results`` results when given. A
        frame that is not valid (corrupt, truncated, oversized, another protocol version), an
        answer past that budget or of the wrong shape ends the session: the agent is stopped
        and nothing of the answer is used.

        A new agent's first request carries its ``opening`` (which run it works for): the
        notices the agent sends meanwhile (it waits for another run's lock on the host) and its
        answer go to the opening, which may raise (the host is locked, the run interrupted)."""
        if self.broken:
            raise AgentError("agent session is closed")
        if not self._checked and self.hello:  # a leased agent: its hello came from the daemon
            self.check_hello()
        message = dict(message, id=next(self._ids))
        opening = self.opening
        if opening is not None:
            message["begin"] = opening.message
        try:
            frame = wire.encode(message)
        except wire.FrameError as exc:  # nothing was sent: the session stays usable
            raise AgentError(f"cannot send the request to the agent on {self.host}: {exc}") from None
        self.requests += 1
        progress: list = []
        budget = self.max_output * max(1, tasks)
        try:
            self.busy = True  # before the write: a stop sent from now on follows the request
            await self.process.write(frame)
            answer, size = await asyncio.wait_for(self._read_frame(min(self.max_output, budget)), timeout)
            while ("progress" in answer or "notice" in answer) and answer.get("id") == message["id"]:
                budget -= size
                if "notice" in answer:
                    if opening is not None and isinstance(answer["notice"], dict):
                        opening.notice(answer["notice"])
                    answer, size = await asyncio.wait_for(self._read_frame(min(self.max_output, budget)), timeout)
                    continue
                streamed = answer["progress"]
                if not isinstance(streamed, list) or not all(
                        isinstance(r, dict) and r.get("status") in STATUSES for r in streamed):
                    raise wire.FrameError("malformed progress frame")
                progress.extend(streamed)
                if results is not None and len(progress) > results:
                    raise wire.FrameError(f"{len(progress)} results streamed for {results} calls")
                answer, size = await asyncio.wait_for(self._read_frame(min(self.max_output, budget)), timeout)
        except TimeoutError:
            self.broken = True
            self.process.kill()
            raise AgentError(f"timed out after {timeout:.0f} s with no answer from the agent (the host or "
                             f"the connection stopped responding); the agent was stopped",
                             partial=progress) from None
        except EOFError as exc:
            self.broken = True
            if isinstance(exc, RelayLost):  # the persistence daemon failed, not the host
                raise AgentError(str(exc), partial=progress) from None
            raise AgentLost(await self._loss(exc), partial=progress) from None
        except OutputExceeded as exc:
            self.broken = True
            self.process.kill()
            whole_request = exc.limit < self.max_output  # the request's sum ran out, not one frame
            raise AgentError(output_exceeded(self.host, self.max_output, tasks if whole_request else 1),
                             partial=progress) from None
        except wire.FrameError as exc:
            self.broken = True
            self.process.kill()
            raise AgentError(f"agent protocol error on {self.host}: {exc}; the agent was stopped",
                             partial=progress) from None
        finally:
            self.busy = False
        if answer.get("error"):
            self.broken = True
            error = str(answer["error"])
            raise AgentError(f"agent on {self.host}: {error.removeprefix('agent: ')}", partial=progress)
        if answer.get("id") != message["id"]:
            self.broken = True
            self.process.kill()
            raise AgentError(f"agent protocol error on {self.host}: answer id {answer.get('id')!r:.20} "
                             f"does not match request {message['id']}; the agent was stopped")
        if opening is not None:
            self.opening = None
            began = answer.pop("begin", None)
            opening.done(began if isinstance(began, dict) else {})  # HostLocked, Interrupted: nothing else ran
            self.begun = True
        if progress:
            answer["results"] = progress + list(answer.get("results") or [])
        return answer

    async def _loss(self, exc: EOFError) -> str:
        """Why the agent's stream ended: the agent died (status or signal), or the connection went."""
        code = await self.process.finish(timeout=1.0)
        err = last_line(self.process.stderr_text(), self.prompt)
        if code is None:
            detail = str(exc)
            message = "connection to the host lost" + ("" if detail.lower() == "connection lost" else f" ({detail})")
        elif code < 0 or code > 128:  # a signal: negative from ssh, 128+N from a shell or docker exec
            number = -code if code < 0 else code - 128
            message = f"the agent on the host was killed ({_signal_name(number)})"
        else:
            message = f"the agent on the host exited unexpectedly (exit status {code})"
        return message + (f": {err}" if err else "")

    async def run(self, calls: list[ModuleCall], timeout: float | None) -> list[dict]:
        """Execute module calls in one round trip; sources the agent lacks ride along.

        ``timeout`` is per task; calls of several tasks (``ModuleCall.task``) may share the
        request, and the agent may answer with fewer results when a ``stop`` call failed.
        Each call carries its own check and diff flags.
        """
        async with self._turn:
            return await self._run(calls, timeout)

    async def _run(self, calls: list[ModuleCall], timeout: float | None) -> list[dict]:
        sources: dict[str, str] = {}
        codes: dict[str, str] = {}
        bridged = [call for call in calls if call.bridged is not None]
        channel = await self._channel(bridged) if bridged else None
        same_bytecode = self.hello.get("cache_tag") == sys.implementation.cache_tag
        for call in calls:
            if call.bridged is not None:
                continue
            if call.sha in self.sent_modules or call.sha in sources or call.sha in codes:
                continue
            if same_bytecode:
                codes[call.sha] = call.code()
            else:
                sources[call.sha] = call.source
        message = run_request(calls, sources, codes, timeout, self.max_output)
        if channel is not None:
            channel.attach(message, calls)
        # Allow the agent a moment past the deadlines it enforces itself on commands.
        tasks = len({c.task for c in calls})
        answer = await self._request(message, request_wait(calls, timeout), tasks, len(calls))
        self.sent_modules.update(sources)
        self.sent_modules.update(codes)
        if channel is not None:
            channel.sent(message)
        results = answer.get("results")
        if (not isinstance(results, list) or len(results) > len(calls)
                or not all(isinstance(r, dict) and r.get("status") in STATUSES for r in results)):
            self.broken = True
            self.process.kill()
            raise AgentError(f"agent on {self.host} answered with a malformed result list; the agent "
                             f"was stopped")
        return results

    async def _channel(self, bridged: list[ModuleCall]) -> Any:
        """This agent's bridge channel. A kept agent (leased) is first asked which of the
        payloads these calls need it holds from earlier runs: one small round trip for each
        request that brings modules not asked about yet, so a payload goes once per agent,
        not once per run."""
        if self.channel is None:
            self.channel = Channel(bridged[0].bridged.code)
        query = self.channel.query(bridged)
        if self.leased and (query["blobs"] or query["sources"]):
            self.channel.learn(await self._request(query, 30.0), bridged)
        return self.channel

    async def stop(self) -> None:
        """The run was interrupted: the agent finishes the task in flight and starts no other
        (the request it is working on then answers with what was done)."""
        if self.busy and not self.broken:
            with contextlib.suppress(EOFError):
                await self.process.write(wire.encode({"op": "stop"}))

    async def close(self) -> None:
        if self.leased:  # closing the lease hands the agent back to the daemon
            if self.begun and not self.broken:
                # let go of the run's lock before the agent is kept ("end" has no answer, which
                # the daemon could cut in half as it stops relaying); the daemon's "detach" does
                # it too, when a run vanishes
                with contextlib.suppress(EOFError):
                    await self.process.write(wire.encode({"op": "end"}))
            self.process.kill()
            return
        if not self.broken:
            with contextlib.suppress(EOFError):
                await self.process.write(wire.encode({"op": "bye"}))
        if await self.process.finish(timeout=2.0) is None:
            self.process.kill()


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"
