"""Run a local script on the host: the agent's side of the ``script`` controller action.

The controller finds the script (the role's ``files/``, the playbook's directory...), reads it
(vault-decrypted unless ``decrypt: false``) and sends its content here. The agent writes it to
a private (0700) temporary directory under its own name, runs the task's command line with
the script's path in place of its name through ``/bin/sh -c`` (``executable`` first when
given), in ``chdir``, then removes the directory: nothing is left behind.

As Ansible's script action: ``creates``/``removes`` (plain paths, no globs) skip the run
(``/x exists, matching creates option``) and decide check mode, which otherwise skips the
task; a run is always ``changed``; a non-zero ``rc`` fails it with ``non-zero return code``;
the result has ``rc``, ``stdout``, ``stdout_lines``, ``stderr``, ``stderr_lines`` (the output
unstripped, as Ansible's low-level command gives it).
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass

from fleet.agent.contract import Outcome, param
from fleet.agent.errors import ModuleFailure

ALIASES: dict = {}
SKIPPED = "matching creates option", "matching removes option"  # the controller makes these skips


@dataclass(frozen=True)
class Params:
    content_b64: str = param("the script's content, base64 (read by the controller)", "")
    source: str = param("the script's name as the command line gives it", "")
    cmd: str = param("the command line: the script's name, then its arguments", "")
    creates: str | None = param("skip the run when this path exists", None)
    removes: str | None = param("run only when this path exists", None)
    chdir: str | None = param("absolute directory to run the script in", None)
    executable: str | None = param("the program that runs the script (e.g. python3)", None)
    decrypt: bool = param("decrypt a vault-encrypted script on the controller", True)
    missing: str | None = param("why the controller has no script (the run fails unless skipped)", None)


def check(p: Params) -> None:
    """Ansible's script action wants an absolute chdir on a Unix host."""
    if p.chdir and not p.chdir.startswith("/"):
        raise ModuleFailure(f"chdir {p.chdir} must be an absolute path for a Unix-aware remote node")


def would_run(p: Params, reader) -> tuple:
    if p.creates and reader.exists(os.path.expanduser(p.creates)):
        return False, f"{p.creates} exists, matching creates option"
    if p.removes and not reader.exists(os.path.expanduser(p.removes)):
        return False, f"{p.removes} does not exist, matching removes option"
    if p.creates or p.removes:
        return True, ""
    return None, ""


def run(p: Params, host, ctx: Outcome) -> None:
    if p.missing:
        ctx.changed = False
        ctx.fail(p.missing)
        return
    name = os.path.basename(p.source) or "script"
    with host.scratch_dir("fleet-script-") as directory:
        path = os.path.join(directory, name)
        host.write_file(path, base64.b64decode(p.content_b64), mode="0700")
        line = p.cmd.strip().replace(p.source, path) if p.source else path  # every occurrence, as Ansible
        if p.executable:
            line = f"{p.executable} {line}"
        rc, out, err = host.run(["/bin/sh", "-c", line], cwd=p.chdir or None)
    ctx.changed = True
    ctx.report(rc=rc, stdout=out, stdout_lines=out.splitlines(), stderr=err, stderr_lines=err.splitlines())
    if rc != 0:
        ctx.fail("non-zero return code")
