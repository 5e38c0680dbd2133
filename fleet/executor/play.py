"""Running one play: host batches (``serial``), strategies, blocks, handlers, includes.

The ``linear`` strategy runs each task on every live host before the next task; ``free``
lets every host run through the play on its own. Both are the same recursion over the task
list — linear hands it all hosts at once, free one host per coroutine.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import Sequence
from typing import Any

import fleet.executor.actions as actions
import fleet.executor.factcache as factcache
import fleet.executor.includes as includes
import fleet.executor.meta as meta
import fleet.executor.pipeline as pipeline
from fleet.errors import FleetError, InputError
from fleet.executor.context import HostRuntime, PlayVars
from fleet.executor.state import PlayState, RunState
from fleet.executor.tags import selected
from fleet.executor.task import TaskExecutor
from fleet.playbook import Block, Item, Play, Task
from fleet.result import TaskResult


class PlayRunner:
    """Runs one play against the hosts its pattern selects (less hosts failed in earlier plays);
    meta tasks, includes and handler flushes see it as their :class:`~fleet.executor.state.PlayContext`."""

    def __init__(self, run: RunState, play: Play) -> None:
        self.run = run
        self.play = play
        selected_hosts = [h.name for h in run.inventory.select(play.hosts, run.options.limit)]
        hosts = [h for h in selected_hosts if h not in run.failed_hosts and h not in run.dead]
        for part in run.inventory.unmatched(play.hosts):  # a group that group_by/add_host never made
            warning = f"Could not match supplied host pattern, ignoring: {part}"
            run.report.warnings.extend([warning] if warning not in run.report.warnings else [])
        if run.options.fact_cache is not None:  # every host's cached facts, as hostvars shows them
            for name in run.inventory.hosts:
                if name not in run.runtimes:
                    runtime = run.runtimes[name] = HostRuntime()
                    cached = run.options.fact_cache.load(name)
                    if cached:
                        factcache.restore(runtime, cached)
        for host in hosts:
            run.runtimes.setdefault(host, HostRuntime())
        magic = run.play_magic(play, hosts)
        self.state = PlayState(run, play, PlayVars(play, run.inventory, run.templar, run.runtimes,
                                                   run.options.extra_vars, magic,
                                                   run.options.connection.connection), hosts)
        self.executor = TaskExecutor(self.state)
        self.semaphore = asyncio.Semaphore(max(1, run.options.forks))

    async def run_play(self) -> None:
        """Every batch in turn: facts, then the tasks (linear or free); stop when told to."""
        state = self.state
        self.run.reporter.play_start(self.play, state.hosts)
        for batch in batches(state.hosts, self.play.serial):
            if self.run.interrupted is not None:
                break
            state.batch = batch
            state.active = {h for h in batch if h not in self.run.dead}
            self.refresh_hosts()
            for host in state.active:  # what an earlier run left pending (hosts it reached already)
                state.take_up(host)
            await self.gather([h for h in batch if h in state.active])
            if (self.run.options.strategy or self.play.strategy) == "free":
                await asyncio.gather(*(self.run_items(self.play.tasks, [h]) for h in batch if h in state.active))
            else:
                await self.run_items(self.play.tasks, [h for h in batch if h in state.active])
            if batch and all(h in self.run.failed_hosts or h in self.run.dead for h in batch):
                state.aborted = True  # as Ansible: a batch in which every host failed ends the run
            if state.aborted or state.ended:
                break
        self.save_facts([h for h in state.hosts if self.run.runtimes[h].cacheable])  # set_fact cacheable

    async def gather(self, hosts: list[str]) -> None:
        """Implicit fact gathering as ansible.cfg's ``gathering`` says; facts go to the cache."""
        options, runtimes = self.run.options, self.run.runtimes
        wanted = [h for h in hosts if factcache.should_gather(self.play.gather_facts, options.gathering,
                                                               runtimes[h].gathered)]
        if wanted:
            await self.run_items([self._gather_task()], wanted)
        for host in wanted:
            runtimes[host].gathered = runtimes[host].gathered or "ansible_facts" in runtimes[host].facts
        self.save_facts(wanted)

    def save_facts(self, hosts: list[str]) -> None:
        """Write the hosts' facts to the fact cache (ansible.cfg's ``fact_caching = jsonfile``)."""
        cache = self.run.options.fact_cache
        if cache is None:
            return
        for host in hosts:
            runtime = self.run.runtimes[host]
            if runtime.facts or runtime.cacheable:
                cache.save(host, factcache.to_cache(runtime.facts, runtime.cacheable, runtime.gathered))

    def _gather_task(self) -> Task:
        # tagged 'always' like Ansible's implicit fact gathering, so --tags keeps facts
        return Task(module="setup", args=dict(self.play.gather_args), location=self.play.location,
                    name="Gathering Facts", tags=frozenset({"always"}),
                    environment=self.play.environment)

    def refresh_hosts(self) -> None:
        """Update ``ansible_play_hosts`` (not failed) and ``ansible_play_batch`` (this batch)."""
        gone = self.run.failed_hosts | self.run.dead
        self.state.play_vars.set_hosts([h for h in self.state.hosts if h not in gone],
                                       [h for h in self.state.batch if h not in gone])

    # -- the recursion over items -----------------------------------------------------------
    async def run_items(self, items: Sequence[Item], hosts: list[str],
                        params: dict[str, dict[str, Any]] | None = None, top: bool = True,
                        guarded: bool = False) -> list[str]:
        """Run items on hosts; return the hosts that failed (and were not rescued).

        ``guarded``: inside the ``block`` part of a block that has a ``rescue``; a failure there
        does not fail the host (yet): the rescue decides.
        """
        failed: list[str] = []
        pipelining = self.run.options.pipelining and pipeline.play_allows(self.play)
        index = 0
        while index < len(items):
            item = items[index]
            live = [h for h in hosts if h in self.state.active and (top or h not in failed)]
            if not live or self.state.aborted or self.run.interrupted is not None:
                break
            length = (pipeline.group_length(items, index, self._sets_facts)
                      if pipelining and not self.state.ended_roles else 1)
            if isinstance(item, Block):
                newly = await self.run_block(item, live, params, guarded)
            elif length > 1:
                newly = await self.run_group([t for t in items[index:index + length] if isinstance(t, Task)],
                                             live, params, guarded)
            else:
                newly = await self.run_task(item, live, params, guarded=guarded)
            index += length
            failed.extend(h for h in newly if h not in failed)
            if top:
                self.state.active.difference_update(newly)
        return failed

    async def run_group(self, tasks: list[Task], hosts: list[str], params: dict[str, dict[str, Any]] | None,
                        guarded: bool) -> list[str]:
        """Consecutive independent tasks in one request per host (see fleet.executor.pipeline);
        results are recorded task by task, as if they had run one at a time."""
        options = self.run.options
        tasks = [t for t in tasks if selected(t.tags | self.play.tags, options.tags, options.skip_tags)]
        if len(tasks) <= 1:
            return await self.run_task(tasks[0], hosts, params, guarded=guarded) if tasks else []

        async def one(host: str) -> list[TaskResult | None]:
            async with self.semaphore:
                return await self.executor.run_segment(tasks, host, (params or {}).get(host))

        per_host = await asyncio.gather(*(one(h) for h in hosts))
        failed: list[str] = []
        for position, task in enumerate(tasks):
            results = [r for r in (row[position] for row in per_host) if r is not None]
            if results:
                self.run.reporter.task_start(task, False, self._named(task, hosts, params, results))
                failed += self.record(task, results, guarded)
        return failed

    def _sets_facts(self, task: Task) -> bool:
        """May the task's module set facts: ``setup`` and fleet's fact modules, and any module
        fleet does not have (Ansible's modules may return ``ansible_facts``)."""
        spec = self.state.registry.find(task.module)
        return task.module == "setup" or spec is None or spec.returns_facts

    def _named(self, task: Task, hosts: list[str], params: dict[str, dict[str, Any]] | None,
               results: list[TaskResult]) -> str:
        """The task's shown name (see TaskExecutor.shown_name), given to its results too."""
        name = self.executor.shown_name(task, hosts[0], (params or {}).get(hosts[0]))
        for result in results:
            result.task = name
        return name

    async def run_block(self, block: Block, hosts: list[str], params: dict[str, dict[str, Any]] | None,
                        guarded: bool) -> list[str]:
        """block, then rescue for the hosts that failed in it, then always for every host."""
        failed = await self.run_items(block.block, hosts, params, top=False, guarded=guarded or bool(block.rescue))
        if failed and block.rescue:
            if self.state.aborted:  # the run stops before the rescue: these hosts failed
                if not guarded:
                    self._fail_hosts(failed)
            else:
                self._rescuing(failed)
                failed = await self.run_items(block.rescue, failed, params, top=False, guarded=guarded)
        if block.always:
            ran = [h for h in hosts if h in self.state.active]
            failed += [h for h in await self.run_items(block.always, ran, params, top=False, guarded=guarded)
                       if h not in failed]
        return failed

    def _rescuing(self, hosts: list[str]) -> None:
        """Mark each host's failure as rescued; set ansible_failed_task/_result as Ansible does."""
        for host in hosts:
            for result in reversed(self.run.report.host(host).results):
                if result.status == "failed" and not result.ignored:
                    result.rescued = True
                    failure = {**result.data, "failed": True, "changed": result.changed, "msg": result.msg}
                    self.run.runtimes[host].set_facts.update({
                        "ansible_failed_result": failure,
                        "ansible_failed_task": {"name": result.task, "action": result.module,
                                                "location": result.location},
                    })
                    break

    def _throttle(self, task: Task, hosts: list[str]) -> contextlib.AbstractAsyncContextManager[Any]:
        """``throttle: N``: at most N hosts run the task at once (under forks), rendered with the
        first host's variables as Ansible's strategy does; 0 means no limit; ignored with run_once."""
        if task.throttle in (None, 0) or task.run_once or not hosts:
            return contextlib.nullcontext()
        value = task.throttle
        if isinstance(value, str):
            value = self.state.templar.render(value, self.state.play_vars.for_task(hosts[0], task, None), task.location)
        try:
            count = int(value)
        except (TypeError, ValueError):
            raise InputError(f"task {task.display_name!r}: throttle must be a whole number, got {value!r}",
                             task.location) from None
        return asyncio.Semaphore(count) if count > 0 else contextlib.nullcontext()

    async def run_task(self, task: Task, hosts: list[str], params: dict[str, dict[str, Any]] | None = None,
                       handler: bool = False, guarded: bool = False) -> list[str]:
        """One task (or meta, or include) on ``hosts``; return the hosts that failed."""
        if task.role is not None and self.state.ended_roles:
            hosts = [h for h in hosts if (h, id(task.role)) not in self.state.ended_roles]
            if not hosts:
                return []
        if task.module == "meta":
            return await meta.run_meta(self, task, hosts, params, guarded)
        # handlers ignore tags (Ansible): a notified handler runs whatever --tags says
        if not handler and not selected(task.tags | self.play.tags, self.run.options.tags,
                                        self.run.options.skip_tags):
            return []
        name = self.executor.shown_name(task, hosts[0], (params or {}).get(hosts[0])) if hosts else task.display_name
        self.run.reporter.task_start(task, handler, name)
        if task.module in ("include_tasks", "include_role"):
            return await self.include(task, hosts, params, guarded)
        # Ansible's BYPASS_HOST_LOOP actions (add_host, pause) run once, on the first host; unlike
        # run_once, their result stays with that host
        once = task.run_once or task.module in actions.ONCE_PER_PLAY
        targets = hosts[:1] if once else hosts
        limit = self._throttle(task, targets)

        async def one(host: str) -> TaskResult | None:
            async with self.semaphore, limit:
                return await self.executor.run(task, host, (params or {}).get(host), handler)

        results = [r for r in await asyncio.gather(*(one(h) for h in targets)) if r is not None]  # None: interrupted
        for result in results:
            result.task = name
        # a loop's items in order (read before record drops their data), as Ansible applies
        # each item's facts to every host
        facts = [r.data.get("ansible_facts") or {} for r in
                 (results[0].items if results[0].items is not None else [results[0]])
                 if r.status != "failed"] if task.run_once and results else []
        failed = self.record(task, results, guarded)
        if task.run_once and results:
            failed = self._run_once_done(task, results[0], hosts, failed, guarded, facts)
        return failed

    def _run_once_done(self, task: Task, result: TaskResult, hosts: list[str], failed: list[str],
                       guarded: bool, facts: list[dict[str, Any]]) -> list[str]:
        """Share a run_once result with the other hosts, as Ansible does: registered value and
        facts reach every host; the result counts on the host that ran it; a failure fails all."""
        others = hosts[1:]
        source = self.run.runtimes[result.host]
        for host in others:
            if task.register and task.register in source.set_facts:
                self.run.runtimes[host].set_facts[task.register] = source.set_facts[task.register]
            if task.delegate_to and task.delegate_facts:
                continue  # the facts went to the delegated host, not to every host
            target = self.run.runtimes[host]
            for values in facts:
                if task.module == "set_fact":
                    target.set_facts.update(values)
                    target.cacheable.update({k: v for k, v in values.items() if k in source.cacheable})
                elif task.module == "include_vars":
                    target.include_vars.update(values)
        if failed and others:
            if not guarded:
                self._fail_hosts(others)
                self.state.aborted = True  # Ansible treats a failed run_once task as fatal
            failed = failed + others
        return failed

    def record(self, task: Task, results: Sequence[TaskResult], guarded: bool = False) -> list[str]:
        """Add results of ``task`` to the report (see :class:`~fleet.executor.state.PlayContext`)."""
        return self._record(task, results, guarded)

    def _record(self, task: Task, results: Sequence[TaskResult], guarded: bool = False) -> list[str]:
        failed = []
        for result in results:
            report = self.run.report.host(result.host)
            if result.status == "unreachable" and task.ignore_unreachable:
                result.ignored = True  # counted ok + ignored, and the host goes on (Ansible)
            shown = self.run.options.secrets.result(result)  # reports never see a secret
            report.results.append(shown)
            self.run.reporter.task_result(shown)
            for item in [*(result.items or ()), *(shown.items or ())]:  # only a failure's data is read later
                if item.status != "failed":
                    item.data = {}
            if result.status == "unreachable" and not task.ignore_unreachable:
                report.unreachable = True
                self.run.dead.add(result.host)
                self.state.active.discard(result.host)
            elif result.status == "failed" and not result.ignored:
                failed.append(result.host)
        if failed and not guarded:
            self._fail_hosts(failed)
        if failed or any(r.status == "unreachable" for r in results):
            self._check_limits(task)
        return failed

    def _fail_hosts(self, hosts: Sequence[str]) -> None:
        for host in hosts:
            self.run.report.host(host).failed = True
            self.run.failed_hosts.add(host)
        self.refresh_hosts()

    def _check_limits(self, task: Task) -> None:
        """any_errors_fatal and max_fail_percentage (of the current batch, strictly exceeded)."""
        batch = self.state.batch or self.state.hosts
        down = [h for h in batch if h in self.run.failed_hosts or h in self.run.dead]
        if not down:
            return
        fatal = task.any_errors_fatal if task.any_errors_fatal is not None else self.play.any_errors_fatal
        if fatal:
            self.state.aborted = True
        limit = self.play.max_fail_percentage
        if limit is not None and len(down) * 100.0 / max(1, len(batch)) > limit:
            self.state.aborted = True

    # -- includes ---------------------------------------------------------------------------------
    async def include(self, task: Task, hosts: list[str], params: dict[str, dict[str, Any]] | None,
                      guarded: bool) -> list[str]:
        """``include_tasks``/``include_role``: resolved per host, hosts grouped by what they include."""
        groups: dict[tuple[str, int], tuple[list[Item], list[str], dict[str, dict[str, Any]]]] = {}
        results: list[TaskResult] = []
        name = self.executor.shown_name(task, hosts[0], (params or {}).get(hosts[0])) if hosts else task.display_name
        for host in hosts:
            result = TaskResult(host, self.play.name, name, task.module, "ok",
                                location=str(task.location), role=task.role.name if task.role else None)
            try:
                found = includes.resolve(self, task, host, (params or {}).get(host))
            except FleetError as exc:
                result.status, result.msg = "failed", str(exc)
                found = []
            else:
                if not found:
                    result.status, result.msg = "skipped", "Conditional result was False"
                else:
                    result.msg = "included: " + ", ".join(dict.fromkeys(i.label for i in found))
            for index, inclusion in enumerate(found):
                entry = groups.setdefault((inclusion.key, index), (inclusion.items, [], {}))
                entry[1].append(host)
                entry[2][host] = inclusion.params
            results.append(result)
        failed = self.record(task, results, guarded)
        for items, group_hosts, group_params in groups.values():
            live = [h for h in group_hosts if h not in failed]
            if live:
                failed += await self.run_items(items, live, group_params, top=False, guarded=guarded)
        return failed


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
