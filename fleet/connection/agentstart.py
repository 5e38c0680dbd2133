"""Starting an agent: the command line, the sudo password exchange, the ready line, the hello.

The agent is started as ``python3 -I -c <BOOTSTRAP>``: isolated mode, so neither the login
directory (``sys.path[0]`` of ``-c``), ``PYTHON*`` variables nor the user's site-packages can put
a module in front of the standard library the bootstrap imports -- under become, that code would
run as the become user. The bootstrap prints :data:`READY`, reads one length-prefixed,
zlib-compressed JSON list of ``(module name, source, bytecode)`` from stdin, registers the
modules under their ``fleet.agent.*`` names and calls ``fleet.agent.main.main()``, which sends
the hello. Nothing is written to the target's disk.

With a become password, sudo gets a prompt made for this start only (``-p``); the password is
written when that prompt appears on stderr and never otherwise: a sudo that does not ask
(NOPASSWD, cached credentials) goes straight to :data:`READY`, and the password stays here.
"""

from __future__ import annotations

import asyncio
import binascii
import json
import marshal
import os
import shlex
import sys
import zlib
from dataclasses import dataclass, field
from importlib import resources

from fleet.agent import AGENT_MODULES, wire
from fleet.errors import ConnectionFailed
from fleet.transport import AgentProcess

READY = b"FLEET-AGENT-READY"
PRELUDE_MAX = 64 * 1024  # bytes the controller reads looking for the ready line
POLL = 0.05  # seconds between looks at sudo's stderr while waiting for its prompt

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
    password: str | None = field(default=None, repr=False)  # never in a repr, a log or a traceback
    method: str = "sudo"
    flags: str = "-H -S"


def sudo_prompt() -> str:
    """A sudo prompt for one agent start: nothing on the host can know it in advance."""
    return f"[fleet sudo {os.urandom(12).hex()}] password: "


def agent_command(interpreter: str, become: Become | None, prompt: str | None = None) -> str:
    """The shell command line that starts the agent (wrapped in sudo when becoming).

    ``prompt`` is the sudo prompt to wait for when ``become`` has a password.
    """
    command = f"{shlex.quote(interpreter)} -I -c {shlex.quote(BOOTSTRAP)}"
    if become is None:
        return command
    if become.method != "sudo":
        raise ConnectionFailed(f"become method {become.method!r} is not supported (only sudo)")
    if become.password is not None:
        if not prompt:
            raise ValueError("a become password needs the sudo prompt to wait for")
        ask = f"-p {shlex.quote(prompt)}"
    else:
        ask = "-n"
    return f"sudo {become.flags} {ask} -u {shlex.quote(become.user)} -- {command}"


def check_password(become: Become | None) -> None:
    """ConnectionFailed when the become password cannot go to sudo as one line."""
    if become is not None and become.password is not None and any(c in become.password for c in "\r\n\0"):
        raise ConnectionFailed(f"the become password for {become.user} contains a line break or NUL "
                               f"character: sudo reads one line")


class AgentStart:
    """The agent's first bytes on one process: the ready line, then the hello.

    Reads in chunks and keeps at most :data:`PRELUDE_MAX` bytes before the ready line and
    ``limit`` bytes of hello, so a host that prints without end cannot fill the controller's
    memory before the agent even runs.
    """

    def __init__(self, process: AgentProcess, limit: int) -> None:
        self.process = process
        self.limit = limit
        self.buffer = bytearray()

    async def _fill(self) -> None:
        chunk = await self.process.read_chunk(65536)
        if not chunk:
            raise EOFError("agent bootstrap did not start")
        self.buffer += chunk

    async def ready(self) -> None:
        """Wait for the bootstrap's ready line; EOFError if anything else comes first."""
        while (end := self.buffer.find(b"\n")) < 0:
            if len(self.buffer) > PRELUDE_MAX:
                raise EOFError(f"more than {PRELUDE_MAX} bytes of output without a line break before "
                               f"the agent started")
            await self._fill()
        line = bytes(self.buffer[:end]).strip()
        del self.buffer[:end + 1]
        if line != READY:
            raise EOFError(f"unexpected output before the agent started: {line[:80]!r}")

    async def _exactly(self, size: int) -> bytes:
        while len(self.buffer) < size:
            await self._fill()
        data = bytes(self.buffer[:size])
        del self.buffer[:size]
        return data

    async def hello(self) -> dict:
        """The agent's first frame, in the hello layout every protocol version keeps."""
        flags, length = wire.parse_hello_header(await self._exactly(wire.PREFIX.size))
        if length > self.limit:
            raise wire.FrameError(f"hello of {length} bytes exceeds the {self.limit} byte output limit")
        hello = wire.decode_payload(flags, await self._exactly(length), limit=self.limit)
        if hello.get("op") != "hello":
            raise wire.FrameError(f"expected hello, got {hello!r:.200}")
        if self.buffer:
            raise wire.FrameError("unexpected output after the agent's hello")
        return hello

    async def through_sudo(self, become: Become, prompt: str) -> None:
        """Wait for the ready line while watching sudo's stderr: write the password once sudo
        shows ``prompt``; a second prompt or a refusal is a wrong password (sudo would wait
        for another line instead of exiting). Without a prompt the password is never sent."""
        assert become.password is not None
        reading = asyncio.ensure_future(self.ready())
        sent = False
        try:
            while True:
                done, _ = await asyncio.wait({reading}, timeout=POLL)
                if done:
                    return reading.result()
                err = self.process.stderr_text()
                prompts = err.count(prompt)
                if prompts and not sent:
                    await self.process.write(become.password.encode("utf-8") + b"\n")
                    sent = True
                elif prompts > 1 or sent and ("Sorry, try again" in err or "incorrect password" in err):
                    self.process.kill()
                    raise ConnectionFailed(f"sudo to {become.user} refused the become password "
                                           f"(incorrect password)")
        finally:
            if not reading.done():
                reading.cancel()


