"""A whole run: plays in order, hosts' connections kept across plays, one RunReport."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Protocol

from fleet import __version__
from fleet.executor.connection import ConnectionDefaults, HostConnection, make_connection
from fleet.executor.context import HostRuntime
from fleet.executor.credentials import note_credentials
from fleet.executor.files import LocalFiles
from fleet.executor.options import RunOptions
from fleet.playbook.models import Play, Playbook, Task
from fleet.registry import ModuleRegistry
from fleet.result import RunReport, TaskResult
from fleet.secrets import Secrets
from fleet.session import AgentSession, agent_payload


class Reporter(Protocol):
    """Receives progress events (terminal output, logs). Every method must be cheap."""

    def play_start(self, play: Play, hosts: list[str]) -> None: ...

    def task_start(self, task: Task, handler: bool) -> None: ...

    def task_result(self, result: TaskResult) -> None: ...

    def run_end(self, report: RunReport) -> None: ...


class NullReporter:
    """A reporter that shows nothing (API use, tests)."""

    def play_start(self, play: Play, hosts: list[str]) -> None:
        return None

    def task_start(self, task: Task, handler: bool) -> None:
        return None

    def task_result(self, result: TaskResult) -> None:
        return None

    def run_end(self, report: RunReport) -> None:
        return None


class RunState:
    """What every play of a run shares."""

    def __init__(self, inventory: Any, options: RunOptions, templar: Any, registry: ModuleRegistry,
                 loader: Any, playbook_dir: Path, reporter: Reporter) -> None:
        self.inventory = inventory
        self.options = options
        self.templar = templar
        self.registry = registry
        self.loader = loader
        self.playbook_dir = playbook_dir
        self.files = LocalFiles(playbook_dir)
        self.reporter = reporter
        self.report = RunReport(options.mode)
        self.report.warnings.extend(options.warnings)
        self.runtimes: dict[str, HostRuntime] = {}
        self.connections: dict[str, HostConnection] = {}
        self.dead: set[str] = set()  # unreachable hosts: skipped for the rest of the run
        self.failed_hosts: set[str] = set()  # failed hosts: left out of later plays (as Ansible)
        self._payload: bytes | None = None
        self._defaults: dict[str, ConnectionDefaults] = {}  # what each open connection was made with
        self._mux: Any = None
        self._checked_keys: set[str] = set()
        if options.persist > 0:
            from fleet.mux.client import MuxClient

            self._mux = MuxClient(options.persist, self.report.warnings)  # says once if it cannot be used

    @property
    def payload(self) -> bytes:
        if self._payload is None:
            self._payload = agent_payload()
        return self._payload

    def play_magic(self, play: Play, hosts: list[str]) -> dict[str, Any]:
        options = self.options
        return {
            "groups": self.inventory.groups_map(),
            "ansible_play_hosts": list(hosts),
            "ansible_play_hosts_all": list(hosts),
            "ansible_play_batch": list(hosts),
            "play_hosts": list(hosts),
            "ansible_play_name": play.name,
            "playbook_dir": str(self.playbook_dir),
            "ansible_check_mode": options.check,
            "ansible_diff_mode": options.diff,
            "ansible_run_tags": sorted(options.tags) or ["all"],
            "ansible_skip_tags": sorted(options.skip_tags),
            "ansible_version": {"full": __version__, "string": __version__},
            "fleet_version": __version__,
            "omit": self.templar.omit_token,
        }

    async def session(self, host: str, variables: Any, become_user: str | None,
                      defaults: ConnectionDefaults | None = None) -> AgentSession:
        """The host's agent; ``defaults``: the CLI's connection options with the play's keywords
        (``connection``, ``remote_user``) applied. Host variables override both."""
        defaults = defaults or self.options.connection
        connection = self.connections.get(host)
        if connection is not None and self._defaults.get(host) != defaults:
            await self.close_host(host)  # a later play connects differently
            connection = None
        if connection is None:
            connection = make_connection(host, variables, defaults, self.payload, self._mux)
            note_credentials(connection, self.options.secrets, self._checked_keys, self.report.warnings)
            self.connections[host] = connection
            self._defaults[host] = defaults
        return await connection.session(become_user)

    async def close_host(self, host: str) -> None:
        self._defaults.pop(host, None)
        connection = self.connections.pop(host, None)
        if connection is not None:
            self.report.host(host).agent_requests += connection.requests
            await connection.close()

    async def close(self) -> None:
        import asyncio

        await asyncio.gather(*(self.close_host(h) for h in list(self.connections)))


async def run_playbook(state: RunState, playbook: Playbook) -> RunReport:
    """Run every play of ``playbook``; always closes the connections it opened."""
    from fleet.executor.play import PlayRunner

    started = time.perf_counter()
    secrets = state.options.secrets
    known = len(secrets)
    try:
        for play in playbook.plays:
            runner = PlayRunner(state, play)
            await runner.run_play()
            if runner.state.aborted:  # any_errors_fatal, max_fail_percentage, a whole batch failed
                break
    finally:
        await state.close()
        state.report.duration_s = time.perf_counter() - started
    if len(secrets) != known:
        _redact_late(state.report, secrets)
    state.reporter.run_end(state.report)
    return state.report


def _redact_late(report: RunReport, secrets: Secrets) -> None:
    """Redact the report again with every secret known at its end: an inline vault value is a
    secret from the task that first uses it on, and a host may have shown it before (the old
    content of a file in a diff). The terminal has printed those lines; the files written from
    the report (``--json``, drift's reports and state) and the API's report hide it."""
    for host in report.hosts.values():
        host.results = [secrets.result(result) for result in host.results]
    report.warnings = [secrets.redact(warning) for warning in report.warnings]
