"""systemd (also ``service``/``systemd_service``): show parsing, decisions, command plans, and
whole runs against a fake ``systemctl`` (state in a JSON file, every call logged), on a host
booted with systemd and on one that is not (a chroot: systemctl's offline mode only)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from fleet.agent.errors import AnsibleOnly
from fleet.errors import InputError
from fleet.registry import ModuleRegistry

from . import conftest
from .conftest import load_module, run_module
from .fakes import SYSTEMCTL, install

mod = load_module("systemd")
MUTATING = {"start", "stop", "restart", "reload", "enable", "disable", "mask", "unmask",
            "daemon-reload", "daemon-reexec"}


def unit(active: str = "active", ufs: str = "enabled", **extra) -> dict:
    data = {"LoadState": "loaded", "ActiveState": active,
            "SubState": "running" if active == "active" else "dead", "UnitFileState": ufs,
            "Type": "simple", "RemainAfterExit": "no", "NeedDaemonReload": "no",
            "InvocationID": "0" * 32, "CanReload": "yes", "Description": "test unit"}
    data.update(extra)
    return data


def systemd_runs(monkeypatch: pytest.MonkeyPatch, where: Path) -> None:
    """Make the module see ``where`` as ``/run/systemd/system`` (exists: booted with systemd)."""
    conftest._MODULES.setdefault("systemd", load_module("systemd"))
    for module in (mod, conftest._MODULES["systemd"]):
        monkeypatch.setattr(module, "SYSTEMD_RUNNING", str(where))


@pytest.fixture
def host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    systemd_runs(monkeypatch, tmp_path)  # booted, whatever this machine is
    return install(monkeypatch, tmp_path, {"systemctl": SYSTEMCTL}, {"units": {
        "web.service": unit("inactive", "disabled", aliases=["www.service"]),
        "db.service": unit("active", "enabled"),
        "boot.service": unit("inactive", "static", Type="oneshot"),
        "nginx.service": unit("active", "enabled", CanReload="no"),
        "getty@.service": unit("inactive", "indirect"),
    }})


def mutations(host) -> list:
    return [c for c in host.calls() if set(c) & MUTATING]


def converge(host, args: dict) -> dict:
    """check mode (no mutation), then apply; returns the apply's result."""
    host.clear()
    check = run_module("systemd", args, check=True)
    assert mutations(host) == [], host.calls()
    first = run_module("systemd", args)
    assert first["status"] == check["status"], (check, first)
    return first


# -- parsing -----------------------------------------------------------------------------


def test_parse_show_blocks_and_multiline_exec() -> None:
    text = (
        "Id=a.service\nDescription={weird} description\nExecStart={ path=/bin/a ; argv[]=/bin/a\n"
        "  -x ; ignore_errors=no }\nActiveState=active\n\nId=b.service\nActiveState=inactive\n"
    )
    units = mod.parse_show(text)
    assert [u["Id"] for u in units] == ["a.service", "b.service"]
    assert units[0]["Description"] == "{weird} description"  # not taken as multi-line
    assert units[0]["ExecStart"].startswith("{ path=/bin/a") and units[0]["ExecStart"].endswith("}")
    assert units[0]["ActiveState"] == "active" and units[1]["ActiveState"] == "inactive"


# -- decisions and plans (pure) ----------------------------------------------------------


def current(**kw) -> dict:
    cur = {"ran": [], "status": {"Id": "web.service", "LoadState": "loaded"}, "unit": "web.service",
           "unit_file_state": "disabled", "enabled": False, "masked": False, "found": True,
           "state": "stopped"}
    cur.update(kw)
    return cur


def params(**kw):
    return mod.Params(**kw)


def test_started_and_enabled_plan_runs_enable_before_start() -> None:
    p = params(name="web", state="started", enabled=True)
    want = mod.desired(p, current())
    assert want == {"enabled": True, "state": "started"}
    assert mod.plan(p, current(), want) == [
        ["systemctl", "enable", "--", "web.service"], ["systemctl", "start", "--", "web.service"]]


def test_restarted_running_unit_always_wants_a_restart() -> None:
    p = params(name="web", state="restarted")
    cur = current(state="started")
    want = mod.desired(p, cur)
    assert want == {"state": "started", "ran": ["restart"]}
    assert cur["ran"] != want["ran"]  # a field that only an apply can satisfy
    assert mod.plan(p, cur, want) == [["systemctl", "restart", "--", "web.service"]]


