"""Add, change or remove a local user account (useradd, usermod, userdel, chpasswd, chage).

Behaves like ``ansible.builtin.user`` on Linux:

* ``state: present`` creates a missing user with ``useradd`` (``uid``, ``group``, ``groups``,
  ``comment``, ``home``, ``shell``, ``expires``, ``system``; ``create_home`` makes the home
  directory from ``skeleton`` or /etc/skel, ``create_home: false`` passes ``-M``). Without
  ``group``, a group named like the user that already exists is not reused: ``-N`` gives
  the default group instead (as Ansible does). An existing user gets ``usermod`` for the
  settings that differ (``move_home: true`` moves the old home with ``-m``).
* ``group`` is the primary group (a name or gid). ``groups`` are the supplementary groups:
  without ``append`` they replace the user's memberships (``groups: []`` or ``''`` removes
  every one), with ``append: true`` the missing ones are added and the others kept. Groups
  must exist (``Group X does not exist``) except when the user is still to be created.
* ``create_home`` (default true) also creates the home of an existing user when it is
  missing (copied from /etc/skel, owned by the user, mode ``HOME_MODE`` or ``0777 & ~UMASK``
  from /etc/login.defs).
* ``password`` is a crypt hash (``$6$...``; ``!`` or ``*`` for no password), compared with
  /etc/shadow ignoring a leading ``!`` (lock mark), set with ``chpasswd -e`` through stdin
  so it never appears on a command line. ``update_password: on_create`` sets it only for a
  new user. It is never shown: diffs say ``********`` (or ``(another hash)``/``(none)``) and
  the result's ``password`` is ``NOT_LOGGING_PASSWORD``.
* ``password_lock: true`` locks the password (``usermod -L``), ``false`` unlocks it.
* ``expires`` is a time in epoch seconds (compared by UTC date); a negative value removes
  the expiry. ``password_expire_max``/``_min``/``_warn`` set the ageing fields (``chage``).
* ``state: absent`` removes the user (``remove: true`` also removes the home and mail
  spool, ``force: true`` removes it even while logged in).
* Returns Ansible's values (``name``, ``state``, ``uid``, ``group`` (the primary gid),
  ``comment``, ``home``, ``shell``, ``groups``, ``append``, ``system``...) and ``commands``
  (what ran; the hash replaced by ``********``).

The state is read from /etc/passwd, /etc/group and /etc/shadow (only when a shadow field
is managed; unreadable without root), the local databases these tools edit.

A ``password`` that does not look like a crypt hash is stored as given, with Ansible's warning
(the account then has no usable password); one holding ``:`` or a newline is refused.

Differences from Ansible: ``password_lock: false`` on an account
without any password hash is left alone (``usermod -U`` refuses it; Ansible reports a change
every run); accounts known only through NSS (LDAP, sssd) are not seen; not supported:
``generate_ssh_key`` and the ``ssh_key_*`` options, ``local``, ``seuser``, ``login_class``,
``hidden``, ``umask``, ``profile``/``authorization``/``role`` and non-Linux platforms.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Literal

from fleet.agent.accounts import (
    NO_PASSWORD,
    REDACTED,
    looks_unhashed,
    parse_group,
    parse_passwd,
    parse_shadow,
    password_token,
)
from fleet.agent.commands import find_program
from fleet.agent.contract import Outcome, param
from fleet.agent.hostio import ModuleFailure, expand_path

ALIASES = {"user": "name", "createhome": "create_home"}
PASSWD_FILE, GROUP_FILE, SHADOW_FILE = "/etc/passwd", "/etc/group", "/etc/shadow"
LOGIN_DEFS = "/etc/login.defs"
AGEING = (("password_expire_min", 2, "-m"), ("password_expire_max", 3, "-M"),
          ("password_expire_warn", 4, "-W"))


@dataclass(frozen=True)
class Params:
    name: str = param("name of the user")
    state: Literal["present", "absent"] = param(
        "present creates or updates the user, absent removes it", "present")
    uid: int | None = param("numeric id the user should have", None)
    non_unique: bool = param("allow a uid another user already has (with uid)", False)
    group: str | None = param("the user's primary group", None)
    groups: list[str] | str | None = param(
        "supplementary groups (an empty list removes all, without append)", None)
    append: bool = param("add to groups rather than set them to exactly groups", False)
    comment: str | None = param("the GECOS field (full name)", None)
    home: str | None = param("the home directory", None)
    shell: str | None = param("the login shell", None)
    create_home: bool = param("create the home directory for a new user (from skeleton)", True)
    skeleton: str | None = param("directory copied into a new home (default /etc/skel)", None)
    move_home: bool = param("move the old home's content when home changes", False)
    system: bool = param("create a system account (id from the system range, no home)", False)
    password: str | None = param("the password as a crypt hash, never in clear", None)
    update_password: Literal["always", "on_create"] = param(
        "always sets password when it differs, on_create only for a new user", "always")
    password_lock: bool | None = param("lock (true) or unlock (false) the password", None)
    expires: float | None = param("account expiry in epoch seconds (negative: never expires)", None)
    password_expire_max: int | None = param("most days a password may be used", None)
    password_expire_min: int | None = param("fewest days between password changes", None)
    password_expire_warn: int | None = param("days of warning before the password expires", None)
    remove: bool = param("with state=absent, remove the home directory and mail spool too", False)
    force: bool = param("with state=absent, remove the user even while logged in", False)


# -- parsers (pure) ---------------------------------------------------------------------------


def _int(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None


def _date(days: int | None) -> str | None:
    if days is None or days < 0:
        return None
    return time.strftime("%Y-%m-%d", time.gmtime(days * 86400))


def observe(p: Params, host) -> dict:
    users = parse_passwd(host.read_text(PASSWD_FILE, "") or "")
    groups = parse_group(host.read_text(GROUP_FILE, "") or "")
    cur: dict = {"name": p.name, "state": "absent",
                 "_gids": {name: g["gid"] for name, g in groups.items()}}
    entry = users.get(p.name)
    if entry is None:
        return cur
    names: dict = {}
    for name, g in groups.items():
        names.setdefault(g["gid"], name)
    cur.update(state="present", uid=entry["uid"], gid=entry["gid"], comment=entry["comment"],
               home=entry["home"], shell=entry["shell"], _names=names,
               group=names.get(entry["gid"], str(entry["gid"])),
               groups=sorted(n for n, g in groups.items() if p.name in g["members"]),
               home_exists=os.path.isdir(entry["home"]))
    if _shadow_wanted(p):
        try:
            shadow = parse_shadow(host.read_text(SHADOW_FILE, "") or "").get(p.name, [""] * 8)
        except PermissionError:  # not root: shadow fields cannot be compared
            shadow = None
        stored = shadow[0] if shadow else None
        cur["_hash"] = stored
        cur["password"] = password_token(stored, p.password)
        cur["password_lock"] = stored.startswith("!") if stored is not None else None
        cur["expires"] = _date(_int(shadow[6])) if shadow else "(unreadable)"
        for field, index, _flag in AGEING:
            cur[field] = _int(shadow[index]) if shadow else "(unreadable)"
    return cur


def _shadow_wanted(p: Params) -> bool:
    return (p.password, p.password_lock, p.expires, p.password_expire_max,
            p.password_expire_min, p.password_expire_warn) != (None,) * 6


def warnings(p: Params, check: bool) -> list:
    """Ansible's warnings: ``append`` without ``groups`` (its words, missing space included) and
    a ``password`` that does not look like a crypt hash."""
    found = []
    if p.append and p.groups is None:
        found.append("'append' is set, but no 'groups' are specified. "
                     "Use 'groups' for appending new groups."
                     "This will change to an error in Ansible 2.14.")
    if p.password and looks_unhashed(p.password):
        found.append("The input password appears not to have been hashed. "
                     "The 'password' argument must be encrypted for this module to work properly.")
    return found


def check(p: Params) -> None:
    """Values that would break /etc/passwd or /etc/shadow lines."""
    for value, what in ((p.name, "user name"), (p.comment, "comment"), (p.home, "home"),
                        (p.shell, "shell"), (p.group, "group")):
        if value is not None and (":" in value or "\n" in value):
            raise ModuleFailure(f"invalid {what}: must not contain ':' or a newline")
    if not p.name:
        raise ModuleFailure("name must not be empty")
    if p.password is not None and (":" in p.password or "\n" in p.password):
        # chpasswd reads NAME:HASH lines: either would set another field or another user's hash
        raise ModuleFailure("invalid password: must not contain ':' or a newline")


def group_list(value) -> list:
    """``groups`` as Ansible reads it: a list, or a comma-separated string (``''``: none)."""
    if value is None:
        return []
    items = value.split(",") if isinstance(value, str) else value
    return [str(g).strip() for g in items if str(g).strip()]


def _group_name(spec: str, cur: dict, new: bool) -> str:
    """A group given by name or gid, as its name; a missing group fails unless ``new``."""
    gids, names = cur["_gids"], cur.get("_names") or {}
    if not names:
        for name, gid in gids.items():
            names.setdefault(gid, name)
    if spec.isdigit() and int(spec) in names:
        return names[int(spec)]
    if spec in gids or new:
        return spec
    raise ModuleFailure(f"Group {spec} does not exist")


def desired(p: Params, cur: dict) -> dict:
    if p.state == "absent":
        return {"state": "absent"}
    new = cur["state"] == "absent"
    want: dict = {"state": "present"}
    if p.uid is not None:
        want["uid"] = p.uid
    if p.group is not None:
        want["group"] = _group_name(p.group, cur, new)
    if p.groups is not None:
        given = {_group_name(g, cur, new) for g in group_list(p.groups)}
        want["groups"] = sorted(given | set(cur.get("groups", [])) if p.append else given)
    if p.comment is not None:
        want["comment"] = p.comment
    for field in ("home", "shell"):  # Ansible's type 'path': ~ and $VARS expanded
        if getattr(p, field) is not None:
            want[field] = expand_path(getattr(p, field))
    if p.create_home:
        want["home_exists"] = True
    if p.password is not None and (p.update_password == "always" or new):
        want["password"] = REDACTED
    if p.password_lock is not None:
        after = p.password if "password" in want else cur.get("_hash")
        if p.password_lock or (after or "").lstrip("!") not in NO_PASSWORD:
            want["password_lock"] = p.password_lock
    if p.expires is not None:
        want["expires"] = (
            None if p.expires < 0 else time.strftime("%Y-%m-%d", time.gmtime(p.expires))
        )
    for field, _index, _flag in AGEING:
        if getattr(p, field) is not None:
            want[field] = getattr(p, field)
    return want


# -- command plans (pure): lists of (argv, stdin) -------------------------------------------


def _differs(cur: dict, want: dict, field: str) -> bool:
    return field in want and cur.get(field) != want[field]


def useradd_plan(p: Params, cur: dict, want: dict) -> list:
    argv = ["useradd"]
    if p.uid is not None:
        argv += ["-u", str(p.uid)] + (["-o"] if p.non_unique else [])
    if "group" in want:
        argv += ["-g", want["group"]]
    elif p.name in cur["_gids"]:
        argv.append("-N")  # USERGROUPS_ENAB would refuse to create the user's group
    if want.get("groups"):
        argv += ["-G", ",".join(want["groups"])]
    for field, flag in (("comment", "-c"), ("home", "-d"), ("shell", "-s")):
        if field in want:
            argv += [flag, want[field]]
    if want.get("expires"):
        argv += ["-e", want["expires"]]
    if p.create_home:
        argv += ["-m"] + (["-k", p.skeleton] if p.skeleton else [])
    else:
        argv.append("-M")
    if p.system:
        argv.append("-r")
    return [(argv + [p.name], None)]


def usermod_plan(p: Params, cur: dict, want: dict) -> list:
    argv = ["usermod"]
    if _differs(cur, want, "uid"):
        argv += ["-u", str(want["uid"])] + (["-o"] if p.non_unique else [])
    if _differs(cur, want, "group"):
        argv += ["-g", want["group"]]
    if _differs(cur, want, "groups"):
        if p.append:
            argv += ["-a", "-G", ",".join(g for g in want["groups"] if g not in cur["groups"])]
        else:
            argv += ["-G", ",".join(want["groups"])]
    if _differs(cur, want, "comment"):
        argv += ["-c", want["comment"]]
    if _differs(cur, want, "home"):
        argv += ["-d", want["home"]] + (["-m"] if p.move_home else [])
    if _differs(cur, want, "shell"):
        argv += ["-s", want["shell"]]
    if _differs(cur, want, "expires"):
        argv += ["-e", want["expires"] or ""]
    steps = [(argv + [p.name], None)] if len(argv) > 1 else []
    return steps + shadow_plan(p, cur, want)


def shadow_plan(p: Params, cur: dict, want: dict) -> list:
    """Password, lock and ageing steps; for a new user, run on its state after useradd."""
    steps: list = []
    stored = cur.get("_hash") or ""
    if _differs(cur, want, "password"):
        steps.append((["chpasswd", "-e"], f"{p.name}:{p.password}\n"))
        stored = p.password
    if "password_lock" in want:
        if want["password_lock"] and not stored.startswith("!"):
            steps.append((["usermod", "-L", p.name], None))
        elif not want["password_lock"] and stored.startswith("!"):
            steps.append((["usermod", "-U", p.name], None))
    chage = ["chage"]
    for field, _index, flag in AGEING:
        if _differs(cur, want, field):
            chage += [flag, str(want[field])]
    if len(chage) > 1:
        steps.append((chage + [p.name], None))
    return steps


def userdel_plan(p: Params) -> list:
    return [
        (["userdel"] + (["-f"] if p.force else []) + (["-r"] if p.remove else []) + [p.name], None)
    ]


def shown(argv: list, stdin: str | None) -> list:
    """A step as the result shows it: the password hash replaced."""
    return argv + ([f"< {stdin.split(':', 1)[0]}:{REDACTED}"] if stdin else [])


# -- apply ------------------------------------------------------------------------------------


def which(name: str) -> str:
    found = find_program(name)
    if found is None:
        raise ModuleFailure(f"{name} is not installed on the host (needed to manage users)")
    return found


def _run(host, steps: list, done: list) -> None:
    for argv, stdin in steps:
        rc, out, err = host.run([which(argv[0])] + argv[1:], stdin=stdin)
        if rc != 0:
            raise ModuleFailure(f"{argv[0]} failed (rc {rc}): {(err or out).strip()}")
        done.append(shown(argv, stdin))


def login_defs(text: str) -> dict:
    values = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 2 and not parts[0].startswith("#"):
            values[parts[0]] = parts[1]
    return values


def home_mode(defs: dict) -> int:
    """useradd's mode for a new home: HOME_MODE, else 0777 & ~UMASK (022 by default)."""
    try:
        if "HOME_MODE" in defs:
            return int(defs["HOME_MODE"], 8) & 0o7777
        return 0o777 & ~int(defs.get("UMASK", "022"), 8)
    except ValueError:
        return 0o755


