"""Controller side of an agent: bootstrap it through a transport, then exchange frames.

The agent is started as ``python3 -c <BOOTSTRAP>``; the bootstrap reads one length-prefixed,
zlib-compressed JSON list of ``(module name, source)`` pairs from stdin, registers them in
``sys.modules`` under their ``fleet.agent.*`` names, and calls ``fleet.agent.main.main()``.
Nothing is written to the target's disk.
"""

from __future__ import annotations

import asyncio
import binascii
import contextlib
import hashlib
import itertools
import json
import marshal
import shlex
import signal
import sys
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources

from fleet.agent import AGENT_MODULES, wire
from fleet.errors import AgentError, AgentLost, ConnectionFailed
from fleet.transport.base import AgentProcess, Transport

READY = b"FLEET-AGENT-READY"
STATUSES = frozenset({"ok", "changed", "failed", "skipped"})  # what an agent result may say
SUDO_PROMPT = "[fleet-sudo-password]"

BOOTSTRAP = (
    "import sys,json,zlib,types,marshal,binascii\n"
    "if sys.version_info<(3,8):\n"
    " sys.stderr.write('fleet: the agent needs Python >= 3.8, this is '+sys.version.split()[0]+'\\n');sys.exit(3)\n"
    "o=sys.stdout.buffer;o.write(b'" + READY.decode() + "\\n');o.flush()\n"
    "r=sys.stdin.buffer;n=int(r.readline())\n"
    "for k in ('fleet','fleet.agent'):\n"
    " m=types.ModuleType(k);m.__path__=[];sys.modules[k]=m\n"
    "p=json.loads(zlib.decompress(r.read(n)).decode('utf-8'));t=sys.implementation.cache_tag==p['tag']\n"
    "for k,s,c in p['modules']:\n"
    " m=types.ModuleType(k);sys.modules[k]=m;setattr(sys.modules['fleet.agent'],k.split('.')[-1],m)\n"
    " exec(marshal.loads(binascii.a2b_base64(c)) if t else compile(s,'<'+k+'>','exec'),m.__dict__)\n"
    "sys.modules['fleet.agent.main'].main()\n"
)


def compiled(source: str, filename: str) -> str:
    """``source`` compiled for this interpreter, marshalled and base64-encoded.

    Sent beside (or instead of) the source when the target's Python has the same bytecode
    tag (``sys.implementation.cache_tag``), so targets skip compiling: ~15 ms per host.
    """
    code = compile(source, filename, "exec", dont_inherit=True)
    return binascii.b2a_base64(marshal.dumps(code), newline=False).decode("ascii")


def agent_payload() -> bytes:
    """The agent as the bootstrap expects it (length line + compressed JSON): each module's
    source and its bytecode for this controller's Python (used when the target's matches)."""
    package = resources.files("fleet.agent")
    modules = []
    for name in AGENT_MODULES:
        qualified = f"fleet.agent.{name}"
        source = (package / f"{name}.py").read_text("utf-8")
        modules.append((qualified, source, compiled(source, f"<{qualified}>")))
    data = {"tag": sys.implementation.cache_tag, "modules": modules}
    blob = zlib.compress(json.dumps(data).encode("utf-8"), 6)
    return str(len(blob)).encode() + b"\n" + blob


@dataclass(frozen=True)
class Become:
    """Privilege escalation for one agent: ``sudo -u user``; password only with ``-K``."""

    user: str = "root"
    password: str | None = None
    method: str = "sudo"
    flags: str = "-H -S"


