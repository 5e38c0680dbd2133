"""The _ansible_* arguments, as the installed ansible-core's ActionBase sets them."""

from __future__ import annotations


def test_internal_args_follow_the_task(core) -> None:
    from fleet.bridge.args import TaskFlags, module_args

    args = module_args(core, "getent", {"database": "passwd"}, TaskFlags(check=True, diff=True, verbosity=2))
    assert args["database"] == "passwd"
    assert args["_ansible_check_mode"] is True and args["_ansible_diff"] is True
    assert args["_ansible_verbosity"] == 2
    assert args["_ansible_version"] == core.version
    assert args["_ansible_module_name"] == "getent"
    assert args["_ansible_no_log"] is False
    assert args["_ansible_remote_tmp"] == "~/.ansible/tmp" and args["_ansible_tmpdir"] is None
    assert args["_ansible_shell_executable"] == "/bin/sh"
    assert args["_ansible_keep_remote_files"] is False
    assert isinstance(args["_ansible_selinux_special_fs"], list) and "nfs" in args["_ansible_selinux_special_fs"]
    assert args["_ansible_syslog_facility"] == "LOG_USER"
    if core.profiles:
        assert "_ansible_tracebacks_for" in args
    quiet = module_args(core, "getent", {}, TaskFlags(no_log=True), {"ansible_remote_tmp": "/var/tmp/x",
                                                                      "ansible_syslog_facility": "LOG_LOCAL0"})
    assert quiet["_ansible_check_mode"] is False and quiet["_ansible_no_log"] is True
    assert quiet["_ansible_remote_tmp"] == "/var/tmp/x" and quiet["_ansible_syslog_facility"] == "LOG_LOCAL0"


def test_the_task_args_are_not_changed(core) -> None:
    from fleet.bridge.args import TaskFlags, module_args

    given = {"path": "/x"}
    module_args(core, "stat", given, TaskFlags())
    assert given == {"path": "/x"}
