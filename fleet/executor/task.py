"""Running one task on one host: conditions, loops, one agent round trip, result keywords.

Per task and host: evaluate ``when`` (per item for loops), render args, validate them, send
every item's module calls to the agent in **one** request, then apply ``changed_when``,
``failed_when``, ``until``/``retries``, ``register`` and ``notify``.
"""

from __future__ import annotations

import asyncio
import glob
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fleet.errors import AgentError, AgentLost, ConnectionFailed, FleetError, InputError
from fleet.executor import actions
from fleet.layers import Layer
from fleet.playbook.models import Task
from fleet.result import TaskResult
from fleet.session import ModuleCall
from fleet.templating import is_template

if TYPE_CHECKING:
    from fleet.executor.play import PlayState


@dataclass
class Outcome:
    """The raw outcome of one item before it becomes a TaskResult."""

    status: str
    changed: bool = False
    msg: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    diff: dict[str, Any] | None = None
    warnings: list[str] = field(default_factory=list)
    exception: str | None = None
    label: str | None = None
    item: Any = None

    @classmethod
    def from_agent(cls, results: list[dict[str, Any]]) -> Outcome:
        """Fold the agent results of one item's calls (usually exactly one) into one outcome."""
        if len(results) == 1:
            r = results[0]
            return cls(r["status"], bool(r.get("changed")), r.get("msg", ""), r.get("data") or {},
                       r.get("diff"), list(r.get("warnings") or []), r.get("exception"))
        failed = [r for r in results if r["status"] == "failed"]
        changed = any(r.get("changed") for r in results)
        diffs = [r["diff"] for r in results if r.get("diff")]
        status = "failed" if failed else ("changed" if changed else "ok")
        return cls(status, changed, failed[0].get("msg", "") if failed else "",
                   {"results": [r.get("data") for r in results]},
                   {"parts": diffs} if diffs else None,
                   [w for r in results for w in r.get("warnings") or []])

    def registered(self) -> dict[str, Any]:
        """The value ``register:`` stores (Ansible's shape: module data plus status flags)."""
        value = dict(self.data)
        value["changed"] = self.changed
        value["failed"] = self.status == "failed"
        if self.msg and not isinstance(value.get("msg"), dict | list):
            value["msg"] = self.msg  # debug keeps a structured msg as it was given
        if self.status == "skipped":
            value["skipped"] = True
            value.setdefault("skip_reason", self.msg or "Conditional result was False")
        if self.diff is not None:
            value["diff"] = self.diff
        return value


class Unreachable(Exception):
    """The host cannot be reached; the task result is 'unreachable'."""