def test_restarted_stopped_unit_is_started() -> None:
    p = params(name="web", state="restarted")
    want = mod.desired(p, current())
    assert want == {"state": "started"}
    assert mod.plan(p, current(), want) == [["systemctl", "start", "--", "web.service"]]


def test_restart_with_sleep_is_stop_pause_start() -> None:
    p = params(name="web", state="restarted", sleep=3, no_block=True)
    cur = current(state="started")
    assert mod.plan(p, cur, mod.desired(p, cur)) == [
        ["systemctl", "stop", "--no-block", "--", "web.service"], ["sleep", "3"],
        ["systemctl", "start", "--no-block", "--", "web.service"]]


def test_mask_order_disable_then_mask_then_stop() -> None:
    p = params(name="web", masked=True, enabled=False, state="stopped", force=True)
    cur = current(enabled=True, unit_file_state="enabled", state="started")
    want = mod.desired(p, cur)
    assert mod.plan(p, cur, want) == [
        ["systemctl", "disable", "--force", "--", "web.service"],
        ["systemctl", "mask", "--force", "--", "web.service"],
        ["systemctl", "stop", "--", "web.service"]]


def test_unmask_then_enable_then_start_user_scope() -> None:
    p = params(name="web", masked=False, enabled=True, state="started", scope="user")
    cur = current(masked=True, unit_file_state="masked")
    assert mod.plan(p, cur, mod.desired(p, cur)) == [
        ["systemctl", "--user", "unmask", "--", "web.service"],
        ["systemctl", "--user", "enable", "--", "web.service"],
        ["systemctl", "--user", "start", "--", "web.service"]]


def test_daemon_reload_alone_is_a_state_of_the_loaded_units() -> None:
    p = params(daemon_reload=True)
    assert mod.desired(p, {"ran": [], "need_daemon_reload": ["a.service"]}) == {"need_daemon_reload": []}
    assert mod.plan(p, {}, {}) == [["systemctl", "daemon-reload"]]


def test_disabling_a_static_unit_is_already_satisfied() -> None:
    p = params(name="boot", enabled=False)
    assert mod.desired(p, current(unit_file_state="static", enabled=True)) == {}


@pytest.mark.parametrize(("args", "message"), [
    ({"name": "web"}, "one of the following is required: state, enabled, masked"),
    ({"state": "started"}, "missing parameter(s) required by 'state': name"),
    ({"name": "web*", "state": "started"}, "does not currently support using glob patterns"),
    ({"name": "web", "state": "started", "use": "sysvinit"}, "use: sysvinit is not supported"),
    ({"name": "web", "state": "started", "scope": "global"}, "scope: global only manages"),
    ({"name": "web", "state": "started", "masked": True}, "masked: true contradicts"),
])
def test_refused_parameter_combinations(args: dict, message: str) -> None:
    with pytest.raises(mod.ModuleFailure, match=None) as info:
        mod.check(mod.Params(**args))
    assert message in str(info.value)


def test_service_parameters_systemd_has_no_use_for_are_ignored_as_ansible_does() -> None:
    p = mod.Params(name="web", state="started", pattern="web", arguments="-x")
    mod.check(p)
    assert mod.warnings(p, False) == ['Ignoring "pattern" as it is not used in "systemd"',
                                      'Ignoring "arguments" as it is not used in "systemd"']
    assert isinstance(pytest.raises(mod.ModuleFailure, mod.check, mod.Params(name="web", state="started",
                                                                              use="sysvinit")).value, AnsibleOnly)


def test_registry_serves_service_and_systemd_service_with_ansible_aliases() -> None:
    registry = ModuleRegistry(use_entry_points=False)
    for name in ("service", "systemd_service", "ansible.builtin.service", "systemd"):
        spec = registry.find(name)
        assert spec is not None and spec.path.name == "systemd.py"
    spec = registry.find("service")
    assert spec is not None
    assert spec.validate({"service": "cron", "daemon-reload": True, "args": ""}, "t", None)["name"] == "cron"
    with pytest.raises(InputError, match="no parameter 'enable'"):
        spec.validate({"name": "cron", "enable": True}, "t", None)


