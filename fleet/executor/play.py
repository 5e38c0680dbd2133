"""Running one play: host batches (``serial``), strategies, blocks, handlers, includes.

The ``linear`` strategy runs each task on every live host before the next task; ``free``
lets every host run through the play on its own. Both are the same recursion over the task
list — linear hands it all hosts at once, free one host per coroutine.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fleet.errors import FleetError, InputError
from fleet.executor.context import HostRuntime, PlayVars
from fleet.executor.tags import selected
from fleet.executor.task import TaskExecutor
from fleet.playbook.models import Block, Item, Play, Task
from fleet.result import TaskResult

if TYPE_CHECKING:
    from fleet.executor.run import RunState
    from fleet.session import AgentSession

META_ACTIONS = ("flush_handlers", "noop", "end_play", "end_host", "end_batch", "reset_connection",
                "clear_facts", "refresh_inventory", "clear_host_errors")


@dataclass
class PlayState:
    """What one play's tasks share: the run, the play, its variable views, live hosts."""

    run: RunState
    play: Play
    play_vars: PlayVars
    hosts: list[str]
    active: set[str] = field(default_factory=set)
    notified: dict[str, set[str]] = field(default_factory=dict)
    aborted: bool = False

    # shortcuts used by the task executor
    @property
    def options(self):  # noqa: ANN201 - RunOptions
        return self.run.options

    @property
    def templar(self):  # noqa: ANN201
        return self.run.templar

    @property
    def registry(self):  # noqa: ANN201
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
        if "ansible_become" in variables:
            become = self.templar.truth(variables["ansible_become"], variables, task.location)
        if not become:
            return None
        user = task.become_user or self.play.become_user or self.options.become_user or "root"
        if "ansible_become_user" in variables:
            user = str(variables["ansible_become_user"])
        return user

    async def session(self, host: str, variables: Any, become_user: str | None) -> AgentSession:
        return await self.run.session(host, variables, become_user)

    def notify(self, host: str, names: Sequence[str]) -> None:
        self.notified.setdefault(host, set()).update(names)