def agent_command(interpreter: str, become: Become | None) -> str:
    """The shell command line that starts the agent (wrapped in sudo when becoming)."""
    command = f"{shlex.quote(interpreter)} -c {shlex.quote(BOOTSTRAP)}"
    if become is None:
        return command
    if become.method != "sudo":
        raise ConnectionFailed(f"become method {become.method!r} is not supported (only sudo)")
    prompt = f"-p {shlex.quote(SUDO_PROMPT)}" if become.password is not None else "-n"
    return f"sudo {become.flags} {prompt} -u {shlex.quote(become.user)} -- {command}"


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
    _checked: bool = False  # hello's protocol version compared with ours

    @classmethod
    async def start(
        cls,
        transport: Transport,
        host: str,
        interpreter: str,
        payload: bytes,
        become: Become | None = None,
        timeout: float = 30.0,
    ) -> AgentSession:
        """Start the agent and wait for its hello; ConnectionFailed with a clear reason if not."""
        process = await transport.spawn(agent_command(interpreter, become))
        session = cls(host, process)
        try:
            await asyncio.wait_for(session._handshake(payload, become), timeout)
        except TimeoutError:
            process.kill()
            raise ConnectionFailed(f"agent did not start within {timeout:.0f} s") from None
        except (EOFError, wire.FrameError) as exc:
            raise await session._start_failure(interpreter, become, exc) from None
        return session

    async def _handshake(self, payload: bytes, become: Become | None) -> None:
        if become is not None and become.password is not None:
            await self.process.write(become.password.encode() + b"\n")
            line = await self._line_unless_sudo_reprompts(become)
            if line.strip() != READY:
                raise EOFError(f"unexpected output before the agent started: {line[:80]!r}")
        else:
            line = None
        await self.process.write(payload)
        if line is None and (await self.process.read_line()).strip() != READY:
            raise EOFError("agent bootstrap did not start")
        self.hello = await self.read_hello()
        self.check_hello()

    async def read_hello(self) -> dict:
        """The agent's first frame, in the hello layout every protocol version keeps."""
        flags, length = wire.parse_hello_header(await self.process.read_exactly(wire.PREFIX.size))
        hello = wire.decode_payload(flags, await self.process.read_exactly(length))
        if hello.get("op") != "hello":
            raise wire.FrameError(f"expected hello, got {hello!r:.200}")
        return hello

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

    async def _line_unless_sudo_reprompts(self, become: Become) -> bytes:
        """The agent's READY line; or, if sudo asks again (wrong password), a clear failure.

        sudo re-prompts on stderr and waits for more input instead of exiting, so waiting for
        READY alone would only end at the start timeout.
        """
        reading = asyncio.ensure_future(self.process.read_line())
        try:
            while True:
                done, _ = await asyncio.wait({reading}, timeout=0.05)
                if done:
                    return reading.result()
                err = self.process.stderr_text()
                if err.count(SUDO_PROMPT) > 1 or "Sorry, try again" in err or "incorrect password" in err:
                    self.process.kill()
                    raise ConnectionFailed(f"sudo to {become.user} refused the become password "
                                           f"(incorrect password)")
        finally:
            if not reading.done():
                reading.cancel()

    async def _start_failure(self, interpreter: str, become: Become | None, exc: Exception) -> ConnectionFailed:
        code = await self.process.finish(timeout=2.0)
        err = self.process.stderr_text().strip()
        if code == 127 or "not found" in err and interpreter in err:
            return ConnectionFailed(
                f"{interpreter} not found on the host: install Python 3 there "
                f"(e.g. apt-get install python3) or set ansible_python_interpreter"
            )
        if become is not None and ("password is required" in err or "incorrect password" in err
                                   or "Sorry, try again" in err or SUDO_PROMPT in err):
            return ConnectionFailed(
                f"sudo to {become.user} failed: {_last_line(err, SUDO_PROMPT)} "
                f"(use -K to give a password, or allow passwordless sudo)"
            )
        if become is not None and ("not in the sudoers" in err or "may not run sudo" in err):
            return ConnectionFailed(f"sudo to {become.user} refused: {_last_line(err, SUDO_PROMPT)}")
        detail = _last_line(err, SUDO_PROMPT) or str(exc)
        return ConnectionFailed(f"agent failed to start (exit {code}): {detail}")

    async def read_message(self) -> dict:
        """The next frame from the agent, decoded; FrameError if it is not a valid frame (an
        oversized length is refused before its payload is read), EOFError if the stream ends."""
        flags, length, crc = wire.parse_header(await self.process.read_exactly(wire.HEADER.size))
        return wire.decode_payload(flags, await self.process.read_exactly(length), crc)

    async def request(self, message: dict, timeout: float | None = None) -> dict:
        """Send one request and return its answer; AgentError if the agent fails or times out.

        A frame that is not valid (corrupt, truncated, oversized, another protocol version) or
        an answer of the wrong shape ends the session: the agent is stopped and nothing of the
        answer is used."""
        if self.broken:
            raise AgentError("agent session is closed")
        if not self._checked and self.hello:  # a leased agent: its hello came from the daemon
            self.check_hello()
        message = dict(message, id=next(self._ids))
        try:
            frame = wire.encode(message)
        except wire.FrameError as exc:  # nothing was sent: the session stays usable
            raise AgentError(f"cannot send the request to the agent on {self.host}: {exc}") from None
        self.requests += 1
        progress: list = []
        try:
            await self.process.write(frame)
            answer = await asyncio.wait_for(self.read_message(), timeout)
            while "progress" in answer and answer.get("id") == message["id"]:
                streamed = answer["progress"]
                if not isinstance(streamed, list) or not all(
                        isinstance(r, dict) and r.get("status") in STATUSES for r in streamed):
                    raise wire.FrameError("malformed progress frame")
                progress.extend(streamed)
                answer = await asyncio.wait_for(self.read_message(), timeout)
        except TimeoutError:
            self.broken = True
            self.process.kill()
            raise AgentError(f"timed out after {timeout:.0f} s with no answer from the agent (the host or "
                             f"the connection stopped responding); the agent was stopped",
                             partial=progress) from None
        except EOFError as exc:
            self.broken = True
            raise AgentLost(await self._loss(exc), partial=progress) from None
        except wire.FrameError as exc:
            self.broken = True
            self.process.kill()
            raise AgentError(f"agent protocol error on {self.host}: {exc}; the agent was stopped",
                             partial=progress) from None
        if answer.get("error"):
            self.broken = True
            error = str(answer["error"])
            raise AgentError(f"agent on {self.host}: {error.removeprefix('agent: ')}", partial=progress)
        if answer.get("id") != message["id"]:
            self.broken = True
            self.process.kill()
            raise AgentError(f"agent protocol error on {self.host}: answer id {answer.get('id')!r:.20} "
                             f"does not match request {message['id']}; the agent was stopped")
        if progress:
            answer["results"] = progress + list(answer.get("results") or [])
        return answer

    async def _loss(self, exc: EOFError) -> str:
        """Why the agent's stream ended: the agent died (status or signal), or the connection went."""
        code = await self.process.finish(timeout=1.0)
        err = _last_line(self.process.stderr_text(), "")
        if code is None:
            detail = str(exc)
            message = "connection to the host lost" + ("" if detail.lower() == "connection lost" else f" ({detail})")
        elif code < 0 or code > 128:  # a signal: negative from ssh, 128+N from a shell or docker exec
            number = -code if code < 0 else code - 128
            message = f"the agent on the host was killed ({_signal_name(number)})"
        else:
            message = f"the agent on the host exited unexpectedly (exit status {code})"
        return message + (f": {err}" if err else "")

    async def run(self, calls: list[ModuleCall], check: bool, diff: bool, timeout: float | None) -> list[dict]:
        """Execute module calls in one round trip; sources the agent lacks ride along.

        ``timeout`` is per task; calls of several tasks (``ModuleCall.task``) may share the
        request, and the agent may answer with fewer results when a ``stop`` call failed.
        """
        sources: dict[str, str] = {}
        codes: dict[str, str] = {}
        same_bytecode = self.hello.get("cache_tag") == sys.implementation.cache_tag
        for call in calls:
            if call.sha in self.sent_modules or call.sha in sources or call.sha in codes:
                continue
            if same_bytecode:
                codes[call.sha] = call.code()
            else:
                sources[call.sha] = call.source
        message = {
            "op": "run",
            "check": check,
            "diff": diff,
            "timeout": timeout,
            "calls": [c.wire() for c in calls],
            "sources": sources,
            "codes": codes,
        }
        if len({c.task for c in calls}) > 1:
            message["stream"] = True  # pipelined tasks: report each one as it finishes
        # Allow the agent a moment past the deadlines it enforces itself on commands.
        tasks = len({c.task for c in calls})
        answer = await self.request(message, None if timeout is None else timeout * tasks + 5.0)
        self.sent_modules.update(sources)
        self.sent_modules.update(codes)
        results = answer.get("results")
        if (not isinstance(results, list) or len(results) > len(calls)
                or not all(isinstance(r, dict) and r.get("status") in STATUSES for r in results)):
            self.broken = True
            self.process.kill()
            raise AgentError(f"agent on {self.host} answered with a malformed result list; the agent "
                             f"was stopped")
        return results

    async def close(self) -> None:
        if self.leased:  # closing the lease hands the agent back to the daemon
            self.process.kill()
            return
        if not self.broken:
            with contextlib.suppress(EOFError):
                await self.process.write(wire.encode({"op": "bye"}))
        if await self.process.finish(timeout=2.0) is None:
            self.process.kill()