# -- whole runs against the fake systemctl -------------------------------------------------


def test_start_and_enable_converges_then_reapply_is_ok(host) -> None:
    args = {"name": "web", "state": "started", "enabled": True}
    first = converge(host, args)
    assert first["status"] == "changed", first
    assert first["diff"]["before"] == {"enabled": False, "state": "stopped"}
    assert first["diff"]["after"] == {"enabled": True, "state": "started"}
    assert first["data"]["state"] == "started" and first["data"]["enabled"] is True
    assert first["data"]["status"]["ActiveState"] == "active"
    assert host.state["units"]["web.service"]["UnitFileState"] == "enabled"
    host.clear()
    again = run_module("systemd", args)
    assert again["status"] == "ok" and mutations(host) == []


def test_alias_name_is_resolved_to_the_real_unit(host) -> None:
    result = run_module("systemd", {"name": "www", "enabled": True})
    assert result["status"] == "changed"
    assert ["systemctl", "enable", "--", "web.service"] in host.calls()


def test_stop_running_unit(host) -> None:
    first = converge(host, {"name": "db.service", "state": "stopped"})
    assert first["status"] == "changed" and first["data"]["state"] == "stopped"
    assert host.state["units"]["db.service"]["ActiveState"] == "inactive"
    assert run_module("systemd", {"name": "db.service", "state": "stopped"})["status"] == "ok"


def test_restarted_always_changes_and_really_restarts(host) -> None:
    before = host.state["units"]["db.service"]["InvocationID"]
    for _ in range(2):
        result = converge(host, {"name": "db", "state": "restarted"})
        assert result["status"] == "changed", result
        assert result["diff"]["after"] == {"ran": ["restart"]}
        assert result["data"]["state"] == "started"
        now = host.state["units"]["db.service"]["InvocationID"]
        assert now != before
        before = now


def test_reloaded_runs_reload_and_fails_clearly_when_unit_cannot(host) -> None:
    result = converge(host, {"name": "db", "state": "reloaded"})
    assert result["status"] == "changed" and host.state["units"]["db.service"]["_reloads"] == 1
    failed = run_module("systemd", {"name": "nginx", "state": "reloaded"})
    assert failed["status"] == "failed"
    assert "Unable to reload service nginx.service: Failed to reload" in failed["msg"]


def test_check_mode_reports_change_and_runs_nothing(host) -> None:
    result = run_module("systemd", {"name": "db", "state": "stopped", "enabled": False,
                                    "masked": True}, check=True)
    assert result["status"] == "changed"
    assert set(result["diff"]["fields"]) == {"state", "enabled", "masked"}
    assert mutations(host) == []
    assert host.state["units"]["db.service"]["ActiveState"] == "active"


def test_unknown_unit_fails_clearly_even_in_check_mode(host) -> None:
    for check in (True, False):
        result = run_module("systemd", {"name": "nope", "state": "started"}, check=check)
        assert result["status"] == "failed"
        assert result["msg"] == "Could not find the requested service nope: host"
    assert mutations(host) == []


def test_mask_a_unit_that_does_not_exist_then_unmask(host) -> None:
    masked = converge(host, {"name": "ghost", "masked": True})
    assert masked["status"] == "changed"
    assert run_module("systemd", {"name": "ghost", "masked": True})["status"] == "ok"
    unmasked = run_module("systemd", {"name": "ghost", "masked": False})
    assert unmasked["status"] == "changed" and "ghost.service" not in host.state["units"]


def test_masked_unit_cannot_be_started_without_unmasking(host) -> None:
    run_module("systemd", {"name": "web", "masked": True})
    result = run_module("systemd", {"name": "web", "state": "started"}, check=True)
    assert result["status"] == "failed" and "the unit is masked" in result["msg"]
    fixed = run_module("systemd", {"name": "web", "state": "started", "masked": False})
    assert fixed["status"] == "changed" and host.state["units"]["web.service"]["ActiveState"] == "active"


