"""``wait_for_connection`` and ``reboot``: controller actions that talk to the host over its
connection, drop it and make it again, as Ansible's action plugins of those names do.

``wait_for_connection`` starts the agent and pings it until it answers (``delay``, ``sleep``,
``timeout``, ``connect_timeout``). ``reboot`` reads the boot id (``boot_time_command``), runs the
reboot command, then — its connections and agents dropped — reads the boot id again until it
changed and the ``test_command`` succeeds, within ``reboot_timeout``. Results and messages are
Ansible's (``elapsed``, ``rebooted``); check mode: ``wait_for_connection`` skips, ``reboot``
says changed without rebooting. A loop over either is refused (one host, one wait).
"""

from __future__ import annotations

import asyncio
import random
import shlex
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from fleet.connection import ModuleCall
from fleet.errors import FleetError, InputError
from fleet.executor.outcome import Outcome
from fleet.executor.plan import Plan, Unreachable

if TYPE_CHECKING:
    from fleet.executor.actions import ActionContext
    from fleet.executor.task import TaskExecutor

ON_HOST = frozenset({"wait_for_connection", "reboot"})
WAIT_ARGS = frozenset({"connect_timeout", "delay", "sleep", "timeout"})
REBOOT_ARGS = frozenset({"boot_time_command", "connect_timeout", "msg", "post_reboot_delay", "pre_reboot_delay",
                         "reboot_command", "reboot_timeout", "search_paths", "test_command"})
BOOT_TIME = "cat /proc/sys/kernel/random/boot_id"
SEARCH_PATHS = ["/sbin", "/bin", "/usr/sbin", "/usr/bin", "/usr/local/sbin"]
MAX_FAIL_SLEEP = 12  # Ansible's reboot: the longest pause between two attempts


class TimedOut(Exception):
    """The host did not come back in time (Ansible's TimedOutException)."""


def looped(ctx: ActionContext) -> dict[str, Any]:
    """The entry a loop reaches: fleet runs these actions on one item only."""
    raise InputError(f"{ctx.where}: {ctx.task.module} cannot run in a loop in fleet", ctx.location)


class HostLink:
    """One task's way to its host: commands through the agent, and the connection dropped."""

    def __init__(self, executor: TaskExecutor, plan: Plan, host: str, connect_timeout: float | None) -> None:
        self.executor, self.plan, self.host = executor, plan, host
        self.connect_timeout = connect_timeout

    async def reset(self) -> None:
        """Drop the host's connection and its agents: the next call connects again."""
        await self.executor.state.run.close_host(self.host)

    async def call(self, module: str, params: dict[str, Any], limit: float | None = None) -> dict[str, Any]:
        spec = self.executor.state.registry.find(module)
        assert spec is not None, module
        call = ModuleCall(spec.name, spec.source, spec.sha, spec.validate(params, module, None), spec.compiled_code)
        sending = self.executor._send(self.plan, self.host, [call])  # noqa: SLF001 - the executor's one way to a host
        try:
            results = await asyncio.wait_for(sending, limit or self.connect_timeout or 60)
        except TimeoutError:
            raise Unreachable(f"{self.host}: no answer within {limit or self.connect_timeout or 60} seconds") from None
        return results[0]

    async def shell(self, command: str, limit: float | None = None) -> dict[str, Any]:
        """``{rc, stdout, stderr}`` of ``command``, run as the task becomes (Ansible's low-level command)."""
        answer = await self.call("shell", {"cmd": command}, limit)
        data = answer.get("data") or {}
        if "rc" not in data:  # the agent refused the call: as a failed command
            return {"rc": 1, "stdout": "", "stderr": str(answer.get("msg", ""))}
        return {"rc": data["rc"], "stdout": str(data.get("stdout", "")), "stderr": str(data.get("stderr", ""))}

    def is_local(self) -> bool:
        connection = self.executor.state.run.connections.get(self.host)
        return connection is not None and connection.spec.kind == "local"