def _make_home(p: Params, host, home: str, uid: int, gid: int) -> list:
    parent = os.path.dirname(home.rstrip("/"))
    if parent and not os.path.isdir(parent):
        host.mkdir(parent)
    skel = expand_path(p.skeleton) if p.skeleton else "/etc/skel"
    host.copy_tree(
        skel, home, uid, gid, home_mode(login_defs(host.read_text(LOGIN_DEFS, "") or ""))
    )
    return ["(create home)", home]


def apply(p: Params, host, cur: dict, want: dict, ctx: Outcome) -> None:
    done: list = []
    ctx.report(commands=done)
    if want["state"] == "absent":
        _run(host, userdel_plan(p), done)
        return
    if cur["state"] == "absent":
        home = want.get("home")
        if p.create_home and home and not os.path.isdir(os.path.dirname(home.rstrip("/")) or "/"):
            host.mkdir(os.path.dirname(home.rstrip("/")))
        _run(host, useradd_plan(p, cur, want), done)
        cur = observe(p, host)
        if cur["state"] == "absent":
            raise ModuleFailure(f"useradd did not create {p.name} in {PASSWD_FILE}")
        _run(host, shadow_plan(p, cur, want), done)
    else:
        _run(host, usermod_plan(p, cur, want), done)
        cur = observe(p, host)
    if want.get("home_exists") and not cur["home_exists"]:
        done.append(_make_home(p, host, cur["home"], cur["uid"], cur["gid"]))


def result(p: Params, state: dict) -> dict:
    """Ansible's return values plus ``commands`` (what apply ran; the hash never appears)."""
    out: dict = {"name": p.name, "state": state["state"], "commands": []}
    if p.state == "absent":
        out.update(force=p.force, remove=p.remove)
        return out
    if state["state"] == "present":
        out.update(uid=state["uid"], group=state["gid"], comment=state["comment"],
                   home=state["home"], shell=state["shell"], append=p.append,
                   move_home=p.move_home, system=p.system, create_home=p.create_home)
        if p.groups is not None:
            out["groups"] = ",".join(group_list(p.groups))
    if p.password is not None:
        out["password"] = "NOT_LOGGING_PASSWORD"
    return out