class TaskExecutor:
    """Executes tasks on hosts for one play."""

    def __init__(self, state: PlayState) -> None:
        self.state = state

    async def run(self, task: Task, host: str, include_params: dict[str, Any] | None = None,
                  handler: bool = False) -> TaskResult:
        state = self.state
        started = time.perf_counter()
        result = TaskResult(host=host, play=state.play.name, task=task.display_name, module=task.module,
                            status="ok", location=str(task.location), handler=handler,
                            role=task.role.name if task.role else None)
        variables = None
        outcomes: list[Outcome] | None = None
        try:
            variables = state.play_vars.for_task(host, task, include_params)
            result.no_log = state.templar.truth(task.no_log, variables, task.location)
            if task.loop is None:
                outcome = await self._single(task, host, variables)
                self._fill(result, outcome)
                registered = outcome.registered()
                facts = outcome.data.get("ansible_facts")
                if isinstance(facts, dict) and task.module not in actions.LOCAL:
                    state.runtimes[host].update_facts(facts)
            else:
                outcomes = await self._loop(task, host, variables)
                registered = self._fill_loop(result, task, outcomes)
            if task.register:
                state.runtimes[host].set_facts[task.register] = registered
        except Unreachable as exc:
            result.status, result.msg = "unreachable", str(exc)
        except FleetError as exc:
            result.status, result.msg = "failed", str(exc)
        if result.status == "failed" and variables is not None:
            try:
                result.ignored = state.templar.truth(task.ignore_errors, variables, task.location)
            except FleetError:
                result.ignored = False
        if result.changed and task.notify and result.status != "failed" and variables is not None:
            try:  # a failed task notifies nothing
                state.notify(host, self._notify_names(task, variables, outcomes))
            except FleetError as exc:
                result.status, result.msg = "failed", str(exc)
        result.duration_s = time.perf_counter() - started
        return result

    def _notify_names(self, task: Task, variables: Any, outcomes: list[Outcome] | None) -> list[str]:
        """``notify`` names, rendered per changed item in a loop (``notify: restart {{ item }}``)."""
        if not any(is_template(name) for name in task.notify):
            return list(task.notify)
        templar = self.state.templar
        if outcomes is None:
            return [str(templar.render(name, variables, task.location)) for name in task.notify]
        items = [o.item for o in outcomes]
        names: list[str] = []
        for index, outcome in enumerate(outcomes):
            if outcome.changed and outcome.status != "failed":
                scope = self._item_vars(task, variables, items, index)
                names += [str(templar.render(name, scope, task.location)) for name in task.notify]
        return names

    # -- one item -------------------------------------------------------------------------
    async def _single(self, task: Task, host: str, variables: Any) -> Outcome:
        if task.when and not self.state.templar.truth(task.when, variables, task.location):
            return Outcome("skipped", msg="Conditional result was False")
        if task.module in actions.LOCAL:
            return self._post(task, variables, self._local(task, host, variables))
        calls = self._calls(task, host, variables)
        return await self._execute(task, host, variables, calls)

    def _local(self, task: Task, host: str, variables: Any) -> Outcome:
        ctx = self._context(task, host, variables)
        raw = actions.LOCAL[task.module](ctx)
        return Outcome(raw["status"], bool(raw.get("changed")), raw.get("msg", ""), raw.get("data") or {})

    def _context(self, task: Task, host: str, variables: Any) -> actions.ActionContext:
        state = self.state
        args = state.templar.render(task.args, variables, task.location)
        if isinstance(args, dict):
            args = {k: v for k, v in args.items() if v != state.templar.omit_token}
        else:
            raise InputError(f"task {task.display_name!r}: arguments must be a mapping, got {args!r:.80}", task.location)
        return actions.ActionContext(task, host, variables, args, state.templar, state.registry,
                                     state.playbook_dir, state.runtimes[host])

    def _calls(self, task: Task, host: str, variables: Any) -> list[ModuleCall]:
        return actions.module_calls(self._context(task, host, variables))

    async def _execute(self, task: Task, host: str, variables: Any, calls: list[ModuleCall]) -> Outcome:
        """Run the calls (retrying while ``until`` is false) and apply the result keywords."""
        # ansible-core: one run plus max(0, retries) retries (3 when unset); ``retries``
        # without ``until`` retries until the task does not fail
        retrying = bool(task.until) or task.retries is not None
        attempts = 1
        if retrying:
            retries = self.state.templar.render(task.retries, variables, task.location)
            attempts = 1 + (3 if retries in (None, "") else max(int(retries), 0))
        delay = float(self.state.templar.render(task.delay, variables, task.location) or 0)
        outcome = Outcome("failed")
        for attempt in range(1, attempts + 1):
            outcome = self._post(task, variables, Outcome.from_agent(await self._send(task, host, variables, calls)))
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

    async def _send(self, task: Task, host: str, variables: Any, calls: list[ModuleCall]) -> list[dict[str, Any]]:
        state = self.state
        check = state.check_for(task)
        diff = state.diff_for(task)
        become_user = state.become_user_for(task, variables)
        try:
            session = await state.session(host, variables, become_user)
            results = await session.run(calls, check, diff, state.options.timeout)
        except (ConnectionFailed, AgentLost) as exc:
            raise Unreachable(exc.message) from None
        except AgentError as exc:
            return [{"status": "failed", "changed": False, "msg": exc.message, "data": {}}]
        except (OSError, TypeError, ValueError) as exc:  # a transport bug must not stop the other hosts
            raise Unreachable(f"cannot connect: {type(exc).__name__}: {exc}") from None
        if len(results) != len(calls):
            raise Unreachable("agent returned fewer results than calls")
        return results

    def _with_registered(self, task: Task, variables: Any, outcome: Outcome) -> Any:
        if not task.register:
            return variables
        return variables.push(Layer("set_fact / register", "register", {task.register: outcome.registered()}))

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

    # -- loops ----------------------------------------------------------------------------
    def _items(self, task: Task, variables: Any) -> list[Any]:
        raw = self.state.templar.render(task.loop, variables, task.location)
        kind = task.loop_kind
        if kind == "dict":
            if not isinstance(raw, dict):
                raise InputError(f"with_dict expects a dict, got {type(raw).__name__}", task.location)
            return [{"key": k, "value": v} for k, v in raw.items()]
        if kind == "fileglob":
            patterns = raw if isinstance(raw, list) else [raw]
            found: list[str] = []
            for pattern in patterns:
                base = self.state.playbook_dir / "files"
                full = pattern if str(pattern).startswith("/") else str(base / str(pattern))
                found.extend(sorted(p for p in glob.glob(full) if not p.endswith("/")))
            return found
        if kind in ("items", "list") and raw is not None and not isinstance(raw, (list, tuple, dict)):
            raw = [raw]  # with_items/with_list: a single value is a one-item list (Ansible)
        if isinstance(raw, str) or not isinstance(raw, (list, tuple)):
            raise InputError(f"task {task.display_name!r}: loop needs a list, got {type(raw).__name__}", task.location)
        if kind == "items":
            flat: list[Any] = []
            for element in raw:
                flat.extend(element) if isinstance(element, list) else flat.append(element)
            return flat
        return list(raw)

    def _item_vars(self, task: Task, variables: Any, items: list[Any], index: int) -> Any:
        return variables.push(Layer("task vars", "loop", loop_values(task, items, index)))

    async def _loop(self, task: Task, host: str, variables: Any) -> list[Outcome]:
        items = self._items(task, variables)
        templar = self.state.templar
        outcomes: list[Outcome | None] = [None] * len(items)
        pending: list[tuple[int, Any, list[ModuleCall]]] = []
        sequential = bool(task.until) or task.retries is not None or task.loop_control.pause > 0
        for index, item in enumerate(items):
            scope = self._item_vars(task, variables, items, index)
            label = templar.render(task.loop_control.label, scope, task.location) if task.loop_control.label else item
            if task.when and not templar.truth(task.when, scope, task.location):
                outcomes[index] = Outcome("skipped", msg="Conditional result was False")
            elif task.module in actions.LOCAL:
                outcomes[index] = self._post(task, scope, self._local(task, host, scope))
            elif sequential:
                if index and task.loop_control.pause:
                    await asyncio.sleep(task.loop_control.pause)
                outcomes[index] = await self._execute(task, host, scope, self._calls(task, host, scope))
            else:
                pending.append((index, scope, self._calls(task, host, scope)))
            outcome = outcomes[index] or Outcome("pending")  # pending: runs in the batched round trip
            outcome.label, outcome.item = _label(label), item
            outcomes[index] = outcome
        if pending:
            all_calls = [call for _, _, calls in pending for call in calls]
            results = await self._send(task, host, variables, all_calls)
            offset = 0
            for index, scope, calls in pending:
                part = results[offset:offset + len(calls)]
                offset += len(calls)
                done = self._post(task, scope, Outcome.from_agent(part))
                done.label, done.item = outcomes[index].label, items[index]  # type: ignore[union-attr]
                outcomes[index] = done
        return [o for o in outcomes if o is not None]

    def _fill(self, result: TaskResult, outcome: Outcome) -> None:
        result.status = outcome.status
        result.failed_changed = outcome.status == "failed" and outcome.changed
        result.msg = outcome.msg
        result.data = outcome.data
        result.diff = outcome.diff
        result.warnings = outcome.warnings
        result.exception = outcome.exception

    def _fill_loop(self, result: TaskResult, task: Task, outcomes: list[Outcome]) -> dict[str, Any]:
        items: list[TaskResult] = []
        registered_items = []
        all_items = [o.item for o in outcomes]
        for index, outcome in enumerate(outcomes):
            item_result = TaskResult(result.host, result.play, result.task, result.module, outcome.status,
                                     msg=outcome.msg, diff=outcome.diff, data=outcome.data,
                                     item_label=outcome.label, warnings=outcome.warnings,
                                     failed_changed=outcome.status == "failed" and outcome.changed)
            items.append(item_result)
            # Ansible's per-item shape: the result plus the loop variables of that item
            registered_items.append({**outcome.registered(), **loop_values(task, all_items, index)})
        result.items = items
        if not outcomes:
            result.status, result.msg = "skipped", "No items in the list"
        elif any(o.status == "failed" for o in outcomes):
            result.status = "failed"
            result.msg = "One or more items failed"
        elif all(o.status == "skipped" for o in outcomes):
            result.status, result.msg = "skipped", "All items skipped"
        else:
            result.status = "changed" if any(o.changed for o in outcomes) else "ok"
        result.warnings = [w for o in outcomes for w in o.warnings]
        diffs = [o.diff for o in outcomes if o.diff]
        result.diff = {"parts": diffs} if diffs else None
        result.data = {"results": registered_items}  # what ansible_failed_result shows in a rescue
        return {
            "changed": any(o.changed for o in outcomes),
            "failed": result.status == "failed",
            "skipped": result.status == "skipped",
            "msg": "All items completed" if result.status not in ("failed", "skipped") else result.msg,
            "results": registered_items,
        }


def loop_values(task: Task, items: list[Any], index: int) -> dict[str, Any]:
    """The variables one loop item sees: loop_var, index_var and (``extended``) ansible_loop."""
    control = task.loop_control
    values: dict[str, Any] = {control.loop_var: items[index], "ansible_loop_var": control.loop_var}
    if control.index_var:
        values[control.index_var] = index
        values["ansible_index_var"] = control.index_var
    if control.extended:
        length = len(items)
        values["ansible_loop"] = {
            "allitems": items, "index": index + 1, "index0": index, "revindex": length - index,
            "revindex0": length - index - 1, "first": index == 0, "last": index == length - 1,
            "length": length, "previtem": items[index - 1] if index else None,
            "nextitem": items[index + 1] if index + 1 < length else None,
        }
    return values


def _label(value: Any) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= 200 else text[:197] + "..."