async def run(executor: TaskExecutor, plan: Plan, host: str) -> None:
    """Run the plan's ``wait_for_connection``/``reboot`` and set its outcome (result keywords applied)."""
    task, variables = plan.task, plan.variables
    if plan.error is not None or plan.outcome is not None:
        return
    try:
        plan.become_user = executor.state.become_user_for(task, variables)
        ctx = executor._context(task, host, variables)  # noqa: SLF001 - the args as every action renders them
        valid = WAIT_ARGS if task.module == "wait_for_connection" else REBOOT_ARGS
        bad = sorted(str(k) for k in ctx.args if k not in valid)
        raw: dict[str, Any]
        if bad:
            raw = {"status": "failed", "msg": f"Invalid options for {task.module}: {','.join(bad)}", "data": {}}
        elif task.module == "wait_for_connection":
            raw = await wait_for_connection(ctx, HostLink(executor, plan, host, _number(ctx, "connect_timeout", 5)))
        else:
            raw = await reboot(ctx, HostLink(executor, plan, host, _number(ctx, "connect_timeout", 0) or None))
    except FleetError as exc:
        plan.error = exc
        return
    outcome = Outcome(raw["status"], raw["status"] == "changed", raw.get("msg", ""), raw.get("data") or {},
                      exact=bool(raw.get("exact")))
    plan.outcome = executor._post(task, variables, outcome)  # noqa: SLF001 - changed_when/failed_when as for any task


def _number(ctx: ActionContext, name: str, default: float) -> float:
    value = ctx.args.get(name, ctx.args.get(f"{name}_sec", default))
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        raise InputError(f"{ctx.where}: {name} must be a whole number of seconds, got {value!r:.40}",
                         ctx.location) from None


async def wait_for_connection(ctx: ActionContext, link: HostLink) -> dict[str, Any]:
    """Ansible's ``wait_for_connection``: the agent started and ``ping`` answered, retried every
    ``sleep`` seconds until ``timeout``."""
    delay, sleep, timeout = _number(ctx, "delay", 0), _number(ctx, "sleep", 1), _number(ctx, "timeout", 600)
    if ctx.check:  # Ansible's whole result: no skip_reason
        return {"status": "skipped", "data": {"skipped": True}, "exact": True}
    started = time.monotonic()
    await asyncio.sleep(delay)

    async def ping() -> None:
        await link.reset()
        answer = await link.call("ping", {})
        if (answer.get("data") or {}).get("ping") != "pong":
            raise RuntimeError("ping test failed")

    data: dict[str, Any] = {}
    status = "ok"
    deadline = time.monotonic() + timeout
    error: BaseException | None = None
    while True:
        try:
            await ping()
            break
        except (Unreachable, FleetError, RuntimeError) as exc:
            error = exc
        if time.monotonic() + sleep >= deadline:
            status = "failed"
            data["msg"] = f"timed out waiting for ping module test: {error}"
            break
        await asyncio.sleep(sleep)
    data["elapsed"] = int(time.monotonic() - started)
    return {"status": status, "msg": data.get("msg", ""), "data": data}


async def _until(action: Callable[[], Awaitable[None]], timeout: float, what: str, link: HostLink) -> None:
    """Ansible's reboot retry: ``action`` until it succeeds, pausing 2**n seconds (at most 12)."""
    deadline = time.monotonic() + timeout
    failures = 0
    while time.monotonic() < deadline:
        try:
            await action()
            return
        except (Unreachable, FleetError, RuntimeError, ValueError) as exc:
            if isinstance(exc, Unreachable):
                await link.reset()
            pause = min(2 ** failures, MAX_FAIL_SLEEP) + random.random()
            failures += 1
            await asyncio.sleep(min(pause, max(0.0, deadline - time.monotonic())))
    raise TimedOut(f"Timed out waiting for {what} (timeout={int(timeout)})")


