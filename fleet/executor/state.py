"""What a run and each of its plays share: :class:`RunState` (hosts' connections kept across
plays, runtime variables, the RunReport), :class:`PlayState` (one play's variable views, live
hosts, notifications), and :class:`PlayContext`, what meta tasks, includes and handler flushes
need of the play runner (:class:`~fleet.executor.play.PlayRunner`) without importing it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from fleet import __version__
from fleet.bridge import installed_version
from fleet.connection import (
    AgentSession,
    ConnectionDefaults,
    HostConnection,
    agent_payload,
    make_connection,
    note_credentials,
    transport_spec,
)
from fleet.executor.context import HostRuntime, PlayVars
from fleet.executor.files import LocalFiles
from fleet.executor.handlernames import handler_key, play_key
from fleet.executor.hoststate import HostStates, Pending
from fleet.executor.hosttrust import ConnectionVars
from fleet.executor.options import RunOptions
from fleet.playbook import Play, Task, walk
from fleet.registry import ModuleRegistry
from fleet.result import RunReport, TaskResult, when


class Reporter(Protocol):
    """Receives progress events (terminal output, logs). Every method must be cheap."""

    def play_start(self, play: Play, hosts: list[str]) -> None: ...

    def task_start(self, task: Task, handler: bool, name: str | None = None) -> None:
        """``name``: the task's shown name (its templates rendered), else ``task.display_name``."""

    def task_result(self, result: TaskResult) -> None: ...

    def run_end(self, report: RunReport) -> None: ...


class NullReporter:
    """A reporter that shows nothing (API use, tests)."""

    def play_start(self, play: Play, hosts: list[str]) -> None:
        return None

    def task_start(self, task: Task, handler: bool, name: str | None = None) -> None:
        return None

    def task_result(self, result: TaskResult) -> None:
        return None

    def run_end(self, report: RunReport) -> None:
        return None


#: The Ansible release whose semantics fleet follows, given as ``ansible_version`` when
#: ansible-core is not installed (roles compare it: ``ansible_version.full is version('2.10', '>=')``)
FOLLOWS_ANSIBLE = "2.19.0"


def ansible_version() -> dict[str, Any]:
    """Ansible's ``ansible_version``: the installed ansible-core's, else :data:`FOLLOWS_ANSIBLE`."""
    full = installed_version() or FOLLOWS_ANSIBLE
    numbers = [int("".join(c for c in part if c.isdigit()) or 0) for part in full.split(".")[:3]] + [0, 0, 0]
    return {"string": full, "full": full, "major": numbers[0], "minor": numbers[1], "revision": numbers[2]}


class RunState:
    """What every play of a run shares."""

    def __init__(self, inventory: Any, options: RunOptions, templar: Any, registry: ModuleRegistry,
                 loader: Any, playbook_dir: Path, reporter: Reporter, bridge: Any = None) -> None:
        self.inventory = inventory
        self.bridge = bridge  # fleet.bridge.Bridge: Ansible's modules, for tasks fleet has no module for
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
            "playbook_dir": os.path.abspath(self.playbook_dir),
            "ansible_check_mode": options.check,
            "ansible_diff_mode": options.diff,
            # the options Ansible publishes as variables (ansible_limit only when a limit is given)
            "ansible_verbosity": options.verbosity,
            "ansible_forks": options.forks,
            **({"ansible_limit": options.limit} if options.limit else {}),
            "ansible_inventory_sources": list(getattr(self.inventory, "sources", [])),
            "ansible_playbook_python": sys.executable,
            "ansible_run_tags": sorted(options.tags) or ["all"],
            "ansible_skip_tags": sorted(options.skip_tags),
            "ansible_version": ansible_version(),
            "fleet_version": __version__,
            "omit": self.templar.omit_token,
        }

    async def session(self, host: str, variables: Any, become_user: str | None,
                      defaults: ConnectionDefaults | None = None, remote_user: str | None = None) -> AgentSession:
        """The host's agent; ``defaults``: the CLI's connection options with the play's keywords
        (``connection``, ``remote_user``) applied; ``remote_user``: a task's (or block's, role's)
        login user. Host variables override all of them."""
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
        spec = None
        if remote_user is not None and remote_user != defaults.user:
            # the task logs in as another user, unless ansible_user (ansible_ssh_user) says who
            spec = transport_spec(host, variables, replace(defaults, user=remote_user))
        session = await connection.session(become_user, spec)
        if not session.begun and session.opening is None:
            # a new agent: with its first request it takes the host's lock and tells what
            # handlers are pending there (no round trip of its own)
            session.opening = self.hoststates.opening(host, become_user, variables, lambda: self._opened(host))
        return session

    def _opened(self, host: str) -> None:
        if self.play is not None:
            self.play.take_up(host)

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
        keys = {play_key(play) for play in plays}
        if self.bridge is not None:  # deprecations, redirects, what ansible-core printed
            self.report.warnings.extend(w for w in self.bridge.warnings if w not in self.report.warnings)
        for host in set(self.hoststates.pending) | set(self.in_flight):
            report = self.report.host(host)
            report.pending_handlers = self.hoststates.unrun(host, keys)
            report.in_flight = list(self.in_flight.get(host, []))

    async def close_host(self, host: str) -> None:
        self._defaults.pop(host, None)
        connection = self.connections.pop(host, None)
        if connection is None:
            return
        if host in self.report.hosts:  # a host only delegated to is not in the report (as Ansible's recap)
            self.report.host(host).agent_requests += connection.requests
            self.report.host(host).ansible_payload_bytes += connection.ansible_payload_bytes
        await connection.close()

    async def close(self) -> None:
        await asyncio.gather(*(self.close_host(h) for h in list(self.connections)))


