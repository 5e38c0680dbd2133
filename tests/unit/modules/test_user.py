"""user and group: the /etc/passwd, /etc/group and /etc/shadow parsers, what each task wants,
the useradd/usermod/userdel/chpasswd/chage and groupadd/groupmod/groupdel plans, and the
password never showing up in a diff or result.

Nothing here changes the accounts of the machine running the tests: the plans are pure
functions, and whole runs go through the real runner in check mode only, over a copy of the
account files (the module's file paths pointed at a temp directory).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fleet.agent import accounts as account_files
from fleet.agent import runner
from fleet.errors import InputError

from .conftest import controller_params, load_module, unchecked_params

user = load_module("user")
group = load_module("group")

PASSWD = """root:x:0:0:root:/root:/bin/bash
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
alice:x:1000:1000:Alice A:/home/alice:/bin/bash
+nisuser::::::
broken line
alice:x:2000:2000:second entry ignored:/x:/bin/sh
"""
GROUP = """root:x:0:
adm:x:4:syslog,alice
sudo:x:27:bob
alice:x:1000:
dev:x:1500:bob,alice
ops:x:1600:
bob:x:1001:
"""
HASH = "$6$rounds=5000$saltsalt$" + "a" * 86
OTHER = "$6$othersalt$" + "b" * 86
SHADOW = f"""root:*:19000:0:99999:7:::
alice:{HASH}:19000:0:99999:7::19723:
locked:!{HASH}:19000::::::
"""


def test_parse_passwd_first_entry_wins_and_skips_nis_and_junk() -> None:
    users = account_files.parse_passwd(PASSWD)
    assert set(users) == {"root", "daemon", "alice"}
    assert users["alice"] == {"uid": 1000, "gid": 1000, "comment": "Alice A",
                              "home": "/home/alice", "shell": "/bin/bash"}


def test_parse_group_members() -> None:
    groups = account_files.parse_group(GROUP)
    assert groups["adm"] == {"gid": 4, "members": ["syslog", "alice"]}
    assert groups["ops"] == {"gid": 1600, "members": []}
    assert group.parse_group(GROUP) == groups  # the group module reads it the same way


def test_parse_shadow_fields() -> None:
    shadow = account_files.parse_shadow(SHADOW)
    assert shadow["alice"][0] == HASH
    assert shadow["alice"][6] == "19723"  # expire (days since epoch)
    assert shadow["locked"][0].startswith("!")
    assert shadow["root"][3] == "99999"


def test_password_token_never_returns_the_hash() -> None:
    assert account_files.password_token(HASH, HASH) == "********"
    assert account_files.password_token("!" + HASH, HASH) == "********"  # lock mark ignored, as Ansible
    assert account_files.password_token(OTHER, HASH) == "(another hash)"
    assert account_files.password_token("!", HASH) == "(none)"
    assert account_files.password_token(None, HASH) == "(unreadable)"


@pytest.mark.parametrize("value", ["$6$salt$" + "c" * 86, "!", "*", "!$y$j9T$abc$def", "abcdefghijklm", ""])
def test_crypt_hashes_and_lock_marks_accepted(value: str) -> None:
    user.check(user.Params(name="x", password=value))


@pytest.mark.parametrize("value", ["$6$a:b", "$6$x\nroot:", "a:b"])
def test_password_that_would_break_a_shadow_line_refused(value: str) -> None:
    with pytest.raises(user.ModuleFailure, match="must not contain ':' or a newline"):
        user.check(user.Params(name="x", password=value))


UNHASHED = ("The input password appears not to have been hashed. "
            "The 'password' argument must be encrypted for this module to work properly.")


@pytest.mark.parametrize(("value", "warned"), [
    ("hunter2", True), ("correct horse", True), ("$6$salt$" + "c" * 86, False),
    ("$6$salt$" + "c" * 85, True), ("$6$salt$" + "c" * 85 + "+", True), ("$y$j9T$salt$" + "d" * 43, False),
    ("$2b$12$" + "e" * 53, False), ("*", False), ("!", False), ("*************", False), ("!" + "$6$s$x", True),
])
def test_password_not_looking_hashed_is_set_with_ansibles_warning(value: str, warned: bool) -> None:
    user.check(user.Params(name="x", password=value))  # accepted, as Ansible
    assert (UNHASHED in user.warnings(user.Params(name="x", password=value), False)) is warned


@pytest.mark.parametrize(("given", "parsed"), [
    (["adm", "dev"], ["adm", "dev"]), ("adm, dev", ["adm", "dev"]), ("", []), ([], []), (None, []),
])
def test_groups_as_list_or_comma_string(given, parsed) -> None:
    assert user.group_list(given) == parsed


# -- whole runs in check mode over temp account files ---------------------------------------


@pytest.fixture
def accounts(tmp_path: Path):
    """A fresh user module whose account files live in tmp_path."""
    module = load_module("user")
    for name, text in (("passwd", PASSWD), ("group", GROUP), ("shadow", SHADOW),
                       ("login.defs", "UMASK 027\n")):
        (tmp_path / name).write_text(text)
    vars(module)["PASSWD_FILE"] = str(tmp_path / "passwd")
    vars(module)["GROUP_FILE"] = str(tmp_path / "group")
    vars(module)["SHADOW_FILE"] = str(tmp_path / "shadow")
    (tmp_path / "home" / "alice").mkdir(parents=True)
    (tmp_path / "passwd").write_text(PASSWD.replace("/home/alice", str(tmp_path / "home" / "alice")))
    return module


def check(module, args: dict) -> dict:
    params = controller_params("user", args)
    result = runner.execute(module, params, True, True)
    assert HASH not in json.dumps(result) and OTHER not in json.dumps(result)
    return result


def test_existing_user_matching_everything_is_ok(accounts) -> None:
    result = check(accounts, {"name": "alice", "uid": 1000, "group": "alice", "groups": ["adm", "dev"],
                              "shell": "/bin/bash", "comment": "Alice A", "password": HASH,
                              "expires": 19723 * 86400 + 3600})
    assert result["status"] == "ok", result
    assert result["data"]["password"] == "NOT_LOGGING_PASSWORD"
    assert result["data"]["group"] == 1000 and result["data"]["uid"] == 1000


def test_groups_without_append_replace_supplementary_groups(accounts) -> None:
    result = check(accounts, {"name": "alice", "groups": ["ops"]})
    assert result["status"] == "changed"
    assert result["diff"]["before"] == {"groups": ["adm", "dev"]}
    assert result["diff"]["after"] == {"groups": ["ops"]}


def test_groups_with_append_only_add(accounts) -> None:
    result = check(accounts, {"name": "alice", "groups": "ops,adm", "append": True})
    assert result["diff"]["after"] == {"groups": ["adm", "dev", "ops"]}
    assert check(accounts, {"name": "alice", "groups": ["dev"], "append": True})["status"] == "ok"


def test_empty_groups_remove_every_supplementary_group(accounts) -> None:
    assert check(accounts, {"name": "alice", "groups": ""})["diff"]["after"] == {"groups": []}


def test_groups_by_gid_and_primary_group_by_gid(accounts) -> None:
    assert check(accounts, {"name": "alice", "groups": ["4", "1500"], "group": "1000"})["status"] == "ok"


def test_missing_group_fails_for_existing_user_but_not_for_new_one(accounts) -> None:
    result = check(accounts, {"name": "alice", "groups": ["nosuch"]})
    assert result["status"] == "failed" and "Group nosuch does not exist" in result["msg"]
    assert check(accounts, {"name": "carol", "groups": ["nosuch"]})["status"] == "changed"


def test_changed_password_is_redacted_in_diff(accounts) -> None:
    result = check(accounts, {"name": "alice", "password": OTHER})
    assert result["diff"]["before"] == {"password": "(another hash)"}
    assert result["diff"]["after"] == {"password": "********"}
    assert result["data"]["password"] == "NOT_LOGGING_PASSWORD"


def test_update_password_on_create_leaves_existing_user_alone(accounts) -> None:
    assert check(accounts, {"name": "alice", "password": OTHER, "update_password": "on_create"})["status"] == "ok"
    new = check(accounts, {"name": "carol", "password": OTHER, "update_password": "on_create"})
    assert new["diff"]["after"]["password"] == "********"


def test_password_lock_and_expiry(accounts) -> None:
    result = check(accounts, {"name": "alice", "password_lock": True, "expires": -1})
    assert result["diff"]["before"] == {"password_lock": False, "expires": "2024-01-01"}
    assert result["diff"]["after"] == {"password_lock": True, "expires": None}


def test_missing_home_is_created_when_create_home(accounts, tmp_path: Path) -> None:
    (tmp_path / "home" / "alice").rmdir()
    assert check(accounts, {"name": "alice"})["diff"]["fields"] == ["home_exists"]
    assert check(accounts, {"name": "alice", "create_home": False})["status"] == "ok"


def test_absent_user(accounts) -> None:
    assert check(accounts, {"name": "alice", "state": "absent"})["diff"]["after"] == {"state": "absent"}
    assert check(accounts, {"name": "carol", "state": "absent"})["status"] == "ok"


def test_aliases(accounts) -> None:
    assert check(accounts, {"user": "alice", "createhome": False})["status"] == "ok"


# -- command plans --------------------------------------------------------------------------


def _state(module, args: dict) -> tuple:
    p = module.Params(**controller_params("user", args))
    cur = module.observe(p, _Reader())
    return p, cur, module.desired(p, cur)


class _Reader:
    umask = 0o022

    def read_text(self, path: str, default=None):
        return Path(path).read_text()


def test_useradd_plan_for_a_new_user(accounts) -> None:
    p, cur, want = _state(accounts, {
        "name": "carol", "uid": 1100, "group": "dev", "groups": ["adm", "ops"], "comment": "Carol",
        "home": "/srv/carol", "shell": "/bin/zsh", "expires": 1735689600, "system": True})
    assert accounts.useradd_plan(p, cur, want) == [(
        ["useradd", "-u", "1100", "-g", "dev", "-G", "adm,ops", "-c", "Carol", "-d", "/srv/carol",
         "-s", "/bin/zsh", "-e", "2025-01-01", "-m", "-r", "carol"], None)]


def test_useradd_plan_reuses_no_existing_same_name_group_and_honours_create_home(accounts) -> None:
    p, cur, want = _state(accounts, {"name": "bob", "create_home": False, "non_unique": True, "uid": 0})
    assert accounts.useradd_plan(p, cur, want) == [(
        ["useradd", "-u", "0", "-o", "-N", "-M", "bob"], None)]


def test_usermod_plan_only_for_what_differs(accounts) -> None:
    p, cur, want = _state(accounts, {"name": "alice", "uid": 1000, "shell": "/bin/zsh", "groups": ["sudo"],
                                     "home": "/home/a2", "move_home": True, "comment": "Alice A"})
    assert accounts.usermod_plan(p, cur, want) == [(
        ["usermod", "-G", "sudo", "-d", "/home/a2", "-m", "-s", "/bin/zsh", "alice"], None)]


def test_usermod_plan_append_adds_only_missing_groups(accounts) -> None:
    p, cur, want = _state(accounts, {"name": "alice", "groups": ["adm", "ops", "sudo"], "append": True})
    assert accounts.usermod_plan(p, cur, want) == [(["usermod", "-a", "-G", "ops,sudo", "alice"], None)]


def test_usermod_plan_removes_all_groups_and_primary(accounts) -> None:
    p, cur, want = _state(accounts, {"name": "alice", "groups": [], "group": "dev"})
    assert accounts.usermod_plan(p, cur, want) == [(["usermod", "-g", "dev", "-G", "", "alice"], None)]


def test_password_goes_through_stdin_then_lock(accounts) -> None:
    p, cur, want = _state(accounts, {"name": "alice", "password": OTHER, "password_lock": True,
                                     "password_expire_max": 90, "password_expire_min": 0})
    plan = accounts.usermod_plan(p, cur, want)
    assert plan == [
        (["chpasswd", "-e"], f"alice:{OTHER}\n"),
        (["usermod", "-L", "alice"], None),
        (["chage", "-M", "90", "alice"], None),
    ]
    assert all(OTHER not in arg for argv, _stdin in plan for arg in argv)  # never on a command line
    assert accounts.shown(*plan[0]) == ["chpasswd", "-e", "< alice:********"]


def test_unlock_and_expiry_removal(accounts) -> None:
    p, cur, want = _state(accounts, {"name": "alice", "password_lock": False, "expires": -1})
    assert accounts.usermod_plan(p, cur, want) == [(["usermod", "-e", "", "alice"], None)]
    (Path(accounts.PASSWD_FILE)).write_text(PASSWD + "locked:x:1200:1200::/:/bin/sh\n")
    p, cur, want = _state(accounts, {"name": "locked", "password_lock": False, "create_home": False})
    assert accounts.usermod_plan(p, cur, want) == [(["usermod", "-U", "locked"], None)]


def test_unlocking_an_account_without_password_is_not_wanted(accounts) -> None:
    Path(accounts.PASSWD_FILE).write_text(PASSWD + "nopw:x:1300:1300::/:/bin/sh\n")
    Path(accounts.SHADOW_FILE).write_text(SHADOW + "nopw:!:19000::::::\n")
    p, cur, want = _state(accounts, {"name": "nopw", "password_lock": False, "create_home": False})
    assert "password_lock" not in want


def test_userdel_plan() -> None:
    assert user.userdel_plan(user.Params(name="a", state="absent")) == [(["userdel", "a"], None)]
    assert user.userdel_plan(user.Params(name="a", state="absent", remove=True, force=True)) == [
        (["userdel", "-f", "-r", "a"], None)]


@pytest.mark.parametrize(("defs", "mode"), [
    ("", 0o755), ("UMASK 027\n", 0o750), ("UMASK 022\nHOME_MODE 0700\n", 0o700), ("# HOME_MODE 0711\n", 0o755),
])
def test_home_mode_from_login_defs(defs: str, mode: int) -> None:
    assert user.home_mode(user.login_defs(defs)) == mode


# -- group ----------------------------------------------------------------------------------


@pytest.fixture
def groups(tmp_path: Path):
    module = load_module("group")
    (tmp_path / "group").write_text(GROUP)
    vars(module)["GROUP_FILE"] = str(tmp_path / "group")
    return module


def _group_run(module, args: dict) -> dict:
    return runner.execute(module, controller_params("group", args), True, True)


def test_group_states(groups) -> None:
    assert _group_run(groups, {"name": "dev", "gid": 1500})["status"] == "ok"
    assert _group_run(groups, {"name": "dev"})["data"]["gid"] == 1500
    changed = _group_run(groups, {"name": "dev", "gid": 1501})
    assert changed["diff"]["before"] == {"gid": 1500} and changed["diff"]["after"] == {"gid": 1501}
    assert _group_run(groups, {"name": "new"})["diff"]["after"] == {"state": "present"}
    assert _group_run(groups, {"name": "new", "state": "absent"})["status"] == "ok"
    assert _group_run(groups, {"name": "dev", "state": "absent"})["status"] == "changed"


def test_group_plans() -> None:
    absent = {"name": "g", "state": "absent"}
    present = {"name": "g", "state": "present", "gid": 10}

    def plan(cur, want, **params):
        p = group.Params(name="g", **params)
        return group.command_plan(p, cur, group.desired(p, cur) if want is None else want)

    assert plan(absent, None) == [["groupadd", "g"]]
    assert plan(absent, None, gid=900, system=True, non_unique=True) == [["groupadd", "-g", "900", "-o", "-r", "g"]]
    assert plan(present, None, gid=11) == [["groupmod", "-g", "11", "g"]]
    assert plan(present, None, gid=10) == []
    assert plan(present, None, state="absent") == [["groupdel", "g"]]
    assert plan(present, None, state="absent", force=True) == [["groupdel", "-f", "g"]]
    assert plan(absent, None, state="absent") == []


@pytest.mark.parametrize("name", ["", "a:b", "a,b", "a\nb"])
def test_group_invalid_names(groups, name: str) -> None:
    with pytest.raises(InputError, match="invalid group name"):  # before anything connects
        _group_run(groups, {"name": name})
    result = runner.execute(groups, unchecked_params("group", {"name": name}), True, True)
    assert result["status"] == "failed" and "invalid group name" in result["msg"]  # on the host


def test_password_ageing_read_from_shadow(accounts) -> None:
    same = {"name": "alice", "password_expire_min": 0, "password_expire_max": 99999, "password_expire_warn": 7}
    assert check(accounts, same)["status"] == "ok"
    result = check(accounts, {**same, "password_expire_max": 90})
    assert result["diff"]["before"] == {"password_expire_max": 99999}
    assert result["diff"]["after"] == {"password_expire_max": 90}


def test_user_without_shadow_entry_has_no_password(accounts) -> None:
    result = check(accounts, {"name": "daemon", "password": HASH, "create_home": False})
    assert result["diff"]["before"] == {"password": "(none)"}


def test_append_without_groups_warns_in_ansible_words() -> None:
    from .conftest import run_module

    # ansible.builtin.user's module.warn text, its missing space included
    said = ("'append' is set, but no 'groups' are specified. Use 'groups' for appending new groups."
            "This will change to an error in Ansible 2.14.")
    assert run_module("user", {"name": "root", "append": True}, check=True)["warnings"] == [said]
    assert "warnings" not in run_module("user", {"name": "root", "append": True, "groups": []}, check=True)


def test_shell_and_home_are_paths_with_tilde_and_vars_expanded(accounts, monkeypatch) -> None:
    """Ansible's type 'path' (its user target: ``shell: ~/custom_shell`` twice, the second ok)."""
    monkeypatch.setenv("HOME", "/root")
    monkeypatch.setenv("SHELLS", "/opt/shells")
    _p, _cur, want = _state(accounts, {"name": "carol", "shell": "~/custom_shell", "home": "$SHELLS/../carol"})
    assert want["shell"] == "/root/custom_shell" and want["home"] == "/opt/shells/../carol"