class PlayRunner:
    """Runs one play against the hosts its pattern selects."""

    def __init__(self, run: RunState, play: Play) -> None:
        self.run = run
        self.play = play
        hosts = [h.name for h in run.inventory.select(play.hosts, run.options.limit)]
        for host in hosts:
            run.runtimes.setdefault(host, HostRuntime())
        magic = run.play_magic(play, hosts)
        self.state = PlayState(run, play, PlayVars(play, run.inventory, run.templar, run.runtimes,
                                                   run.options.extra_vars, magic), hosts)
        self.executor = TaskExecutor(self.state)
        self.semaphore = asyncio.Semaphore(max(1, run.options.forks))

    async def run_play(self) -> None:
        state = self.state
        self.run.reporter.play_start(self.play, state.hosts)
        if not state.hosts:
            return
        for batch in batches(state.hosts, self.play.serial):
            state.active = {h for h in batch if h not in self.run.dead}
            if self.play.gather_facts:
                await self.run_task(self._gather_task(), sorted(state.active, key=batch.index))
            strategy = self.run.options.strategy or self.play.strategy
            if strategy == "free":
                await asyncio.gather(*(self.run_items(self.play.tasks, [h]) for h in batch))
            else:
                await self.run_items(self.play.tasks, batch)
            if state.aborted:
                break

    def _gather_task(self) -> Task:
        return Task(module="setup", args={}, location=self.play.location, name="Gathering Facts")

    # -- the recursion over items -----------------------------------------------------------
    async def run_items(self, items: Sequence[Item], hosts: list[str],
                        params: dict[str, dict[str, Any]] | None = None, top: bool = True) -> list[str]:
        """Run items on hosts; return the hosts that failed and were not rescued."""
        failed: list[str] = []
        for item in items:
            live = [h for h in hosts if h in self.state.active and h not in failed]
            if not live or self.state.aborted:
                break
            if isinstance(item, Block):
                newly = await self.run_block(item, live, params)
            else:
                newly = await self.run_task(item, live, params)
            failed.extend(newly)
            if top:
                self.state.active.difference_update(newly)
        return failed

    async def run_block(self, block: Block, hosts: list[str], params: dict[str, dict[str, Any]] | None) -> list[str]:
        failed = await self.run_items(block.block, hosts, params, top=False)
        if failed and block.rescue:
            self._mark_rescued(failed)
            failed = await self.run_items(block.rescue, failed, params, top=False)
        if block.always:
            ran = [h for h in hosts if h in self.state.active]
            failed += [h for h in await self.run_items(block.always, ran, params, top=False) if h not in failed]
        return failed

    def _mark_rescued(self, hosts: list[str]) -> None:
        for host in hosts:
            for result in reversed(self.run.report.host(host).results):
                if result.status == "failed" and not result.ignored:
                    result.rescued = True
                    break

    async def run_task(self, task: Task, hosts: list[str],
                       params: dict[str, dict[str, Any]] | None = None, handler: bool = False) -> list[str]:
        if task.module == "meta":
            return await self.meta(task, hosts)
        if not selected(task.tags | self.play.tags, self.run.options.tags, self.run.options.skip_tags):
            return []
        if task.module in ("include_tasks", "include_role"):
            return await self.include(task, hosts, params)
        targets = hosts[:1] if task.run_once else hosts
        self.run.reporter.task_start(task, handler)

        async def one(host: str) -> TaskResult:
            async with self.semaphore:
                return await self.executor.run(task, host, (params or {}).get(host), handler)

        results = await asyncio.gather(*(one(h) for h in targets))
        if task.run_once and results:
            results = list(results) + [self._copy_result(results[0], h, task) for h in hosts[1:]]
        return self._record(task, results)

    def _copy_result(self, result: TaskResult, host: str, task: Task) -> TaskResult:
        if task.register:
            source = self.run.runtimes[result.host].set_facts.get(task.register)
            self.run.runtimes[host].set_facts[task.register] = source
        if task.module == "set_fact":
            self.run.runtimes[host].set_facts.update(result.data.get("ansible_facts", {}))
        copy = TaskResult(**{**result.__dict__, "host": host})
        return copy

    def _record(self, task: Task, results: Sequence[TaskResult]) -> list[str]:
        failed = []
        for result in results:
            report = self.run.report.host(result.host)
            report.results.append(result)
            self.run.reporter.task_result(result)
            if result.status == "unreachable" and not task.ignore_unreachable:
                report.unreachable = True
                self.run.dead.add(result.host)
                self.state.active.discard(result.host)
            elif result.status == "failed" and not result.ignored:
                failed.append(result.host)
        if failed:
            self._after_failures(task, failed)
        return failed

    def _after_failures(self, task: Task, failed: list[str]) -> None:
        for host in failed:
            self.run.report.host(host).failed = True
        fatal = task.any_errors_fatal if task.any_errors_fatal is not None else self.play.any_errors_fatal
        if fatal:
            self.state.aborted = True
        limit = self.play.max_fail_percentage
        if limit is not None:
            batch = max(1, len(self.state.hosts))
            down = sum(1 for h in self.state.hosts if self.run.report.host(h).failed or h in self.run.dead)
            if down * 100.0 / batch > limit:
                self.state.aborted = True

    # -- meta, handlers, includes ---------------------------------------------------------------
    async def meta(self, task: Task, hosts: list[str]) -> list[str]:
        action = str(task.args.get("_raw_params") or task.args.get("free_form") or "")
        if action == "flush_handlers":
            return await self.flush_handlers(hosts)
        if action in ("end_play", "end_batch"):
            self.state.aborted = action == "end_play"
            self.state.active.clear()
        elif action == "end_host":
            self.state.active.difference_update(hosts)
        elif action == "reset_connection":
            await asyncio.gather(*(self.run.close_host(h) for h in hosts))
        elif action == "clear_facts":
            for host in hosts:
                self.run.runtimes[host].facts.clear()
        elif action not in META_ACTIONS:
            raise InputError(f"unknown meta action {action!r}", task.location)
        return []

    async def flush_handlers(self, hosts: list[str]) -> list[str]:
        failed: list[str] = []
        for handler in list(self.play.handlers):
            names = _handler_names(handler)
            targets = [h for h in hosts if h in self.state.active and h not in failed
                       and not names.isdisjoint(self.state.notified.get(h, ()))]
            if not targets:
                continue
            for host in targets:
                self.state.notified[host].difference_update(names)
            newly = await self.run_task(handler, targets, handler=True)
            failed.extend(newly)
            self.state.active.difference_update(newly)
        return failed

    async def include(self, task: Task, hosts: list[str], params: dict[str, dict[str, Any]] | None) -> list[str]:
        """``include_tasks``/``include_role``: resolved per host at run time, grouped by file."""
        groups: dict[tuple[str, int], tuple[list[Item], list[str], dict[str, dict[str, Any]]]] = {}
        failed: list[str] = []
        for host in hosts:
            try:
                for index, (key, items, host_params) in enumerate(self._resolve_include(task, host, params)):
                    entry = groups.setdefault((key, index), (items, [], {}))
                    entry[1].append(host)
                    entry[2][host] = host_params
            except FleetError as exc:
                result = TaskResult(host, self.play.name, task.display_name, task.module, "failed",
                                    msg=str(exc), location=str(task.location))
                failed += self._record(task, [result])
        for (_key, _index), (items, group_hosts, group_params) in groups.items():
            failed += await self.run_items(items, group_hosts, group_params, top=False)
        return failed

    def _resolve_include(self, task: Task, host: str, params: dict[str, dict[str, Any]] | None):
        """For one host: ``(key, items, params)`` per loop item (one entry without a loop)."""
        include_params = dict((params or {}).get(host, {}))
        for layer in task.vars_layers:
            if layer.kind == "task vars":  # block vars already reach the included tasks
                include_params.update(layer.values)
        variables = self.state.play_vars.for_task(host, task, include_params)
        scopes: list[tuple[Any, dict[str, Any]]] = [(variables, {})]
        if task.loop is not None:
            items = self.executor._items(task, variables)
            scopes = []
            for index, item in enumerate(items):
                values: dict[str, Any] = {task.loop_control.loop_var: item}
                if task.loop_control.index_var:
                    values[task.loop_control.index_var] = index
                scopes.append((self.executor._item_vars(task, variables, items, index), values))
        loader = self.run.loader
        entries = []
        for scope, loop_values in scopes:
            if task.when and not self.run.templar.truth(task.when, scope, task.location):
                continue
            args = self.run.templar.render(task.args, scope, task.location)
            host_params = {**include_params, **loop_values}
            if task.module == "include_tasks":
                path = loader.resolve_tasks_file(str(args.get("file")), task.base_dir, task.role, task.location)
                items = loader.load_tasks(path, task.inherited, task.role, base_dir=task.base_dir,
                                          location=task.location)
                entries.append((str(path), items, host_params))
            else:
                context, items, handlers = loader.load_role(str(args.get("name")), args, task.location,
                                                            inherited=task.inherited, parent=task.role)
                for handler in handlers:
                    if not any(handler is known for known in self.play.handlers):
                        self.play.handlers.append(handler)
                entries.append((f"role:{context.path}:{sorted(map(str, args.items()))!r}", items, host_params))
        return entries


def _handler_names(handler: Task) -> set[str]:
    names = set(handler.listen)
    if handler.name:
        names.add(handler.name)
        if handler.role:
            names.add(f"{handler.role.name} : {handler.name}")
    return names


def batches(hosts: list[str], serial: Sequence[Any]) -> list[list[str]]:
    """Split hosts for ``serial`` (ints, "N%" strings, or a list of them; last size repeats)."""
    if not serial:
        return [list(hosts)]
    sizes = []
    for value in serial:
        text = str(value).strip()
        if text.endswith("%"):  # as Ansible: a percentage gives at least one host
            size = max(1, math.floor(len(hosts) * float(text[:-1]) / 100.0))
        else:
            size = int(text)
        sizes.append(max(1, size if size > 0 else len(hosts)))
    out, start, index = [], 0, 0
    while start < len(hosts):
        size = sizes[min(index, len(sizes) - 1)]
        out.append(hosts[start:start + size])
        start += size
        index += 1
    return out


def handler_known(play: Play, name: str) -> bool:
    """Whether ``notify: name`` reaches some handler of the play (for preflight checks)."""
    return any(name in _handler_names(h) for h in play.handlers)