async def _shutdown_command(ctx: ActionContext, link: HostLink) -> str:
    """The reboot command line: ``reboot_command`` as given, else Linux's ``shutdown -r``, its
    program found in ``search_paths`` as Ansible's find does."""
    given = ctx.args.get("reboot_command")
    if given is not None and not isinstance(given, str):
        raise InputError(f"{ctx.where}: Invalid value given for 'reboot_command': {given!r:.40}.", ctx.location)
    pre = _number(ctx, "pre_reboot_delay", 0)
    program, _, args = (given or "shutdown").partition(" ")
    if given is None:
        args = f'-r {pre // 60:.0f} "{ctx.args.get("msg", "Reboot initiated by Ansible")}"'
    if program.startswith("/"):
        return f"{program} {args}"
    paths = ctx.args.get("search_paths", SEARCH_PATHS)
    paths = [paths] if isinstance(paths, str) else list(paths)
    probe = " ".join(shlex.quote(f"{path}/{program}") for path in paths)
    found = await link.shell(f"for f in {probe}; do if [ -e \"$f\" ]; then echo \"$f\"; break; fi; done")
    if not found["stdout"].strip():
        raise InputError(f'Unable to find command "{program}" in search paths: {paths}', ctx.location)
    return f"{found['stdout'].strip().splitlines()[0]} {args}"


async def reboot(ctx: ActionContext, link: HostLink) -> dict[str, Any]:
    """Ansible's ``reboot``: new boot detected by ``boot_time_command``'s output changing."""
    await link.call("ping", {})  # connected: its transport says whether it is the controller itself
    if link.is_local():
        return {"status": "failed", "msg": "Running reboot with local connection would reboot the control node.",
                "data": {"elapsed": 0, "rebooted": False}}
    if ctx.check:
        return {"status": "changed", "data": {"elapsed": 0, "rebooted": True}}
    boot_time = str(ctx.args.get("boot_time_command") or BOOT_TIME)
    timeout = _number(ctx, "reboot_timeout", 600)

    async def boot_id() -> str:
        done = await link.shell(boot_time)
        if done["rc"] != 0:
            raise RuntimeError(f"reboot: failed to get host boot time info, rc: {done['rc']}, "
                               f"stdout: {done['stdout']}, stderr: {done['stderr']}")
        return str(done["stdout"]).strip()

    try:
        previous = await boot_id()
    except RuntimeError as exc:
        return {"status": "failed", "msg": str(exc), "data": {"reboot": False}}
    command = await _shutdown_command(ctx, link)
    try:
        done = await link.shell(command, limit=max(link.connect_timeout or 0, 30))
    except Unreachable:  # the host went down under the command: as Ansible, the command worked
        done = {"rc": 0, "stdout": "", "stderr": ""}
    started = time.monotonic()
    if done["rc"] != 0:
        return {"status": "failed", "data": {"rebooted": False, "elapsed": 0},
                "msg": f"Reboot command failed. Error was: '{done['stdout'].strip()}, {done['stderr'].strip()}'"}
    await link.reset()  # the agents of the old boot are gone, or about to be
    await asyncio.sleep(_number(ctx, "post_reboot_delay", 0))

    async def changed_boot() -> None:
        if link.connect_timeout:
            await link.reset()
        current = await boot_id()
        if not current or current == previous:
            raise ValueError("boot time has not changed")

    async def test() -> None:
        done = await link.shell(str(ctx.args.get("test_command", "whoami")))
        if done["rc"] != 0:
            raise RuntimeError(f"Test command failed: {done['stderr']} {done['stdout']}")

    try:
        await _until(changed_boot, timeout, "last boot time check", link)
        await _until(test, timeout, "post-reboot test command", link)
    except TimedOut as exc:
        return {"status": "failed", "msg": str(exc),
                "data": {"rebooted": True, "elapsed": int(time.monotonic() - started)}}
    return {"status": "changed", "data": {"rebooted": True, "elapsed": int(time.monotonic() - started)}}
