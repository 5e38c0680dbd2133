"""Running tasks on one host: prepare on the controller, one agent round trip, finish.

``prepare`` evaluates ``when`` (per item for loops), renders and validates the args and builds
the module calls; ``finish`` applies ``changed_when``, ``failed_when``, ``register``, facts,
``ignore_errors`` and ``notify`` to what the agent answered. A loop's items travel in one
request, and :meth:`TaskExecutor.run_segment` sends several consecutive independent tasks in
one request too (see :mod:`fleet.executor.pipeline` for which tasks qualify).
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from typing import Any

import fleet.executor.actions as actions
import fleet.executor.asyncjobs as asyncjobs
import fleet.executor.bridged as bridged
import fleet.executor.defaults as defaults
import fleet.executor.handlers as handlers
import fleet.executor.reboot as reboot
import fleet.executor.timeouts as timeouts
from fleet.connection import ModuleCall, armed, guard_seconds, settle
from fleet.errors import (
    AgentError,
    AgentLost,
    ConnectionFailed,
    FleetError,
    InputError,
    ModuleRefused,
)
from fleet.executor.awaited import FINISHED, run_awaited
from fleet.executor.context import HostRuntime
from fleet.executor.delegation import Target, facts_host, target_for
from fleet.executor.dynamic import DynamicTasks, ModuleNotFound
from fleet.executor.environment import task_environment
from fleet.executor.hoststate import Interrupted
from fleet.executor.hosttrust import accepted_facts
from fleet.executor.outcome import (
    Outcome,
    fill_loop_result,
    fill_result,
    item_vars,
    label_text,
    loop_items,
)
from fleet.executor.plan import Plan, Unreachable
from fleet.executor.state import PlayState
from fleet.playbook import Task
from fleet.result import TaskResult
from fleet.templating import is_template, wrap
from fleet.vars import Layer


class TaskExecutor:
    """Executes tasks on hosts for one play."""

    def __init__(self, state: PlayState) -> None:
        self.state = state
        self.routes = bridged.Routes(state.run.bridge, state.registry, actions.LOCAL)
        self.dynamic = DynamicTasks(state.templar, state.registry, state.run.bridge)

    # -- entry points ---------------------------------------------------------------------
    async def run(self, task: Task, host: str, include_params: dict[str, Any] | None = None,
                  handler: bool = False) -> TaskResult | None:
        """One task on one host (retries and paused loops go item by item); None when the run
        was interrupted before the task was sent."""
        plan = self.prepare(task, host, include_params, handler)
        results: list[dict[str, Any]] = []
        try:
            if plan.awaited:
                await self._awaited_single(plan, host)
            if plan.paused:
                await self._paused_local_items(plan, host, include_params)
            if plan.agent_calls and (self._sequential(task) or plan.split):
                await self._run_sequential(plan, host)
            elif plan.agent_calls:
                results = await self._send(plan, host, plan.agent_calls)
        except (Unreachable, FleetError) as exc:  # FleetError: a delegated host's bad connection settings
            plan.error = exc
        except Interrupted:
            return None  # never sent: the task did not run on this host
        result = self.finish(plan, host, results)
        await self._notified(plan, host)
        return result

    async def run_segment(self, tasks: list[Task], host: str, include_params: dict[str, Any] | None
                          ) -> list[TaskResult | None]:
        """Several consecutive independent tasks on one host in as few round trips as possible
        (one per become user); ``None`` for tasks the host never reached after a failure."""
        plans: list[Plan] = []
        for task in tasks:
            plans.append(self.prepare(task, host, include_params, False))
            if plans[-1].stops_here:
                break
        answers: dict[int, list[dict[str, Any]]] = {}
        reached = len(plans)
        start = 0
        while start < len(plans):
            end = start + 1
            while (end < len(plans) and plans[end].become_user == plans[start].become_user
                   and not plans[end - 1].guarded):
                end += 1  # a request ends after a change that must be confirmed (connection/guard.py)
            group = plans[start:end]
            calls = [dataclasses.replace(call, task=index + 1, stop=not p.ignore_errors)
                     for index, p in enumerate(group) for call in p.agent_calls]
            results: list[dict[str, Any]] = []
            lost: Unreachable | None = None
            if calls:
                try:
                    results = await self._send(group[0], host, calls, partial=True,
                                               names=[p.task.display_name for p in group if p.agent_calls])
                except Unreachable as exc:  # the tasks the agent finished before that still count
                    results, lost = exc.partial, exc
                except Interrupted:
                    results = []  # nothing of this group was sent
            offset, stop = 0, False
            for position, plan in enumerate(group, start=start):
                count = len(plan.agent_calls)
                if count and offset + count > len(results):
                    if lost is not None:
                        plan.error = lost  # this task was under way when the host went away
                        position += 1
                    reached = position  # else: the agent stopped here after a failed task
                    stop = True
                    break
                answers[position] = results[offset:offset + count]
                offset += count
            if stop:
                break
            if lost is not None:  # lost after its last task finished: the next task cannot run
                following = next((p for p in plans[end:] if p.agent_calls), None)
                if following is not None:
                    following.error = lost
                    reached = plans.index(following) + 1
                break
            last = group[-1]
            if last.guarded and not last.ignore_errors and any(
                    r.get("status") == "failed" for r in answers.get(end - 1, [])):
                reached = end  # the change was rolled back: the host stops here, as after any failure
                break
            start = end
        finished: list[TaskResult | None] = []
        for position, plan in enumerate(plans):
            if position >= reached:
                finished.append(None)
                continue
            result = self.finish(plan, host, answers.get(position, []))
            await self._notified(plan, host)
            finished.append(result)
            if result.status in ("failed", "unreachable") and not result.ignored:
                reached = position + 1  # the tasks after a failure do not count as run
        return finished + [None] * (len(tasks) - len(plans))

    def shown_name(self, task: Task, host: str, include_params: dict[str, Any] | None) -> str:
        """The name the terminal and the report give the task, as Ansible names it: rendered with
        the first host's variables (an include's loop variable, facts; no loop item of its own);
        a name that does not render (an undefined variable) stays as written."""
        if not task.name or not is_template(task.name):
            return task.display_name
        try:
            variables = self.state.play_vars.for_task(host, task, include_params)
            name = str(self.state.templar.render(task.name, variables, task.location))
        except FleetError:
            return task.display_name
        return f"{task.role.name} : {name}" if task.role else name

    # -- preparing --------------------------------------------------------------------------
    def prepare(self, task: Task, host: str, include_params: dict[str, Any] | None, handler: bool) -> Plan:
        state = self.state
        result = TaskResult(host=host, play=state.play.name, task=task.display_name, module=task.module,
                            status="ok", location=str(task.location), handler=handler,
                            role=task.role.name if task.role else None)
        plan = Plan(task, result, time.perf_counter(), original=task)
        try:
            variables = plan.variables = state.play_vars.for_task(host, task, include_params)
            result.no_log = state.templar.truth(task.no_log, variables, task.location)
            plan.ignore_errors = self._ignore(task, variables)
            # templated names (fleet.executor.dynamic): rendered for this host before ``when``,
            # once for all items, as Ansible renders them before it runs the task
            task = plan.task = self.dynamic.loop_ready(task, variables)
            try:
                task = plan.task = self.dynamic.with_module(task, variables)
            except ModuleNotFound as exc:
                plan.outcome = Outcome("failed", msg=exc.message)
            self._mark(plan)
            if plan.outcome is None and task.loop is None:
                self._prepare_single(plan, host)
            elif plan.outcome is None:
                self._prepare_loop(plan, host, include_params)
            if plan.target is not None:
                result.delegated_to = plan.target.name
            if plan.agent_calls:  # a delegated task becomes as its delegated host's vars say
                plan.become_user = state.become_user_for(task, plan.target.variables if plan.target else variables)
                if plan.target is None and not plan.split:  # else the host's own agent remembers it (notified)
                    handlers.attach(state, plan)
        except FleetError as exc:
            plan.error = exc
        if handler and (host, id(plan.given)) in state.earlier:
            result.earlier_run = handlers.earlier_note(state.earlier[(host, id(plan.given))])
        return plan

    def _mark(self, plan: Plan) -> None:
        """Say in the result which module the task runs (its templated name rendered), and
        whether through the bridge; a module that cannot run fails the task only if it is reached."""
        plan.result.module = plan.task.module
        module = self.routes.runnable(plan.task)
        if module is not None:
            bridged.mark(plan.result, self.state.run.bridge, module)

    def _ignore(self, task: Task, variables: Any) -> bool:
        try:
            return self.state.templar.truth(task.ignore_errors, variables, task.location)
        except FleetError:
            return False

    def _prepare_single(self, plan: Plan, host: str) -> None:
        task, variables = plan.task, plan.variables
        if task.when and not self.state.templar.truth(task.when, variables, task.location):
            plan.outcome = Outcome("skipped", msg="Conditional result was False")
            return
        plan.target = target_for(self.state, task, variables)
        if task.module in actions.AWAITED or task.module in reboot.ON_HOST:
            plan.awaited = True  # run by run(): it waits, or reaches the host itself
        elif task.module in actions.LOCAL:
            plan.outcome = self._post(task, variables, self._local(task, host, variables, plan.target))
        else:
            plan.calls = self._calls(task, host, variables, plan.result.warnings)

    def _prepare_loop(self, plan: Plan, host: str, include_params: dict[str, Any] | None) -> None:
        task, variables, templar = plan.task, plan.variables, self.state.templar
        try:
            items = plan.items = loop_items(self.state.templar, task, variables, self.state.playbook_dir)
        except FleetError:
            if self._false_anyway(task, variables):  # as Ansible: the loop's error only counts if ``when`` holds
                plan.outcome = Outcome("skipped", msg="Conditional result was False")
                return
            raise
        plan.outcomes = []
        for index, item in enumerate(items):
            if index and task.module in actions.SETS_VARS:
                # as Ansible: each item sees the variables the items before it set (a list built
                # item by item); a fresh view, since a view keeps the values it rendered
                variables = self.state.play_vars.for_task(host, task, include_params)
            scope = item_vars(task, variables, items, index)
            label = templar.render(task.loop_control.label, scope, task.location) if task.loop_control.label else item
            if task.when and not templar.truth(task.when, scope, task.location):
                outcome = Outcome("skipped", msg="Conditional result was False")
            elif task.module in actions.LOCAL and (index and task.loop_control.pause > 0
                                                   or task.module in actions.AWAITED):
                plan.paused.append(index)  # run after the pause, in run(): it may read the time
                outcome = Outcome("pending")
            elif task.module in actions.LOCAL:
                target = plan.targets[index] = target_for(self.state, task, scope)
                outcome = self._post(task, scope, self._local(task, host, scope, target))
            else:
                plan.targets[index] = target_for(self.state, task, scope)  # per item, as Ansible
                plan.pending.append((index, scope, self._calls(task, host, scope, plan.result.warnings)))
                outcome = Outcome("pending")
            outcome.label, outcome.item = label_text(label), item
            plan.outcomes.append(outcome)
        names = {target.name if target else None for target in plan.targets.values()}
        plan.split = len(names) > 1
        if len(names) == 1 and None not in names:
            plan.target = next(iter(plan.targets.values()))

    async def _paused_local_items(self, plan: Plan, host: str, include_params: dict[str, Any] | None) -> None:
        """A controller action's loop items with ``loop_control.pause``: each after the pause, as
        Ansible runs them (``debug``/``set_fact`` over ``now()`` see the time go by), with the
        variables the items before it set."""
        task, items = plan.task, plan.items or []
        assert plan.outcomes is not None
        try:
            for index in plan.paused:
                if index and task.loop_control.pause > 0:
                    await asyncio.sleep(task.loop_control.pause)
                variables = self.state.play_vars.for_task(host, task, include_params)
                scope = item_vars(task, variables, items, index)
                target = plan.targets[index] = target_for(self.state, task, scope)
                done = self._post(task, scope, await self._local_awaited(task, host, scope, target))
                done.label, done.item = plan.outcomes[index].label, plan.outcomes[index].item
                plan.outcomes[index] = done
        except FleetError as exc:
            plan.error = exc
        plan.paused = []

    def _false_anyway(self, task: Task, variables: Any) -> bool:
        """Is the task's ``when`` false without any loop item (one that reads ``item`` is not)?"""
        try:
            return bool(task.when) and not self.state.templar.truth(task.when, variables, task.location)
        except FleetError:
            return False

    async def _awaited_single(self, plan: Plan, host: str) -> None:
        if plan.task.module in reboot.ON_HOST:  # they drop and remake the host's connection
            await reboot.run(self, plan, host)
            return
        try:
            plan.outcome = self._post(plan.task, plan.variables,
                                      await self._local_awaited(plan.task, host, plan.variables, plan.target))
        except FleetError as exc:
            plan.error = exc

    async def _local_awaited(self, task: Task, host: str, variables: Any, target: Target | None) -> Outcome:
        """A controller action, awaited when it waits or reaches the host (pause, raw)."""
        if task.module not in actions.AWAITED:
            return self._local(task, host, variables, target)
        ctx = self._context(task, host, variables, facts_host(task, host, target))
        if target is not None:  # raw reaches the delegated host, through its own settings
            ctx = dataclasses.replace(ctx, host=target.name, variables=target.variables)
        return self._outcome(await run_awaited(ctx, self.state))

    def _local(self, task: Task, host: str, variables: Any, target: Target | None) -> Outcome:
        asyncjobs.refuse(task)
        ctx = self._context(task, host, variables, facts_host(task, host, target))
        return self._outcome(actions.LOCAL[task.module](ctx))

    @staticmethod
    def _outcome(raw: dict[str, Any]) -> Outcome:
        return Outcome(raw["status"], bool(raw.get("changed")), raw.get("msg", ""), raw.get("data") or {},
                       warnings=list(raw.get("warnings") or []), exact=bool(raw.get("exact")))

    def _context(self, task: Task, host: str, variables: Any, facts_to: str | None = None) -> actions.ActionContext:
        """``facts_to``: the host whose variables set_fact and include_vars set (delegate_facts)."""
        state = self.state
        args = state.templar.render(task.args, variables, task.location)
        if isinstance(args, dict):
            if task.module_defaults or task.module == "package":
                bridged = task.module not in actions.LOCAL and self._bridged(task)
                args = defaults.host_args(task, args, variables, state.templar, state.run.bridge,
                                          self._module(task).fqcn if bridged else None)
            args = {k: v for k, v in args.items() if v != state.templar.omit_token}
        else:
            raise InputError(f"task {task.display_name!r}: arguments must be a mapping, got {args!r:.80}", task.location)
        return actions.ActionContext(task, host, variables, args, state.templar, state.registry,
                                     state.run.files, state.runtimes.setdefault(facts_to or host, HostRuntime()),
                                     state.check_for(task), state.diff_for(task), state.options.verbosity, state)

    def _calls(self, task: Task, host: str, variables: Any, warnings: list[str]) -> list[ModuleCall]:
        calls = asyncjobs.prepared(self.state.templar, task, variables, self._module_calls(task, host, variables, warnings),
                                   self._bridged)
        return timeouts.limited(self.state.templar, task, variables, calls) if task.timeout is not None else calls

    def _module_calls(self, task: Task, host: str, variables: Any, warnings: list[str]) -> list[ModuleCall]:
        if self._bridged(task):
            env = task_environment(self.state.templar, task, variables, warnings) if task.environment else {}
            ctx = self._context(task, host, variables)
            no_log = self.state.templar.truth(task.no_log, variables, task.location)
            return bridged.calls(self.state.run.bridge, task, self._module(task), ctx.args, variables, ctx.check,
                                 ctx.diff, no_log, self.state.options.verbosity, env)
        how = self.routes.route(task)
        if how.failure:
            raise defaults.ModuleFailed(how.failure) if how.exact else InputError(
                f"task {task.display_name!r}: {how.failure}", task.location)
        env = task_environment(self.state.templar, task, variables, warnings) if task.environment else {}
        calls = actions.module_calls(self._context(task, host, variables))
        return [dataclasses.replace(call, env=env) for call in calls] if env else calls

    def _bridged(self, task: Task) -> bool:
        return self.routes.bridged(task)

    def _module(self, task: Task) -> Any:
        """The module of a bridged task (fleet.bridge.Resolution), resolved once per run."""
        return self.routes.module(task)

    def _from_agent(self, task: Task, variables: Any, results: list[dict[str, Any]], job: bool = False) -> Outcome:
        """The agent's results of one task (or loop item) as an Outcome (``job``: an async job's)."""
        if any(r.get("timedout") for r in results):
            return timeouts.outcome(task, results)
        if job and self._bridged(task) and asyncjobs.finished(results):  # the module's output, as it printed it
            results = asyncjobs.as_printed(results)
        elif job or (task.module == "async_status" and not self._bridged(task)):
            return asyncjobs.outcome(results, task.loop is not None)
        if self._bridged(task):
            no_log = self.state.templar.truth(task.no_log, variables, task.location)
            return bridged.outcome(self.state.run.bridge, self._module(task), results, no_log, task.loop is not None)
        if task.module in FINISHED:  # controller actions whose host part ran in the agent
            return FINISHED[task.module](self._context(task, variables.get("inventory_hostname", ""), variables),
                                         Outcome.from_agent(results))
        return Outcome.from_agent(results)

    # -- sending --------------------------------------------------------------------------
    @staticmethod
    def _sequential(task: Task) -> bool:
        """Retries re-send a task, paused loops wait between items, jobs are polled: a round trip each."""
        return bool(task.until) or task.retries is not None or task.loop_control.pause > 0 or asyncjobs.is_async(task)

    async def _send(self, plan: Plan, host: str, calls: list[ModuleCall], partial: bool = False,
                    names: list[str] | None = None, target: Target | None = None) -> list[dict[str, Any]]:
        """The agent's results for ``calls``; Interrupted when the run was interrupted first.
        ``target``: a loop item's delegated host (else the plan's, else ``host`` itself)."""
        state, task, run = self.state, plan.task, self.state.run
        target = target or plan.target
        where, become = host, plan.become_user
        try:
            if target is not None:  # delegate_to: the delegated host's connection, opened once per run
                where = target.name
                if target is not plan.target:
                    become = state.become_user_for(task, target.variables)
                session = await state.session(where, target.variables, become,
                                              state.remote_user_for(task, target.variables))
            else:
                session = await state.session(host, plan.variables, become,
                                              state.remote_user_for(task, plan.variables))
            seconds = None
            if any(call.sensitive for call in calls) and not state.check_for(task):
                seconds = guard_seconds(state.run.connections[where], plan.variables)
                calls = armed(calls, seconds) if seconds else calls
            if run.interrupted is not None:  # checked with nothing awaited before the request goes out
                raise Interrupted()
            with run.sending(host, names or [task.display_name]):
                results = await session.run(calls, state.options.timeout)
            if len(results) < len(calls) and run.interrupted is not None and not partial:
                raise Interrupted()  # stopped before this task began
            if seconds:
                results = await settle(state.run.connections[where], become, session, results,
                                             seconds / 2)
        except AgentLost as exc:
            raise Unreachable(self._via(target, exc.message), exc.partial) from None
        except ConnectionFailed as exc:
            raise Unreachable(self._via(target, exc.message)) from None
        except AgentError as exc:
            # the tasks that finished keep their results; the one under way fails
            done = list(exc.partial)
            current = [c for c in calls[len(done):] if c.task == calls[len(done)].task] if len(done) < len(calls) else []
            return done + [{"status": "failed", "changed": False, "msg": exc.message, "data": {}}] * len(current)
        except (OSError, TypeError, ValueError) as exc:  # a transport bug must not stop the other hosts
            raise Unreachable(self._via(target, f"cannot connect: {type(exc).__name__}: {exc}")) from None
        if len(results) != len(calls) and not partial:
            raise Unreachable(self._via(target, "agent returned fewer results than calls"))
        return results

    @staticmethod
    def _via(target: Target | None, message: str) -> str:
        """A connection error of a delegated task names the host it was delegated to."""
        return message if target is None else f"delegated host {target.name}: {message}"

    async def _run_sequential(self, plan: Plan, host: str) -> None:
        """until/retries and paused loops: every attempt or item is its own round trip. An
        interrupt stops them between two: the task fails, saying how far it got."""
        task = plan.task
        try:
            if plan.outcomes is None:
                plan.outcome = await self._execute(plan, host, plan.variables, plan.calls, plan.target)
                return
            for position, (index, scope, calls) in enumerate(plan.pending):
                if position and task.loop_control.pause:
                    await asyncio.sleep(task.loop_control.pause)
                try:
                    done = await self._execute(plan, host, scope, calls, plan.targets.get(index))
                except Interrupted:
                    if not position:
                        raise
                    plan.error = FleetError(f"interrupted after {position} of {len(plan.pending)} items")
                    return
                done.label, done.item = plan.outcomes[index].label, plan.outcomes[index].item
                plan.outcomes[index] = done
            plan.pending = []
        except (Unreachable, FleetError) as exc:
            plan.error = exc

    async def _execute(self, plan: Plan, host: str, variables: Any, calls: list[ModuleCall],
                       target: Target | None) -> Outcome:
        """Run the calls (retrying while ``until`` is false) and apply the result keywords."""
        # ansible-core: one run plus max(0, retries) retries (3 when unset); ``retries``
        # without ``until`` retries until the task does not fail
        task = plan.task
        retrying = bool(task.until) or task.retries is not None
        attempts = 1
        if retrying:
            retries = self.state.templar.render(task.retries, variables, task.location)
            attempts = 1 + (3 if retries in (None, "") else max(int(retries), 0))
        delay = float(self.state.templar.render(task.delay, variables, task.location) or 0)
        outcome = Outcome("failed")
        for attempt in range(1, attempts + 1):
            try:
                answer = await self._send(plan, host, calls, target=target)
            except Interrupted:
                if attempt == 1:
                    raise
                outcome.status, outcome.msg = "failed", f"interrupted after {attempt - 1} attempts"
                break
            if job := any(call.job for call in calls):
                answer = await asyncjobs.wait(lambda c: self._send(plan, host, c, target=target), self.state.registry,
                                              calls, answer)
            outcome = self._post(task, variables, self._from_agent(task, variables, answer, job))
            if attempts == 1:
                break
            outcome.data["attempts"] = attempt
            scope = self._with_registered(task, variables, outcome)
            if (self.state.templar.truth(task.until, scope, task.location) if task.until
                    else outcome.status != "failed"):
                break
            if attempt == attempts:
                outcome.status = "failed"
                outcome.msg = outcome.msg or f"Task failed: the 'until' condition was still false after {attempts} attempts"
                break
            await asyncio.sleep(delay)
        return outcome

    # -- finishing --------------------------------------------------------------------------
    def finish(self, plan: Plan, host: str, results: list[dict[str, Any]]) -> TaskResult:
        """Turn a plan and the agent's answers into the task's result; register, notify."""
        state, task, result = self.state, plan.task, plan.result
        outcomes: list[Outcome] | None = None
        early = list(result.warnings)  # decided while preparing (environment)
        try:
            if plan.error is not None:
                raise plan.error
            if plan.outcomes is None:
                outcome = plan.outcome or self._post(task, plan.variables,
                                                     self._from_agent(task, plan.variables, results))
                fill_result(result, outcome)
                registered = outcome.registered()
                self._facts(plan, host, outcome, plan.target)
            else:
                outcomes = self._loop_outcomes(plan, results)
                registered = fill_loop_result(result, task, outcomes)
                for index, item_result in enumerate(result.items or []):
                    target = plan.targets.get(index)
                    item_result.delegated_to = target.name if target is not None else None
                    self._facts(plan, host, outcomes[index], target)  # per item, as Ansible
                if result.via == "ansible":
                    registered = bridged.loop_registered(registered)
            if early:
                result.warnings = [*early, *(w for w in result.warnings if w not in early)]
            if task.register:  # as Ansible's wrap_var: a registered result is host data
                state.runtimes[host].set_facts[task.register] = wrap(registered, self._on_controller(plan, host))
        except Unreachable as exc:
            result.status, result.msg = "unreachable", str(exc)
        except FleetError as exc:
            result.status, result.msg = "failed", str(exc)
            if task.register and plan.variables is not None:  # as Ansible's strategy registers any result
                said = exc.reason if isinstance(exc, ModuleRefused) else exc.message  # the module's words
                state.runtimes[host].set_facts[task.register] = wrap({"failed": True, "changed": False, "msg": said})
        if result.status == "failed" and plan.variables is not None:
            result.ignored = plan.ignore_errors
        if result.changed and task.notify and result.status != "failed" and plan.variables is not None:
            try:  # a failed task notifies nothing
                plan.notified = handlers.notify_names(self.state.templar, task, plan.variables, outcomes)
                state.notify(host, plan.notified)
            except FleetError as exc:
                result.status, result.msg = "failed", str(exc)
        result.duration_s = time.perf_counter() - plan.started
        return result

    def _facts(self, plan: Plan, host: str, outcome: Outcome, target: Target | None) -> None:
        """A module's ``ansible_facts`` become the host's facts -- the delegated host's with
        ``delegate_facts`` -- when the module declares facts (fleet.executor.hosttrust)."""
        task, result, state = plan.task, plan.result, self.state
        if task.module in actions.LOCAL or "ansible_facts" not in outcome.data or outcome.status == "skipped":
            return
        spec = state.registry.find(task.module)
        declares = spec.returns_facts if spec is not None else result.via == "ansible"  # as Ansible
        facts = accepted_facts(outcome.data["ansible_facts"], task.module, declares, result.warnings)
        if facts:
            runtime = state.runtimes.setdefault(facts_host(task, host, target), HostRuntime())
            runtime.update_facts(facts, as_returned=result.via == "ansible")

    async def _notified(self, plan: Plan, host: str) -> None:
        if plan.notified:
            await handlers.notified(self.state, plan, host, plan.notified)

    def _loop_outcomes(self, plan: Plan, results: list[dict[str, Any]]) -> list[Outcome]:
        assert plan.outcomes is not None
        outcomes = list(plan.outcomes)
        offset = 0
        for index, scope, calls in plan.pending:
            part = results[offset:offset + len(calls)]
            offset += len(calls)
            done = self._post(plan.task, scope, self._from_agent(plan.task, scope, part))
            done.label, done.item = outcomes[index].label, outcomes[index].item
            outcomes[index] = done
        return outcomes

    def _with_registered(self, task: Task, variables: Any, outcome: Outcome) -> Any:
        if not task.register:
            return variables
        return variables.push(Layer("set_fact / register", "register", {task.register: wrap(outcome.registered())}))

    def _on_controller(self, plan: Plan, host: str) -> bool:
        """Did every item of the task run on the controller itself (its result may then name
        controller files: fleet.templating.unsafe)?"""
        targets = list(plan.targets.values()) if plan.targets else [plan.target]
        return all(self.state.on_controller(t.name if t else host, t.variables if t else plan.variables)
                   for t in targets)

    def _post(self, task: Task, variables: Any, outcome: Outcome) -> Outcome:
        """``changed_when`` and ``failed_when`` (they see the registered result)."""
        if not task.changed_when and not task.failed_when:
            return outcome
        if outcome.status == "skipped":
            return outcome
        scope = self._with_registered(task, variables, outcome)
        templar = self.state.templar
        if task.changed_when is not None:
            outcome.changed = templar.truth(task.changed_when, scope, task.location)
        if task.failed_when is not None:
            failed = templar.truth(task.failed_when, scope, task.location)
            if failed and outcome.status != "failed":
                outcome.msg = outcome.msg or "failed_when condition is true"
            elif not failed and outcome.status == "failed":
                outcome.msg = ""
            outcome.status = "failed" if failed else "ok"
        if outcome.status != "failed":
            outcome.status = "changed" if outcome.changed else "ok"
        return outcome
