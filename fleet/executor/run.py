"""A whole run: plays in order, hosts' connections kept across plays, one RunReport."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from fleet import __version__
from fleet.connection import (
    AgentSession,
    ConnectionDefaults,
    HostConnection,
    agent_payload,
    make_connection,
    note_credentials,
)
from fleet.executor.context import HostRuntime
from fleet.executor.files import LocalFiles
from fleet.executor.hoststate import HostStates
from fleet.executor.options import RunOptions
from fleet.playbook.models import Play, Playbook, Task
from fleet.registry import ModuleRegistry
from fleet.result import RunReport, TaskResult
from fleet.secrets import Secrets

if TYPE_CHECKING:
    from fleet.executor.play import PlayState


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
        self.hoststates = HostStates(options, self.report, getattr(reporter, "notice", None))
        self.interrupted: int | None = None  # the signal that interrupted the run: no new task starts
        self.in_flight: dict[str, list[str]] = {}  # host -> tasks sent to it and not answered yet
        self.play: PlayState | None = None  # the play running now
        self._stopping: set[asyncio.Future[None]] = set()
        if options.persist > 0:
            from fleet.connection.mux import MuxClient

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
            connection = make_connection(host, variables, defaults, self.payload, self._mux, check=self.options.check)
            note_credentials(connection, self.options.secrets, self._checked_keys, self.report.warnings)
            self.connections[host] = connection
            self._defaults[host] = defaults
        session = await connection.session(become_user)
        if not session.begun and session.opening is None:
            # a new agent: with its first request it takes the host's lock and tells what
            # handlers are pending there (no round trip of its own)
            session.opening = self.hoststates.opening(host, become_user, variables, lambda: self._opened(host))
        return session

    def _opened(self, host: str) -> None:
        if self.play is not None:
            from fleet.executor.handlers import take_up

            take_up(self.play, host)

    @contextlib.contextmanager
    def sending(self, host: str, tasks: list[str]) -> Iterator[None]:
        """``tasks`` are in flight on ``host`` (an aborted run names them)."""
        flying = self.in_flight.setdefault(host, [])
        flying.extend(tasks)
        try:
            yield
        finally:
            for task in tasks:
                flying.remove(task)

    def interrupt(self, signum: int) -> None:
        """Stop the run (SIGINT, SIGTERM): no task starts from now on; agents working on a
        request finish the task in flight and answer with what was done."""
        if self.interrupted is not None:
            return
        self.interrupted = signum
        self.report.interrupted = signal.Signals(signum).name
        for connection in self.connections.values():
            for session in connection.live_sessions():
                if session.busy:
                    stopping = asyncio.ensure_future(session.stop())
                    self._stopping.add(stopping)
                    stopping.add_done_callback(self._stopping.discard)

    def finish_report(self, plays: list[Play]) -> None:
        """What the report says about the hosts beyond their results: the handlers still
        pending (notified, not run) and the tasks still in flight when the run ended."""
        from fleet.executor.handlers import play_key

        keys = {play_key(play) for play in plays}
        for host in set(self.hoststates.pending) | set(self.in_flight):
            report = self.report.host(host)
            report.pending_handlers = self.hoststates.unrun(host, keys)
            report.in_flight = list(self.in_flight.get(host, []))

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
            if state.interrupted is not None:
                break
            runner = PlayRunner(state, play)
            state.play = runner.state
            await runner.run_play()
            if runner.state.aborted:  # any_errors_fatal, max_fail_percentage, a whole batch failed
                break
    finally:
        state.play = None
        await state.close()
        state.report.duration_s = time.perf_counter() - started
        state.finish_report(playbook.plays)
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