def test_daemon_reload_changes_only_when_a_unit_needs_it(host) -> None:
    assert run_module("systemd", {"daemon_reload": True})["status"] == "ok"
    assert mutations(host) == []
    state = host.state
    state["units"]["db.service"]["NeedDaemonReload"] = "yes"
    host.state = state
    check = run_module("systemd", {"daemon-reload": True}, check=True)
    assert check["status"] == "changed" and check["diff"]["before"] == {"need_daemon_reload": ["db.service"]}
    result = run_module("systemd", {"daemon-reload": True})
    assert result["status"] == "changed" and host.state["daemon-reload"] == 1
    assert run_module("systemd", {"daemon_reload": True})["status"] == "ok"


def test_daemon_reload_runs_first_whenever_the_task_changes_something(host) -> None:
    run_module("systemd", {"name": "web", "state": "started", "daemon_reload": True})
    verbs = [c[1] for c in mutations(host)]
    assert verbs == ["daemon-reload", "start"]


def test_daemon_reexec_always_changes(host) -> None:
    for _ in range(2):
        assert converge(host, {"daemon_reexec": True})["status"] == "changed"
    assert host.state["daemon-reexec"] == 2


def test_tried_restart_leaves_a_stopped_unit_alone(host) -> None:
    assert run_module("systemd", {"name": "web", "state": "tried-restart"})["status"] == "ok"
    assert run_module("systemd", {"name": "db", "state": "tried-restart"})["status"] == "changed"
    assert [c[1] for c in mutations(host)] == ["restart"]


def test_oneshot_unit_started_runs_and_warns(host) -> None:
    result = run_module("systemd", {"name": "boot", "state": "started"})
    assert result["status"] == "changed"
    assert any("oneshot unit ran and exited successfully" in w for w in result["warnings"])


def test_failing_start_fails_with_systemctl_message(host) -> None:
    state = host.state
    state["units"]["web.service"]["_fails"] = True
    host.state = state
    result = run_module("systemd", {"name": "web", "state": "started"})
    assert result["status"] == "failed"
    assert result["msg"].startswith("Unable to start service web.service: Job for web.service failed")


def test_no_block_job_not_finished_is_a_warning_not_a_failure(host) -> None:
    state = host.state
    state["units"]["web.service"]["_slow"] = True
    host.state = state
    result = run_module("systemd", {"name": "web", "state": "started", "no_block": True})
    assert result["status"] == "changed"
    assert ["systemctl", "start", "--no-block", "--", "web.service"] in host.calls()
    assert any("queued (no_block)" in w for w in result["warnings"])


def test_systemd_not_running_fails_clearly(host) -> None:
    host.state = {"units": {}, "offline": True}
    result = run_module("systemd", {"name": "web", "state": "started"})
    assert result["status"] == "failed"
    assert "cannot read the state of web" in result["msg"] and "not been booted with systemd" in result["msg"]


def test_a_unit_enabled_only_at_runtime_is_enabled_for_good(host) -> None:
    """``enabled-runtime`` (a generator's link, gone at reboot: Debian's postgresql@15-main) is
    not enabled, as in Ansible: ``systemctl enable`` makes it so."""
    state = host.state
    state["units"]["pg@15-main.service"] = unit("active", "enabled-runtime")
    host.state = state
    result = run_module("systemd", {"name": "pg@15-main", "state": "started", "enabled": True})
    assert result["status"] == "changed", result
    assert ["systemctl", "enable", "--", "pg@15-main.service"] in mutations(host)
    assert run_module("systemd", {"name": "pg@15-main", "state": "started", "enabled": True})["status"] == "ok"


def test_enabling_an_indirect_unit_warns_instead_of_failing(host) -> None:
    result = run_module("systemd", {"name": "getty@.service", "enabled": True})
    assert result["status"] == "changed"
    assert result["warnings"] == ["enabled: systemctl enable ran; the unit stays 'indirect' (only "
                                  "other units enable it: Also= or a template)"]


# -- not booted with systemd (a chroot, an image build): systemctl's offline mode only --------