def start_failure(code: int | None, err: str, interpreter: str, become: Become | None,
                  prompt: str, exc: Exception) -> ConnectionFailed:
    """Why the agent did not start, from its exit status and stderr (``prompt`` left out)."""
    if code == 127 or "not found" in err and interpreter in err:
        return ConnectionFailed(
            f"{interpreter} not found on the host: install Python 3 there "
            f"(e.g. apt-get install python3) or set ansible_python_interpreter"
        )
    if "Unknown option: -I" in err or "unknown option -I" in err:  # Python 2, or 3 before 3.4
        return ConnectionFailed(f"the agent needs Python >= 3.8: {interpreter} is older "
                                f"(it has no -I option); set ansible_python_interpreter")
    if become is not None and ("password is required" in err or "incorrect password" in err
                               or "Sorry, try again" in err or prompt and prompt in err):
        hint = ("use -K to give a password, or allow passwordless sudo" if become.password is None
                else "check the become password")
        return ConnectionFailed(f"sudo to {become.user} failed: {last_line(err, prompt)} ({hint})")
    if become is not None and ("not in the sudoers" in err or "may not run sudo" in err):
        return ConnectionFailed(f"sudo to {become.user} refused: {last_line(err, prompt)}")
    detail = last_line(err, prompt) or str(exc)
    return ConnectionFailed(f"agent failed to start (exit {code}): {detail}")


def start_timeout(timeout: float, err: str, become: Become | None, prompt: str) -> ConnectionFailed:
    """Why the agent did not start within ``timeout`` seconds: under sudo, what sudo was doing
    (from its stderr; ``prompt`` is this start's password prompt, left out of what is quoted)."""
    said = last_line(err, prompt)
    last = f" (last said: {said})" if said else ""
    if become is None:
        return ConnectionFailed(f"agent did not start within {timeout:.0f} s{last}")
    sudo = f"sudo to {become.user} did not start the agent within {timeout:.0f} s"
    if become.password is None:
        return ConnectionFailed(f"{sudo}{last}: with no become password it runs as sudo -n, which never waits "
                                f"for one, so sudo or one of its PAM modules hung")
    if prompt and prompt in err:
        return ConnectionFailed(f"{sudo} after it was given the become password{last}: sudo or a PAM module "
                                f"did not answer, or it asks for more than the password")
    if said:
        return ConnectionFailed(f"{sudo}: it waits at {said!r}, not at the password prompt fleet answers "
                                f"(sudo -p); fleet gives the become password only at its own prompt")
    return ConnectionFailed(f"{sudo}: sudo printed nothing and never asked for the password (a PAM module "
                            f"before the password hung?)")


def last_line(text: str, strip: str) -> str:
    """The last non-blank line of ``text``, with ``strip`` (a sudo prompt) removed."""
    if strip:  # before splitting: the prompt ends in a space that stripping a line would cut off
        text = text.replace(strip, "\n")
    lines = [line.strip() for line in text.splitlines()]
    lines = [line for line in lines if line]
    return lines[-1] if lines else ""
