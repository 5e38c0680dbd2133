"""Manage systemd units: start, stop, restart, reload, enable, mask; daemon-reload/-reexec.

Behaves like ``ansible.builtin.systemd_service`` (also served as ``systemd`` and ``service``):

* ``name`` (aliases ``service``, ``unit``): one unit; ``.service`` is implied without a suffix.
  Aliases are resolved to the unit's real name (``sshd`` -> ``ssh.service``). Globs are refused.
* ``state``: ``started``/``stopped`` change only when needed (``activating``/``reloading``
  count as started, ``failed`` as stopped; a ``deactivating`` unit gets the job again, as in
  Ansible). ``restarted`` and ``reloaded`` always act, so they always report ``changed`` (a
  stopped unit is just started); ``tried-restart`` restarts a running unit and leaves a
  stopped one alone. The unit's state is read again afterwards: a unit that died right
  after its start fails the task (``not converged``).
* ``enabled``: whether the unit starts at boot (``systemctl is-enabled``: ``enabled``,
  ``static``, ``generated`` and ``transient`` count as enabled; ``enabled-runtime`` (only
  until reboot: a generator's, postgresql@15-main), ``indirect``/``alias``/``disabled``/
  ``linked`` as not, as in Ansible).
* ``masked``: ``systemctl mask``/``unmask``; a unit that does not exist can be masked.
* ``daemon_reload`` (alias ``daemon-reload``): reload the manager's unit files first.
* ``daemon_reexec`` (alias ``daemon-reexec``): re-execute the manager first; always changes.
* ``scope``: ``system`` (default), ``user`` (the connecting user's manager;
  ``XDG_RUNTIME_DIR`` defaults to ``/run/user/UID`` as in Ansible) or ``global`` (enablement
  and masking for all users; ``state`` is refused there: no manager runs in that scope).
* ``no_block``: do not wait for start/stop/restart/reload jobs; a job still queued when the
  task ends is reported as a warning instead of being verified.
* ``force``: ``--force`` for enable/disable/mask/unmask (overrides conflicting symlinks).
* ``sleep`` (from ``ansible.builtin.service``): with ``restarted``, stop, wait that many
  seconds, then start, instead of ``systemctl restart``.

Order of operations: daemon-reload, daemon-reexec, unmask, enable/disable, mask, then the
state change. A unit that does not exist fails with ``Could not find the requested service
NAME: host`` (except for ``masked``); a unit file that fails to load fails with its load error.

Without a systemd of its own (no ``/run/systemd/system``, or a chroot), or with
``SYSTEMD_OFFLINE=1`` in the task's ``environment`` (as Ansible), ``enabled`` and ``masked``
use systemctl's offline mode (``SYSTEMD_OFFLINE=1``; an alias is followed through its symlink).
No unit runs there: ``stopped`` holds; ``started``, ``restarted``, ``reloaded`` and
``daemon_reexec`` warn on every run (``active: not started: systemd is not running here (a
chroot or an image build?)``); ``daemon_reload`` has nothing to reload; ``status`` is ``Id`` and
``UnitFileState``. A chroot never reaches the build machine's manager, even with its /run mounted.

Returns ``name``, ``state`` (the requested state; ``started`` for restarted/reloaded),
``enabled`` (the unit's value after the task) and ``status``: these ``systemctl show``
properties of the unit: {props}.

Differences from Ansible:

* ``daemon_reload`` is a state, not an order: it changes (and reloads) only when a loaded
  unit reports ``NeedDaemonReload=yes`` (its file or drop-ins changed on disk since they were
  loaded), so a re-run reports ``ok``; whenever the task changes anything else it reloads
  anyway, first, like Ansible. Ansible reloads on every run and never reports the change.
* ``daemon_reexec`` reports ``changed`` (Ansible runs it silently on every run).
* ``enabled: false`` on a unit that cannot be disabled (``static``, ``generated``,
  ``transient``: no ``[Install]`` section) is already satisfied; Ansible runs a no-op
  ``systemctl disable`` and reports a change on every run. ``enabled: true`` on an
  ``indirect`` unit runs ``systemctl enable``: enabled once its ``Also=`` units are linked
  (as Ansible reads ``is-enabled -l``), else a warning that the unit stays indirect.
* ``state: started`` on a ``Type=oneshot`` unit without ``RemainAfterExit`` runs it; the unit
  is inactive again afterwards, which is reported as a warning (Ansible says nothing).
* ``status`` holds the properties listed above, not every property of the unit.
* ``ansible.builtin.service`` parameters that mean nothing to systemd (``pattern``,
  ``runlevel``, ``arguments``/``args``) are ignored with the warning Ansible's service action
  gives; ``use`` other than ``auto``/``systemd`` runs Ansible's module of that name (through
  the bridge). Init scripts are otherwise reached through systemd's sysv generator.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Literal

from fleet.agent.contract import Outcome, param
from fleet.agent.errors import AnsibleOnly
from fleet.agent.hostenv import chroot_reason
from fleet.agent.hostio import ModuleFailure
from fleet.agent.systemctl import parse_show

SYSTEMD_RUNNING = "/run/systemd/system"  # exists when systemd is PID 1 (sd_booted())
NOT_BOOTED = "systemd is not running here (a chroot or an image build?)"
OFFLINE = "systemd is offline (SYSTEMD_OFFLINE=1)"
UNIT_DIRS = ("/etc/systemd/system", "/usr/local/lib/systemd/system", "/lib/systemd/system",
             "/usr/lib/systemd/system")

ALIASES = {
    "service": "name",
    "unit": "name",
    "daemon-reload": "daemon_reload",
    "daemon-reexec": "daemon_reexec",
    "args": "arguments",
}
PROPS = (
    "Id", "Names", "Description", "LoadState", "LoadError", "ActiveState", "SubState",
    "UnitFileState", "UnitFilePreset", "FragmentPath", "DropInPaths", "NeedDaemonReload",
    "Type", "RemainAfterExit", "Result", "MainPID", "ExecMainPID", "ExecMainStatus",
    "InvocationID", "ActiveEnterTimestamp", "ActiveEnterTimestampMonotonic",
    "InactiveEnterTimestamp", "CanStart", "CanStop", "CanReload",
)
__doc__ = __doc__.replace("{props}", ", ".join(f"``{p}``" for p in PROPS))

RUNNING = ("active", "activating", "reloading", "refreshing")
ENABLED = ("enabled", "enabled-runtime", "static", "generated", "transient")
NOT_TOGGLED = ("static", "generated", "transient")  # no [Install]: cannot be enabled/disabled
JOBS = {"started": "start", "stopped": "stop", "restarted": "restart", "reloaded": "reload"}


@dataclass(frozen=True)
class Params:
    name: str | None = param("the unit (a missing suffix means .service)", None)
    state: Literal["reloaded", "restarted", "started", "stopped", "tried-restart"] | None = param(
        "started, stopped, restarted, reloaded or tried-restart", None)
    enabled: bool | None = param("start the unit at boot", None)
    force: bool | None = param("with enabled, replace conflicting symlinks", None)
    masked: bool | None = param("mask the unit so that nothing can start it", None)
    daemon_reload: bool = param("run daemon-reload first, even with no name", False)
    daemon_reexec: bool = param("run daemon-reexec first", False)
    scope: Literal["system", "user", "global"] = param(
        "whose systemd manages the unit: system, user or global", "system")
    no_block: bool = param("do not wait for the unit's job to finish", False)
    # ansible.builtin.service
    sleep: int | None = param("service module: seconds between stop and start of a restart", None)
    pattern: str | None = param(
        "service module: accepted for Ansible (systemd knows its units)", None)
    runlevel: str | None = param("service module: accepted for Ansible (no SysV runlevels)", None)
    arguments: str | None = param(
        "service module: accepted for Ansible (no arguments to units)", None)
    use: str = param("service module: the service manager (auto or systemd)", "auto")


#: service parameters Ansible's service action drops (with a warning) when systemd runs the task
IGNORED = ("pattern", "runlevel", "arguments")


def warnings(p: Params, check: bool) -> list:
    """Ansible's service action's words for the parameters systemd has no use for."""
    return [f'Ignoring "{name}" as it is not used in "systemd"'
            for name in IGNORED if getattr(p, name)]


def check(p: Params) -> None:
    """``use`` other than systemd (Ansible's module of that name runs instead); what each
    parameter needs or excludes."""
    if p.use not in ("auto", "systemd"):
        raise AnsibleOnly(
            f"use: {p.use} is not supported: fleet's service module drives systemd only"
        )
    if p.state is None and p.enabled is None and p.masked is None and not (
        p.daemon_reload or p.daemon_reexec
    ):
        raise ModuleFailure(
            "one of the following is required: state, enabled, masked, daemon_reload, daemon_reexec"
        )
    if p.name is None:
        given = [k for k in ("state", "enabled", "masked") if getattr(p, k) is not None]
        if given:
            raise ModuleFailure(f"missing parameter(s) required by '{given[0]}': name")
        return
    for glob in ("*", "?", "["):
        if glob in p.name:
            raise ModuleFailure(
                "This module does not currently support using glob patterns, "
                f"found '{glob}' in service name: {p.name}"
            )
    if p.masked and (p.enabled or p.state in ("started", "restarted", "reloaded")):
        raise ModuleFailure(
            "masked: true contradicts enabled: true or a running state (a masked unit cannot start)"
        )
    if p.scope == "global" and (p.state or p.daemon_reload or p.daemon_reexec):
        raise ModuleFailure(
            "scope: global only manages enabled and masked (no service manager runs in that scope)"
        )
    if p.sleep is not None and p.sleep < 0:
        raise ModuleFailure("sleep must be a number of seconds >= 0")


# -- reading -----------------------------------------------------------------------------


def _base(p: Params) -> list:
    return ["systemctl"] if p.scope == "system" else ["systemctl", f"--{p.scope}"]


def _env(p: Params, offline: bool = False):
    env = {"SYSTEMD_OFFLINE": "1"} if offline else {}
    if p.scope == "user" and not os.environ.get("XDG_RUNTIME_DIR"):
        env["XDG_RUNTIME_DIR"] = f"/run/user/{os.geteuid()}"
    return env or None


def _query(p: Params, host, args: list, what: str) -> str:
    rc, out, err = host.query(_base(p) + args, env=_env(p))
    text = (out + err).strip()
    if rc != 0 or ("=" not in out and ("ignoring request" in text or "ignoring command" in text)):
        raise ModuleFailure(f"cannot {what}: systemctl {' '.join(args)}: {text or f'rc={rc}'}")
    return out


def _show(p: Params, host) -> dict:
    units = parse_show(_query(p, host, ["show", "--property=" + ",".join(PROPS), "--", p.name],
                              f"read the state of {p.name}"))
    return units[0] if units else {}


def _need_reload(p: Params, host) -> list:
    """Loaded units whose files changed on disk since the manager read them."""
    out = _query(p, host, ["show", "--property=Id,LoadState,NeedDaemonReload", "--", "*"],
                 "list the loaded units")
    return sorted(
        u.get("Id", "?") for u in parse_show(out)
        if u.get("NeedDaemonReload") == "yes" and u.get("LoadState") != "not-found"
    )


def _is_enabled(p: Params, host, unit: str, offline: bool = False) -> tuple:
    """``(unit file state, enabled as Ansible counts it)``; offline, other errors than a
    missing unit fail."""
    rc, out, err = host.query(_base(p) + ["is-enabled", "--full", "--", unit], env=_env(p, offline))
    word = out.strip().splitlines()[0].strip() if out.strip() else "not-found"
    if offline and not out.strip() and rc != 0 and err.strip() and "No such file" not in err:
        raise ModuleFailure(f"cannot read the unit file state of {unit}: {err.strip()}")
    # As Ansible (is-enabled -l): an indirect unit whose Also= units are linked lists those
    # links after the word, and then counts as enabled
    return word, rc == 0 and out.rstrip() not in ("indirect", "alias", "enabled-runtime")


def resolve_alias(name: str, dirs=None) -> str:
    """The unit an alias's symlink names (``sshd.service`` -> ``ssh.service``), else ``name``."""
    found = [os.path.join(d, name) for d in dirs or UNIT_DIRS]
    link = next((path for path in found if os.path.lexists(path)), "")
    target = os.path.basename(os.readlink(link)) if os.path.islink(link) else name
    return name if target == "null" or "." not in target else target


def _observe_offline(p: Params, host, cur: dict) -> dict:
    """Unit file state only: without a manager no unit runs and nothing is loaded."""
    cur.update(booted=False, state="stopped",
               **({"need_daemon_reload": []} if p.daemon_reload else {}))
    if p.name is None:
        return cur
    unit = p.name if "." in p.name else p.name + ".service"
    ufs, enabled = _is_enabled(p, host, unit, True)
    if ufs == "alias" and resolve_alias(unit) != unit:  # systemctl enables the real name only
        unit, (ufs, enabled) = resolve_alias(unit), _is_enabled(p, host, resolve_alias(unit), True)
    cur.update(status={"Id": unit, "UnitFileState": ufs}, unit=unit, unit_file_state=ufs,
               enabled=enabled, masked=ufs in ("masked", "masked-runtime"),
               found=ufs != "not-found")
    return cur


def observe(p: Params, host) -> dict:
    cur: dict = {"ran": []}  # jobs are actions, not states: apply reports them done
    if p.scope != "global" and os.environ.get("SYSTEMD_OFFLINE") == "1":  # asked for (environment)
        return _observe_offline(p, host, dict(cur, why=OFFLINE))
    if p.scope != "global" and (not os.path.isdir(SYSTEMD_RUNNING) or chroot_reason()):
        return _observe_offline(p, host, cur)
    if p.daemon_reload:
        cur["need_daemon_reload"] = _need_reload(p, host)
    if p.name is None:
        return cur
    status = _show(p, host) if p.scope != "global" else {}
    cur["status"] = status
    unit = status.get("Id") or p.name
    cur["unit"] = unit
    load = status.get("LoadState", "")
    if p.enabled is not None or p.masked is not None or p.scope == "global":
        ufs, enabled = _is_enabled(p, host, unit)
    else:
        ufs = status.get("UnitFileState", "")
        enabled = ufs in ENABLED
    cur["unit_file_state"] = ufs
    cur["enabled"] = enabled
    cur["masked"] = load == "masked" or ufs in ("masked", "masked-runtime")
    cur["found"] = (load not in ("", "not-found")) or (p.scope == "global" and ufs != "not-found")
    active = status.get("ActiveState", "inactive")
    cur["state"] = (
        "started" if active in RUNNING else "stopping" if active == "deactivating" else "stopped"
    )
    return cur


# -- deciding ----------------------------------------------------------------------------


def desired(p: Params, cur: dict) -> dict:
    want: dict = {}
    ran = ["daemon-reexec"] if p.daemon_reexec and cur.get("booted", True) else []
    if p.daemon_reload:
        want["need_daemon_reload"] = []
    if p.name is not None:
        _unit_wants(p, cur, want, ran)
    if ran:
        want["ran"] = ran
    return want


def _unit_wants(p: Params, cur: dict, want: dict, ran: list) -> None:
    status = cur.get("status", {})
    name = p.name
    if not cur["found"] and (p.state is not None or p.enabled is not None) and not p.masked:
        raise ModuleFailure(f"Could not find the requested service {name}: host")
    if cur["found"] and status.get("LoadError") and not cur["masked"] and status.get(
        "LoadState"
    ) in ("error", "bad-setting"):
        raise ModuleFailure(f"Error loading unit file '{name}': {status['LoadError']}")
    masked_after = cur["masked"] if p.masked is None else p.masked
    if p.masked is not None:
        want["masked"] = p.masked
    if masked_after and (p.enabled or p.state in ("started", "restarted", "reloaded")):
        raise ModuleFailure(f"Unable to start or enable service {name}: the unit is masked "
                            "(masked: false unmasks it)")
    if p.enabled is not None and not (p.enabled is False and cur["unit_file_state"] in NOT_TOGGLED):
        want["enabled"] = p.enabled
    running = cur["state"] == "started"
    if not cur.get("booted", True) and p.state != "stopped":
        return  # no manager: nothing runs, nothing can be started (see caveats)
    if p.state in ("started", "stopped"):
        want["state"] = p.state
    elif p.state in ("restarted", "reloaded"):
        want["state"] = "started"
        if running:
            ran.append(JOBS[p.state])
    elif p.state == "tried-restart" and running:
        ran.append("restart")


def plan(p: Params, cur: dict, want: dict) -> list:
    """The commands ``apply`` runs, in order (``["sleep", N]`` is a pause, not a command)."""
    base = _base(p)
    unit = cur.get("unit", p.name)
    force = ["--force"] if p.force else []
    block = ["--no-block"] if p.no_block else []
    steps: list = []
    if p.daemon_reload and cur.get("booted", True):
        steps.append(base + ["daemon-reload"])
    if p.daemon_reexec and cur.get("booted", True):
        steps.append(base + ["daemon-reexec"])
    if p.name is None:
        return steps
    if want.get("masked") is False and cur["masked"]:
        steps.append(base + ["unmask"] + force + ["--", unit])
        if cur["unit_file_state"] == "masked-runtime":
            steps.append(base + ["unmask", "--runtime"] + force + ["--", unit])
    if "enabled" in want and want["enabled"] != cur["enabled"]:
        steps.append(base + ["enable" if want["enabled"] else "disable"] + force + ["--", unit])
    if want.get("masked") and not cur["masked"]:
        steps.append(base + ["mask"] + force + ["--", unit])
    jobs = [j for j in want.get("ran", []) if j in ("restart", "reload")]
    if want.get("state") and want["state"] != cur["state"]:
        jobs.append("start" if want["state"] == "started" else "stop")
    for job in jobs:
        if job == "restart" and p.sleep:
            steps.append(base + ["stop"] + block + ["--", unit])
            steps.append(["sleep", str(p.sleep)])
            steps.append(base + ["start"] + block + ["--", unit])
        else:
            steps.append(base + [job] + block + ["--", unit])
    return steps


# -- changing ----------------------------------------------------------------------------


def apply(p: Params, host, cur: dict, want: dict, ctx: Outcome) -> None:
    env = _env(p, not cur.get("booted", True))
    for argv in plan(p, cur, want):
        if argv[0] == "sleep":
            time.sleep(int(argv[1]))
            continue
        action = next(a for a in argv[1:] if not a.startswith("-"))
        rc, out, err = host.run(argv, env=env)
        if rc != 0:
            text = (err or out).strip()
            if action.startswith("daemon-"):
                raise ModuleFailure(f"failure {rc} during {action}: {text}")
            raise ModuleFailure(f"Unable to {action} service {cur.get('unit', p.name)}: {text}")
    # every command succeeded (a failure raised above): the imperative part is done
    ctx.acted("ran")
    for field, why in _unapplied(p, host, cur, want).items():
        ctx.warn(field, why)


def _unapplied(p: Params, host, cur: dict, want: dict) -> dict:
    """What the host would not take: checked here so the warning can say why."""
    unapplied: dict = {}
    if p.daemon_reload and want.get("need_daemon_reload") == [] and cur.get("booted", True):
        left = _need_reload(p, host)
        if left:
            unapplied["need_daemon_reload"] = (
                "daemon-reload ran; still reported as needing one: " + ", ".join(left)
            )
    if p.name is not None and want.get("enabled") and not cur["enabled"]:
        ufs, enabled = _is_enabled(p, host, cur["unit"], not cur.get("booted", True))
        if ufs == "indirect" and not enabled:
            unapplied["enabled"] = ("systemctl enable ran; the unit stays 'indirect' (only other "
                                    "units enable it: Also= or a template)")
    if p.name is None or "state" not in want or not cur.get("booted", True):
        return unapplied
    status = _show(p, host)
    active = status.get("ActiveState", "inactive")
    started = active in RUNNING
    if want["state"] == "started" and not started:
        if status.get("Type") == "oneshot" and status.get("RemainAfterExit") == "no" and status.get(
            "Result"
        ) == "success":
            unapplied["state"] = ("oneshot unit ran and exited successfully; it stays inactive "
                                  "(Type=oneshot without RemainAfterExit=yes)")
        elif p.no_block:
            unapplied["state"] = f"start job queued (no_block), not waited for: unit is {active}"
    elif want["state"] == "stopped" and active != "inactive" and active != "failed" and p.no_block:
        unapplied["state"] = f"stop job queued (no_block), not waited for: unit is {active}"
    return unapplied


def caveats(p: Params, state: dict) -> dict:
    """Without a running systemd: what could not be done (a warning on every run)."""
    offline, starts = not state.get("booted", True), p.state in ("started", "restarted", "reloaded")
    why = state.get("why", NOT_BOOTED)
    notes = {"active": f"not {p.state}: {why}"} if offline and starts and p.name else {}
    if offline and p.daemon_reexec:
        notes["daemon_reexec"] = f"not re-executed: {why}"
    return notes


def result(p: Params, state: dict) -> dict:
    """Ansible's return values: ``name``, ``status`` and, when asked for, ``state``/``enabled``."""
    out: dict = {"name": p.name, "status": state.get("status", {})}
    if p.state is not None:
        out["state"] = p.state if p.state in ("started", "stopped") else state.get("state")
        if p.state in ("restarted", "reloaded") or not state.get("booted", True):
            out["state"] = "started" if state.get("booted", True) else state.get("state")
    if "enabled" in state and (p.enabled is not None or p.scope == "global"):
        out["enabled"] = state["enabled"]
    if "masked" in state and p.masked is not None:
        out["masked"] = state["masked"]
    if "need_daemon_reload" in state:
        out["need_daemon_reload"] = state["need_daemon_reload"]
    return out