# In front of the fake: what a real systemctl does in a chroot. Only unit-file verbs work, and
# the module must ask for the offline mode explicitly; anything else cannot reach a manager.
CHROOT = r'''
import json as _json, os as _os, sys as _sys
if _json.load(open(_os.environ["FAKE_STATE"])).get("chroot"):
    _verb = next((a for a in _sys.argv[1:] if not a.startswith("-")), "")
    if _verb not in ("is-enabled", "enable", "disable", "mask", "unmask") or _os.environ.get("SYSTEMD_OFFLINE") != "1":
        with open(_os.environ["FAKE_LOG"], "a") as _log:
            _log.write(_json.dumps(["systemctl"] + _sys.argv[1:]) + "\n")
        print("System has not been booted with systemd as init system (PID 1). Can't operate.\n"
              "Failed to connect to bus: Host is down", file=_sys.stderr)
        _sys.exit(1)
'''
NOT_STARTED = "active: not started: systemd is not running here (a chroot or an image build?)"


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    systemd_runs(monkeypatch, tmp_path / "no-such-dir")
    units = tmp_path / "units"
    units.mkdir()
    (units / "www.service").symlink_to("/lib/systemd/system/web.service")  # an enabled alias
    (units / "ghost.service").symlink_to("/dev/null")
    for module in (mod, conftest._MODULES["systemd"]):
        monkeypatch.setattr(module, "UNIT_DIRS", (str(units),))
    return install(monkeypatch, tmp_path, {"systemctl": CHROOT + SYSTEMCTL}, {"chroot": True, "units": {
        "web.service": unit("inactive", "disabled"),
        "www.service": unit("inactive", "alias"),
        "db.service": unit("inactive", "enabled"),
        "boot.service": unit("inactive", "static", Type="oneshot"),
        "getty@.service": unit("inactive", "indirect"),
    }})


def refused(host) -> list:
    """Calls a chroot's systemctl could not have answered."""
    return [c for c in host.calls() if c[1] not in ("is-enabled", "enable", "disable", "mask", "unmask")]


def test_offline_enable_and_start_enables_and_warns_on_every_run(tree) -> None:
    args = {"name": "web", "state": "started", "enabled": True}
    first = converge(tree, args)
    assert first["status"] == "changed", first
    assert first["diff"]["fields"] == ["enabled"]
    assert first["warnings"] == [NOT_STARTED]
    assert first["data"]["state"] == "stopped" and first["data"]["enabled"] is True
    assert first["data"]["status"] == {"Id": "web.service", "UnitFileState": "enabled"}
    assert ["systemctl", "enable", "--", "web.service"] in tree.calls()
    assert tree.state["units"]["web.service"]["UnitFileState"] == "enabled"
    tree.clear()
    again = run_module("systemd", args)
    assert again["status"] == "ok" and again["warnings"] == [NOT_STARTED]
    assert mutations(tree) == [] and refused(tree) == []


def test_offline_stopped_and_disabled_needs_no_manager(tree) -> None:
    args = {"name": "db", "state": "stopped", "enabled": False}
    first = converge(tree, args)
    assert first["status"] == "changed" and first["diff"]["fields"] == ["enabled"]
    assert "warnings" not in first and first["data"]["state"] == "stopped"
    assert [c[1] for c in mutations(tree)] == ["disable"]
    assert run_module("systemd", args)["status"] == "ok"
    assert refused(tree) == []


@pytest.mark.parametrize("state", ["restarted", "reloaded"])
def test_offline_restart_or_reload_is_a_warning_not_a_change(tree, state: str) -> None:
    result = run_module("systemd", {"name": "db", "state": state})
    assert result["status"] == "ok", result
    assert result["warnings"] == [f"active: not {state}: systemd is not running here (a chroot or an "
                                  "image build?)"]
    assert result["data"]["state"] == "stopped" and mutations(tree) == [] and refused(tree) == []


def test_offline_alias_is_followed_to_the_real_unit(tree) -> None:
    result = run_module("systemd", {"name": "www", "enabled": True})
    assert result["status"] == "changed" and result["data"]["status"]["Id"] == "web.service"
    assert ["systemctl", "enable", "--", "web.service"] in tree.calls()


def test_offline_mask_unmask_and_missing_units(tree) -> None:
    masked = converge(tree, {"name": "nope", "masked": True})
    assert masked["status"] == "changed"
    assert run_module("systemd", {"name": "nope", "masked": True})["status"] == "ok"
    assert run_module("systemd", {"name": "nope", "masked": False})["status"] == "changed"
    missing = run_module("systemd", {"name": "nope", "state": "started"})
    assert missing["status"] == "failed" and missing["msg"] == "Could not find the requested service nope: host"
    assert refused(tree) == []


