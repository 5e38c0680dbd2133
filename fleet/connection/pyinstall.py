"""Python-less targets: install python3 over the raw transport, before the agent can start.

A write path. Everything else fleet changes on a host goes through the agent's ``HostWriter``
(:mod:`fleet.agent.hostio`), which check mode never reaches; this is the one place the
controller changes a host without an agent, because there is no Python for one yet. So it is
guarded where it is called: :class:`~fleet.connection.host.HostConnection` runs it only when
``bootstrap_python: true`` and never in a check run, and ``fleet bake --bootstrap-python``
runs it on an image or tree being built (``--purge-python`` removes what it added).

One POSIX shell script finds the package manager (apt-get, dnf, yum, apk), installs python3
without recommended packages (as root, else through ``sudo -n``), and reports the packages
it added, so a bake can remove exactly those again.
"""

from __future__ import annotations

import asyncio
import shlex
from dataclasses import dataclass, field

from fleet.errors import ConnectionFailed
from fleet.transport import DEFAULT_MAX_OUTPUT, Transport, output_exceeded

MARK = "fleet-bootstrap"
MANAGERS = ("apt-get", "dnf", "yum", "apk")

# Installed-package lists and install commands per manager; $S is "" (root) or "sudo -n".
_SCRIPT = r"""
interp=__INTERP__
if command -v "$interp" >/dev/null 2>&1; then echo "__MARK__ present"; exit 0; fi
if [ "$(id -u)" = 0 ]; then S=""
elif command -v sudo >/dev/null 2>&1; then S="sudo -n"
else echo "not root, and no sudo to become root" >&2; exit 4; fi
listed() {
  case $pm in
    apt) dpkg-query -W -f '${Status} ${Package}\n' | sed -n 's/^install ok installed //p' ;;
    dnf|yum) rpm -qa --qf '%{NAME}\n' ;;
    apk) apk info 2>/dev/null ;;
  esac
}
if command -v apt-get >/dev/null 2>&1; then pm=apt
elif command -v dnf >/dev/null 2>&1; then pm=dnf
elif command -v yum >/dev/null 2>&1; then pm=yum
elif command -v apk >/dev/null 2>&1; then pm=apk
else echo "no package manager fleet knows (__MANAGERS__)" >&2; exit 3; fi
before=" $(listed | tr '\n' ' ') "
case $pm in
  apt) A="$S env DEBIAN_FRONTEND=noninteractive apt-get"
       $A install -y -q --no-install-recommends python3 >&2 \
         || { $A update -q >&2 && $A install -y -q --no-install-recommends python3 >&2; } || exit 5 ;;
  dnf) $S dnf install -y --setopt=install_weak_deps=False python3 >&2 || exit 5 ;;
  yum) $S yum install -y python3 >&2 || exit 5 ;;
  apk) $S apk add --no-cache python3 >&2 || exit 5 ;;
esac
echo "__MARK__ installed $pm"
for p in $(listed); do case $before in *" $p "*) ;; *) echo "__MARK__ added $p" ;; esac; done
command -v "$interp" >/dev/null 2>&1 || { echo "python3 was installed, but $interp is still not there" >&2; exit 6; }
"""

_PURGE = {
    "apt": "$S env DEBIAN_FRONTEND=noninteractive apt-get purge -y -q",
    "dnf": "$S dnf remove -y",
    "yum": "$S yum remove -y",
    "apk": "$S apk del",
}


@dataclass
class Bootstrap:
    """What the bootstrap found or did on one host."""

    manager: str | None = None  # None: python was there already
    added: list[str] = field(default_factory=list)

    @property
    def installed(self) -> bool:
        return self.manager is not None


def script(interpreter: str = "python3") -> str:
    """The shell script that makes sure ``interpreter`` exists on the host."""
    return (_SCRIPT.replace("__INTERP__", shlex.quote(interpreter)).replace("__MARK__", MARK)
            .replace("__MANAGERS__", ", ".join(MANAGERS)))


def parse(output: str) -> Bootstrap:
    """The script's report lines (``fleet-bootstrap ...``) as a :class:`Bootstrap`."""
    result = Bootstrap()
    for line in output.splitlines():
        words = line.split()
        if len(words) == 3 and words[0] == MARK and words[1] == "installed":
            result.manager = words[2]
        elif len(words) == 3 and words[0] == MARK and words[1] == "added":
            result.added.append(words[2])
    return result


async def raw(transport: Transport, command: str, timeout: float, limit: int = DEFAULT_MAX_OUTPUT,
              host: str = "the host", what: str = "installing python3") -> tuple[int | None, str, str]:
    """Run ``command`` through the transport, no agent: (exit code, stdout, stderr).

    At most ``limit`` bytes of stdout are accepted: past that the command is stopped and
    ConnectionFailed names ``host`` (stderr keeps only its newest bytes anyway)."""
    process = await transport.spawn(command)
    chunks: list[bytes] = []
    size = 0

    async def drain() -> None:
        nonlocal size
        while chunk := await process.read_chunk():
            size += len(chunk)
            if size > limit:
                raise ConnectionFailed(output_exceeded(host, limit, what=f"while {what}"))
            chunks.append(chunk)

    try:
        await asyncio.wait_for(drain(), timeout)
    except TimeoutError:
        process.kill()
        raise ConnectionFailed(f"{what} did not finish within {timeout:.0f} s") from None
    except ConnectionFailed:
        process.kill()
        raise
    code = await process.finish(timeout=10.0)
    return code, b"".join(chunks).decode(errors="replace"), process.stderr_text()


async def ensure_python(transport: Transport, interpreter: str = "python3", timeout: float = 600.0,
                        limit: int = DEFAULT_MAX_OUTPUT, host: str = "the host") -> Bootstrap:
    """Install python3 with the host's package manager when ``interpreter`` is missing
    (at most ``limit`` bytes of the script's output are accepted from ``host``)."""
    code, out, err = await raw(transport, script(interpreter), timeout, limit, host)
    if code != 0:
        detail = "\n".join(err.strip().splitlines()[-8:]) or f"exit {code}"
        raise ConnectionFailed(f"{interpreter} is missing and fleet could not install it: {detail}")
    return parse(out)


async def purge_python(transport: Transport, done: Bootstrap, timeout: float = 600.0,
                       limit: int = DEFAULT_MAX_OUTPUT, host: str = "the host") -> None:
    """Remove exactly the packages a bootstrap added."""
    if not done.installed or not done.added or done.manager not in _PURGE:
        return
    command = ('if [ "$(id -u)" = 0 ]; then S=""; else S="sudo -n"; fi; '
               f"{_PURGE[done.manager]} {' '.join(shlex.quote(p) for p in done.added)} >&2")
    code, _, err = await raw(transport, command, timeout, limit, host, "removing python3")
    if code != 0:
        raise ConnectionFailed(f"removing the bootstrapped python3 ({done.manager}) failed: "
                               f"{err.strip().splitlines()[-1:] or [f'exit {code}']}")


def interpreter_missing(error: Exception, interpreter: str) -> bool:
    """Whether an agent start failed because the interpreter is not on the host."""
    text = str(error)
    return f"{interpreter} not found on the host" in text or (interpreter in text and " in the tree" in text)