@dataclass
class PlayState:
    """What one play's tasks share: the run, the play, its variable views, live hosts."""

    run: RunState
    play: Play
    play_vars: PlayVars
    hosts: list[str]
    active: set[str] = field(default_factory=set)
    notified: dict[str, set[str]] = field(default_factory=dict)  # host -> names notified
    pending: dict[int, set[str]] = field(default_factory=dict)  # id(handler) -> hosts to run it on
    batch: list[str] = field(default_factory=list)
    aborted: bool = False  # any_errors_fatal, max_fail_percentage, a failed batch: the run stops
    ended: bool = False  # meta: end_play: this play stops, the run goes on
    ended_roles: set[tuple[str, int]] = field(default_factory=set)  # meta: end_role (host, id(role))
    ended_role_refs: list[Any] = field(default_factory=list)  # those roles, held so that no id is reused
    waiting: dict[int, set[str]] = field(default_factory=dict)  # earlier ones waiting past the pre_tasks' flush
    earlier: dict[tuple[str, int], Pending] = field(default_factory=dict)  # (host, id(handler)): an earlier run's
    forgotten: dict[str, list[Pending]] = field(default_factory=dict)  # earlier ones whose handler is gone

    # shortcuts used by the task executor
    @property
    def options(self) -> RunOptions:
        return self.run.options

    @property
    def templar(self) -> Any:  # fleet.templating.Templar
        return self.run.templar

    @property
    def registry(self) -> ModuleRegistry:
        return self.run.registry

    @property
    def runtimes(self) -> dict[str, HostRuntime]:
        return self.run.runtimes

    @property
    def playbook_dir(self) -> Path:
        return self.run.playbook_dir

    def check_for(self, task: Task) -> bool:
        # `check_mode: false` does not make fleet write in a check run (see README).
        if task.check_mode is not None:
            return task.check_mode or self.options.check
        if self.play.check_mode is not None:
            return self.play.check_mode or self.options.check
        return self.options.check

    def diff_for(self, task: Task) -> bool:
        if task.diff is not None:
            return task.diff
        return self.play.diff if self.play.diff is not None else self.options.diff

    def become_user_for(self, task: Task, variables: Any) -> str | None:
        """Ansible's order: ansible_become* vars > task keyword > play keyword > CLI."""
        become = task.become if task.become is not None else self.play.become
        if become is None:
            become = self.options.become
        if isinstance(become, str):  # become: "{{ ... }}", rendered with the host's variables
            become = self.templar.truth(become, variables, task.location)
        settings = ConnectionVars(variables)
        if "ansible_become" in settings:
            become = self.templar.truth(settings["ansible_become"], variables, task.location)
        if not become:
            return None
        user = task.become_user or self.play.become_user or self.options.become_user or "root"
        if "{{" in user or "{%" in user:
            user = str(self.templar.render(user, variables, task.location))
        if "ansible_become_user" in settings:
            user = str(settings["ansible_become_user"])
        return user

    def remote_user_for(self, task: Task, variables: Any) -> str | None:
        """The login user the task's ``remote_user`` keyword (its own, a block's or a role's)
        names, rendered with the host's variables; None when it names none."""
        user = task.remote_user
        if user and ("{{" in user or "{%" in user):
            user = str(self.templar.render(user, variables, task.location))
        return user or None

    async def session(self, host: str, variables: Any, become_user: str | None,
                      remote_user: str | None = None) -> AgentSession:
        # as Ansible: ansible_connection/ansible_user > the task's remote_user > the play's
        # connection/remote_user > CLI
        defaults = self.run.options.connection
        if self.play.connection or self.play.remote_user:
            defaults = replace(defaults, connection=self.play.connection or defaults.connection,
                               user=self.play.remote_user or defaults.user)
        return await self.run.session(host, ConnectionVars(variables, host), become_user, defaults, remote_user)

    def on_controller(self, host: str, variables: Any) -> bool:
        """Does a task with this view of variables run on the controller itself (a ``local``
        connection, by the settings :meth:`session` uses; facts cannot claim it)?"""
        settings = ConnectionVars(variables, host)
        connection = settings.get("ansible_connection") or self.play.connection or self.run.options.connection.connection
        return str(connection) == "local"

    def notify(self, host: str, names: Sequence[str]) -> None:
        self.notified.setdefault(host, set()).update(names)

    def take_up(self, host: str) -> None:
        """Add the handlers an earlier run left pending on ``host`` for this play to its
        notifications: they run at the play's next handler flush."""
        hoststates = self.run.hoststates
        for entry in hoststates.earlier(host, play_key(self.play)):
            entry.seeded = True
            handler = next((h for h in self.play.handlers if handler_key(h) == entry.handler), None)
            if handler is None:
                hoststates.warn(f"{host}: handler '{entry.handler}' of play '{entry.play}', notified by an "
                                f"earlier run ({when(entry.since)}), is no longer in the play: forgotten")
                self.forgotten.setdefault(host, []).append(entry)
                continue
            if entry.task and entry.task not in self._pre_task_names():
                # notified by a task after pre_tasks: it waits for the flushes after those tasks,
                # whose variables (a role's include_vars) and files it may need
                self.waiting.setdefault(id(handler), set()).add(host)
            else:
                self.pending.setdefault(id(handler), set()).add(host)
            self.earlier[(host, id(handler))] = entry

    def _pre_task_names(self) -> set[str]:
        """The names of the play's ``pre_tasks`` (the tasks before its first implicit flush)."""
        first = first_implicit_flush(self.play)
        return {t.display_name for t in walk(self.play.tasks[:first]) if isinstance(t, Task)} if first else set()

    def wake(self) -> None:
        """The earlier run's handlers that waited for the pre_tasks' flush to pass join the
        notifications (at every flush but that one)."""
        for handler_id, hosts in self.waiting.items():
            self.pending.setdefault(handler_id, set()).update(hosts)
        self.waiting.clear()


def first_implicit_flush(play: Play) -> int | None:
    """Where the flush Ansible runs after ``pre_tasks`` is in ``play.tasks`` (the loader puts
    one there, at the play's own location)."""
    for index, item in enumerate(play.tasks):
        if isinstance(item, Task) and item.module == "meta" and item.location == play.location \
                and item.args.get("_raw_params") == "flush_handlers":
            return index
    return None


class PlayContext(Protocol):
    """What meta tasks, includes and handler flushes need of the play that runs them (the
    :class:`~fleet.executor.play.PlayRunner`): its state, and running tasks of its own."""

    run: RunState
    play: Play
    state: PlayState

    async def run_task(self, task: Task, hosts: list[str], params: dict[str, dict[str, Any]] | None = None,
                       handler: bool = False, guarded: bool = False) -> list[str]:
        """Run one task (or handler) on ``hosts``; return the hosts that failed."""
        ...

    def refresh_hosts(self) -> None:
        """Recompute the play's host lists after hosts failed or came back."""
        ...

    def record(self, task: Task, results: Sequence[TaskResult], guarded: bool = False) -> list[str]:
        """Report the task's results; return the hosts that failed."""
        ...
