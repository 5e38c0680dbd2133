"""What image and rootfs bakes share: the implied run, applying it, naming what failed."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from rich.console import Console

from fleet import api
from fleet.bake.implied import inventory_vars, write_inventory, write_role_play
from fleet.bake.labels import bake_labels
from fleet.bake.spec import BakeSpec
from fleet.connection import Bootstrap, ensure_python, interpreter_for, purge_python
from fleet.executor import RunOptions
from fleet.report import TerminalReporter, write_json
from fleet.result import RunReport
from fleet.secrets import Secrets
from fleet.transport import Transport

T = TypeVar("T")


@dataclass
class BakeRun:
    """A validated bake run: nothing has been created or connected yet."""

    spec: BakeSpec
    prepared: api.Prepared
    playbook: Path  # the file that runs (the user's, or the implied play for --role)

    def roles(self) -> dict[str, Path]:
        """Name -> directory of every role the run applies, in play order."""
        from fleet.verify.runner import applied_roles

        return {name: path for path, (name, _hosts) in applied_roles(self.prepared).items()}

    def interpreter(self) -> str:
        """The bake host's Python interpreter (``ansible_python_interpreter``, else python3)."""
        return interpreter_for(api.host_vars(self.prepared.inventory, self.spec.name, self.prepared,
                                             self.spec.extra_vars))

    def labels(self, base: str | None = None, base_id: str | None = None) -> dict[str, str]:
        spec = self.spec
        return bake_labels(roles=self.roles(), playbook=spec.playbook, playbook_label=str(spec.playbook)
                           if spec.playbook else None, base=base, base_id=base_id,
                           # vault values are left out: a digest of a weak secret can be brute-forced
                           extra_vars=(spec.secrets or Secrets()).redact_obj(dict(spec.extra_vars)))


def prepare(spec: BakeSpec, workdir: Path, connection: str, address: str) -> BakeRun:
    """Write the implied inventory (and play), then load and validate everything."""
    inventory = write_inventory(workdir, spec.name, inventory_vars(connection, address))
    if spec.playbook is not None:
        playbook = spec.playbook
        role_dirs = list(spec.role_dirs)
    else:
        playbook = write_role_play(workdir, spec.roles)
        role_dirs = [*spec.role_dirs, str(Path.cwd() / "roles")]
    # host_state off: an image must not carry a run lock or pending handlers of its build
    options = RunOptions(extra_vars=dict(spec.extra_vars), role_dirs=role_dirs, persist=0,
                         verbosity=spec.verbosity, diff=spec.diff, secrets=spec.secrets or Secrets(),
                         host_state=False, command="fleet bake")
    return BakeRun(spec, api.prepare(playbook, [str(inventory)], options), playbook)


def apply(run: BakeRun, say_console: Console | None = None) -> RunReport:
    """Apply the run (terminal output on stderr); write ``--json`` if asked."""
    console = say_console or Console(stderr=True, highlight=False)
    reporter = TerminalReporter(console, run.spec.verbosity, run.spec.diff, "apply")
    report = asyncio.run(api.apply_async(run.prepared, reporter))
    if run.spec.json_path:
        write_json(report.to_dict(), run.spec.json_path)
    return report


def failure(report: RunReport) -> str | None:
    """``task 'NAME' (file:line) failed: MSG`` for the first failed task; None if none did."""
    for host in report.hosts.values():
        for result in host.results:
            if result.status in ("failed", "unreachable") and not (result.ignored or result.rescued):
                where = f" ({result.location})" if result.location else ""
                verb = "could not reach the host" if result.status == "unreachable" else "failed"
                message = result.msg.strip().splitlines()[0] if result.msg.strip() else "no message"
                return f"task '{result.task}'{where} {verb}: {message}"
        if host.failed or host.unreachable:
            return f"host {host.name} failed"
    return None


def bootstrap(run: BakeRun, transport: Transport, say: Callable[[str], None]) -> Bootstrap | None:
    """``--bootstrap-python``: python3 installed on the bake host if it has none."""
    if not run.spec.bootstrap_python:
        return None
    done = asyncio.run(_closing(transport, ensure_python(transport, run.interpreter())))
    if done.installed:
        say(f"python3 was missing: installed with {done.manager} ({len(done.added)} packages)")
    return done


def purge(run: BakeRun, transport: Transport, done: Bootstrap | None, say: Callable[[str], None]) -> None:
    """``--purge-python``: remove the packages the bootstrap added."""
    if run.spec.purge_python and done is not None and done.installed:
        asyncio.run(_closing(transport, purge_python(transport, done)))
        say(f"removed the bootstrapped python3 ({' '.join(done.added)})")


async def _closing(transport: Transport, work: Coroutine[Any, Any, T]) -> T:
    try:
        await transport.connect()
        return await work
    finally:
        await transport.close()


def summary(report: RunReport) -> str:
    counts = report.summary()
    return (f"{counts['ok']} ok, {counts['changed']} changed, {counts['failed']} failed, "
            f"{counts['skipped']} skipped in {report.duration_s:.1f} s")