def test_offline_daemon_reload_has_nothing_to_do_and_reexec_warns(tree) -> None:
    alone = run_module("systemd", {"daemon_reload": True})
    assert alone["status"] == "ok" and alone["data"]["need_daemon_reload"] == [] and tree.calls() == []
    reload = run_module("systemd", {"name": "web", "enabled": True, "daemon_reload": True})
    assert reload["status"] == "changed" and [c[1] for c in mutations(tree)] == ["enable"]
    reexec = run_module("systemd", {"daemon_reexec": True})
    assert reexec["status"] == "ok"
    assert reexec["warnings"] == ["daemon_reexec: not re-executed: systemd is not running here (a chroot "
                                  "or an image build?)"]
    assert refused(tree) == []


def test_offline_static_and_indirect_units(tree) -> None:
    assert run_module("systemd", {"name": "boot", "enabled": False})["status"] == "ok"
    indirect = run_module("systemd", {"name": "getty@.service", "enabled": True})
    assert indirect["status"] == "changed"
    assert indirect["warnings"] == ["enabled: systemctl enable ran; the unit stays 'indirect' (only "
                                    "other units enable it: Also= or a template)"]


def test_offline_unreadable_unit_file_state_fails_with_systemctl_message(tree, tmp_path: Path) -> None:
    (tmp_path / "bin" / "systemctl").write_text(f"#!{sys.executable} -S\nimport sys\n"
                                               "print('Failed to get unit file state: Access denied', file=sys.stderr)\n"
                                               "sys.exit(1)\n")
    result = run_module("systemd", {"name": "web", "enabled": True})
    assert result["status"] == "failed"
    assert result["msg"] == "cannot read the unit file state of web.service: Failed to get unit file state: Access denied"


def test_resolve_alias_follows_a_symlink_to_another_name(tmp_path: Path) -> None:
    (tmp_path / "sshd.service").symlink_to("/lib/systemd/system/ssh.service")
    (tmp_path / "off.service").symlink_to("/dev/null")
    (tmp_path / "linked.service").symlink_to("/opt/app/linked.service")
    dirs = (str(tmp_path),)
    assert mod.resolve_alias("sshd.service", dirs) == "ssh.service"
    assert mod.resolve_alias("off.service", dirs) == "off.service"
    assert mod.resolve_alias("linked.service", dirs) == "linked.service"
    assert mod.resolve_alias("absent.service", dirs) == "absent.service"


def test_chroot_never_reaches_the_build_machines_manager(tree, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A tree with the build machine's /run mounted looks booted: the chroot marker wins."""
    systemd_runs(monkeypatch, tmp_path)  # /run/systemd/system is there...
    monkeypatch.setenv("FLEET_CHROOT", "1")  # ...but the agent runs in a chroot
    result = run_module("systemd", {"name": "web", "state": "started", "enabled": True})
    assert result["status"] == "changed" and result["warnings"] == [NOT_STARTED]
    assert refused(tree) == [] and [c[1] for c in mutations(tree)] == ["enable"]


def test_systemd_offline_in_the_environment_is_offline_mode(host, monkeypatch: pytest.MonkeyPatch) -> None:
    """The systemd target: ``environment: {SYSTEMD_OFFLINE: 1}`` on a booted host starts
    nothing and warns, as Ansible's module does (``systemctl show`` does not work offline)."""
    monkeypatch.setenv("SYSTEMD_OFFLINE", "1")
    host.clear()
    result = run_module("systemd", {"name": "web", "state": "started"})
    assert result["status"] == "ok", result
    assert result["warnings"] == ["active: not started: systemd is offline (SYSTEMD_OFFLINE=1)"]
    assert mutations(host) == [] and not [c for c in host.calls() if c[1] == "show"]


def test_an_indirect_unit_whose_also_units_are_linked_counts_as_enabled(host) -> None:
    """The systemd target's dummy.service (``[Install] Also=dummy.socket``): the first enable
    links the socket and is a change, the second is ok, as Ansible reads ``is-enabled -l``."""
    state = host.state
    state["units"]["dummy.service"] = unit("inactive", "indirect", _also=["dummy.socket"])
    host.state = state
    args = {"name": "dummy", "enabled": True}
    first = run_module("systemd", args)
    assert first["status"] == "changed" and "warnings" not in first, first
    again = run_module("systemd", args)
    assert again["status"] == "ok", again