@dataclass(frozen=True)
class ModuleCall:
    """One module invocation: which module (name, source, hash) and its validated params."""

    name: str
    source: str
    sha: str
    params: dict
    compiled: Callable[[], str] | None = None  # bytecode for this controller's Python, cached by the caller
    # Pipelining several tasks in one request: which task the call belongs to, its own check
    # and diff flags, and whether a failure stops the tasks after it.
    task: int = 0
    check: bool | None = None
    diff: bool | None = None
    stop: bool = False
    # Connection guard (fleet.agent.guard): the module can cut the management connection
    # (``sensitive``); ``guard`` is how long the host waits for confirmation before reverting.
    sensitive: bool = False
    guard: float | None = None

    def wire(self) -> dict:
        """The call as the agent reads it."""
        entry: dict = {"module": self.name, "sha": self.sha, "params": self.params}
        if self.task:
            entry["task"] = self.task
        if self.check is not None:
            entry["check"] = self.check
        if self.diff is not None:
            entry["diff"] = self.diff
        if self.stop:
            entry["stop"] = True
        if self.guard:
            entry["guard"] = self.guard
        return entry

    def code(self) -> str:
        if self.compiled is not None:
            return self.compiled()
        return compiled(self.source, f"<fleet module {self.name}>")


def source_hash(source: str) -> str:
    return hashlib.sha1(source.encode("utf-8")).hexdigest()


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _last_line(text: str, strip: str) -> str:
    lines = [line.replace(strip, "").strip() for line in text.strip().splitlines()]
    lines = [line for line in lines if line]
    return lines[-1] if lines else ""
