"""Manage a mount point's fstab entry, and mount or unmount it where the host allows that.

Behaves like ``ansible.posix.mount`` on Linux. The fstab line is
``SRC PATH FSTYPE OPTS DUMP PASSNO`` (spaces, ``&`` and ``\\`` escaped as ``\\040``,
``\\046``, ``\\134``); the entry is found by its mount point (a swap entry, ``none``, by
its ``src``), and rewritten only when a field differs.

* ``present``: the entry is in ``fstab`` (``src`` and ``fstype`` required); nothing mounted.
* ``mounted``: the entry, and mounted (``mount PATH``, ``-T FSTAB`` for another file); the
  mount point is created when missing. An entry changed while mounted is remounted
  (``mount -o remount``, else unmount and mount). A failed mount puts the old ``fstab``
  back, removes the directories it created, and fails.
* ``unmounted``: unmounted (``umount PATH``), ``fstab`` untouched.
* ``absent``: the entry removed; if it was there, the mount point is unmounted and its
  (empty) directory removed. ``absent_from_fstab``: only the entry removed.
* ``remounted``: ``mount -o remount[,OPTS]``; always ``changed``, as in Ansible.
* ``ephemeral``: mounted with ``-t FSTYPE [-o OPTS] SRC PATH``, ``fstab`` untouched; a path
  already mounted from another ``src`` fails.
* ``opts`` defaults to ``defaults``; ``boot: false`` adds ``noauto``. ``backup: true``
  keeps a timestamped copy of ``fstab`` (``backup_file``).
* A tab, line break or other control character in ``src``, ``path``, ``fstype``,
  ``opts``, ``dump`` or ``passno`` is refused before anything connects (and again on the
  host): it would split the entry or add another line to ``fstab``.

Mounted means the path is a mount point in ``/proc/self/mountinfo``. Where the host does not
let fleet mount (no ``CAP_SYS_ADMIN``: a container), ``mounted`` still writes the entry and
reports ``changed`` with the warning ``mount PATH: fstab entry written, not mounted: <reason>``
(``absent``: ``fstab entry removed, not unmounted``); the next run is ``ok`` with the same
warning (and ``mount_refused`` in the registered data). States with nothing to
persist (``unmounted``, ``remounted``, ``ephemeral``) fail there instead.

Differences from Ansible: where mounting is refused, ``mounted`` keeps the entry and warns
(Ansible fails the mount and restores ``fstab``); entries with 4 or 5 fields count as having
dump/passno ``0`` and are matched by ``absent`` too; ``ephemeral`` on a path already mounted
from ``src`` is ``ok`` (Ansible remounts and reports ``changed``); ``absent`` leaves a
non-empty mount point directory in place (Ansible fails); a missing ``fstab`` is not created
in check mode; a trailing ``/`` of ``path`` is ignored (Ansible would add a second entry);
``opts_no_log`` is accepted (use the task's ``no_log``); tabs and line breaks in fields are
refused (Ansible writes them as they are).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Literal

from fleet.agent.contract import Outcome, param
from fleet.agent.hostenv import CAP_SYS_ADMIN, chroot_reason, has_capability
from fleet.agent.hostio import ModuleFailure, display_text, expand_path

ALIASES = {"name": "path"}
DIFF_TEXT = ("content",)
FIELDS = ("src", "name", "fstype", "opts", "dump", "passno")


@dataclass(frozen=True)
class Params:
    path: str = param("the mount point")
    state: Literal[
        "absent", "absent_from_fstab", "mounted", "present", "unmounted", "remounted", "ephemeral"
    ] = param("mounted, present, unmounted, absent, absent_from_fstab, remounted or ephemeral")
    src: str | None = param("device, label, UUID= or remote share to mount", None)
    fstype: str | None = param("filesystem type (ext4, nfs, tmpfs...)", None)
    opts: str | None = param("mount options (default: defaults)", None)
    dump: str = param("fstab dump field", "0")
    passno: str = param("fstab pass number field (fsck order)", "0")
    fstab: str | None = param("the fstab file to edit (default /etc/fstab)", None)
    boot: bool = param("mount at boot; false adds noauto", True)
    backup: bool = param("keep a timestamped copy of fstab before changing it (backup_file)", False)
    opts_no_log: bool = param(
        "accepted for Ansible; hide opts with the task's no_log instead", False)


LINE_FIELDS = ("src", "path", "fstype", "opts", "dump", "passno")


def check_param(field: str, value) -> None:
    """Refuse an fstab field with a tab, line break or other control character (it would
    split the field or add a line to fstab): called by the controller's validation, before
    anything connects, and again on the host. Spaces are fine (written ``\\040``)."""
    bad = [c for c in value if c != " " and (c.isspace() or ord(c) < 32 or ord(c) == 127)] \
        if field in LINE_FIELDS and isinstance(value, str) else []
    if bad:
        raise ModuleFailure(
            f"{field} must not contain a tab, line break or other control character "
            "(it would break the fstab line)"
        )


def escape(value: str) -> str:
    return value.replace("\\", "\\134").replace(" ", "\\040").replace("&", "\\046")


def unescape(value: str) -> str:
    for code, char in (
        ("\\040", " "),
        ("\\011", "\t"),
        ("\\012", "\n"),
        ("\\046", "&"),
        ("\\134", "\\"),
    ):
        value = value.replace(code, char)
    return value


def entry_args(p: Params) -> dict:
    """The entry's fields, unescaped: opts default and ``noauto`` for ``boot: false``."""
    opts = p.opts or "defaults"
    if not p.boot and "noauto" not in opts.split(","):
        opts += ",noauto"
    return {"src": p.src, "name": expand_path(p.path).rstrip("/") or "/", "fstype": p.fstype,
            "opts": opts, "dump": p.dump, "passno": p.passno}


def _fields(line: str):
    if not line.strip() or line.strip().startswith("#"):
        return None
    fields = line.split("#")[0].split()
    if len(fields) not in (4, 5, 6):
        return None
    return dict(zip(FIELDS, fields + ["0"] * (6 - len(fields))))


def _matches(fields: dict, args: dict) -> bool:
    if fields["name"] != escape(args["name"]):
        return False
    return not (args["src"] is not None and fields["name"] == "none" and fields["fstype"] == "swap"
                and fields["src"] != args["src"])


def set_entry(text: str, args: dict) -> str:
    """``text`` with the entry for ``args`` present and up to date."""
    want = {k: escape(str(v)) for k, v in args.items()}
    new_line = "{src} {name} {fstype} {opts} {dump} {passno}\n".format(**want)
    out, exists = [], False
    for line in text.splitlines(True):
        if not line.endswith("\n"):
            line += "\n"
        fields = _fields(line)
        if fields is None or not _matches(fields, args):
            out.append(line)
            continue
        exists = True
        same = all(fields[k] == want[k] for k in ("src", "fstype", "opts", "dump", "passno"))
        out.append(line if same else new_line)
    if not exists:
        out.append(new_line)
    return "".join(out)


def unset_entry(text: str, args: dict) -> str:
    out = []
    for line in text.splitlines(True):
        fields = _fields(line)
        if fields is None or not _matches(fields, args):
            out.append(line)
    return "".join(out)


def mount_points(mountinfo: str) -> dict:
    """``{mount point: source}`` from ``/proc/self/mountinfo`` text (later mounts win)."""
    points = {}
    for line in mountinfo.splitlines():
        fields = line.split()
        if len(fields) >= 10 and "-" in fields:
            rest = fields[fields.index("-") + 1:]
            points[unescape(fields[4])] = unescape(rest[1]) if len(rest) > 1 else ""
    return points


def mount_refusal(has_cap: bool) -> str:
    return "" if has_cap else "no CAP_SYS_ADMIN here (a container?)"


def _fstab_args(fstab: str) -> list:
    return [] if fstab == "/etc/fstab" else ["-T", fstab]


def mount_command(p: Params, args: dict, fstab: str) -> list:
    if p.state == "ephemeral":
        opts = ["-o", args["opts"]] if args["opts"] != "defaults" else []
        return ["mount", "-t", args["fstype"], *opts, args["src"], args["name"]]
    return ["mount", *_fstab_args(fstab), args["name"]]


def remount_command(p: Params, args: dict, fstab: str) -> list:
    opts = "remount"
    if p.state == "remounted" and args["opts"] != "defaults":
        opts += "," + args["opts"]
    return ["mount", "-o", opts, *_fstab_args(fstab), args["name"]]


def check(p: Params) -> None:
    """The states that write an entry need its ``src`` and ``fstype``."""
    missing = [k for k in ("src", "fstype") if not getattr(p, k)]
    if p.state in ("mounted", "present", "ephemeral") and missing:
        raise ModuleFailure(
            f"state is {p.state} but all of the following are missing: {', '.join(missing)}"
        )


def observe(p: Params, host) -> dict:
    args = entry_args(p)
    fstab = expand_path(p.fstab or "/etc/fstab")
    points = mount_points(host.read_text("/proc/self/mountinfo", ""))
    name = args["name"]
    cur = {
        "path": name,
        "fstab_path": fstab,
        "content": display_text(host.read_bytes(fstab)),
        "mounted": name in points or os.path.ismount(name),
        "mounted_src": points.get(name),
        "mount_refused": chroot_reason() or mount_refusal(has_capability(CAP_SYS_ADMIN)),
        "remounted": False,  # an action, not a state: apply reports it done
    }
    return cur


def desired(p: Params, cur: dict) -> dict:
    args = entry_args(p)
    refused = cur["mount_refused"]
    if refused:  # states with nothing to persist fail where they would have to (un)mount
        verb = {"unmounted": "unmount", "remounted": "remount", "ephemeral": "mount"}.get(p.state)
        if verb and (p.state == "remounted" or cur["mounted"] == (p.state == "unmounted")):
            raise ModuleFailure(f"cannot {verb} {args['name']}: {refused}")
    want: dict = {}
    text = cur["content"] or ""
    if p.state in ("mounted", "present"):
        new = set_entry(text, args)
    elif p.state in ("absent", "absent_from_fstab"):
        new = unset_entry(text, args)
    else:
        new = text
    if new != text:
        want["content"] = new
    if p.state == "mounted" and not cur["mounted"] and not refused:
        want["mounted"] = True
    elif p.state == "unmounted" and cur["mounted"]:
        want["mounted"] = False
    elif p.state == "remounted":
        want["remounted"] = True
    elif p.state == "ephemeral":
        if cur["mounted"] and cur["mounted_src"] not in (None, args["src"]):
            raise ModuleFailure(
                "Ephemeral mount point is already mounted with a different source than the"
                " specified one. "
                "Failing in order to prevent an unwanted unmount or override operation."
            )
        if not cur["mounted"]:
            want["mounted"] = True
    return want


# Warnings name what they are about (``mount VALUE: why``), so several can be told apart.
CAVEAT_SUBJECT = ("mount", "path")


def caveats(p: Params, state: dict) -> dict:
    """The (un)mount this host refuses, reported as a warning on every run."""
    refused = state["mount_refused"]
    if refused and p.state == "mounted" and not state["mounted"]:
        return {"mounted": f"fstab entry written, not mounted: {refused}"}
    if refused and p.state == "absent" and state["mounted"]:
        return {"mounted": f"fstab entry removed, not unmounted: {refused}"}
    return {}


def _run(host, argv: list) -> str:
    rc, out, err = host.run(argv)
    return "" if rc == 0 else (out + err).strip() or f"{argv[0]} exited {rc}"


def apply(p: Params, host, cur: dict, want: dict, ctx: Outcome) -> None:
    args, fstab, refused = entry_args(p), cur["fstab_path"], cur["mount_refused"]
    name = args["name"]
    if "content" in want:
        if p.backup and cur["content"] is not None:
            ctx.report(backup_file=host.backup(fstab))
        if not os.path.isdir(os.path.dirname(fstab)):
            host.mkdir(os.path.dirname(fstab))
        host.write_file(fstab, want["content"].encode("utf-8"))
    if p.state in ("mounted", "ephemeral"):
        _mount(p, host, cur, want, args)
        if p.state == "mounted" and refused and "content" in want and cur["mounted"]:
            ctx.warn("mounted", f"fstab entry written, not remounted: {refused}")
    elif p.state == "unmounted" or (p.state == "absent" and "content" in want and cur["mounted"]):
        if not refused:  # refused: caveats() says so
            error = _run(host, ["umount", name])
            if error:
                raise ModuleFailure(f"Error unmounting {name}: {error}")
    elif p.state == "remounted":
        error = _remount(p, host, args, fstab)
        if error:
            raise ModuleFailure(f"Error remounting {name}: {error}")
        ctx.acted("remounted")
    still_mounted = cur["mounted"] and bool(refused) or os.path.ismount(name)
    if p.state == "absent" and "content" in want and os.path.isdir(name) and not still_mounted \
            and not os.listdir(name):
        host.rmdir(name)


def _mount(p: Params, host, cur: dict, want: dict, args: dict) -> None:
    name, fstab = args["name"], cur["fstab_path"]
    if cur["mount_refused"]:
        return
    if cur["mounted"]:
        error = _remount(p, host, args, fstab) if "content" in want else ""
    else:
        created = []
        path = name
        while path and not os.path.exists(path):
            created.append(path)
            path = os.path.dirname(path)
        for directory in reversed(created):
            host.mkdir(directory)
        error = _run(host, mount_command(p, args, fstab))
        if error:
            for directory in created:
                host.rmdir(directory)
    if error:
        if "content" in want:  # a broken entry may stop the next boot: put the old one back
            host.write_file(fstab, (cur["content"] or "").encode("utf-8"))
        raise ModuleFailure(f"Error mounting {name}: {error}")


def _remount(p: Params, host, args: dict, fstab: str) -> str:
    error = _run(host, remount_command(p, args, fstab))
    if not error:
        return ""
    if p.state == "remounted" and args["opts"] != "defaults":
        raise ModuleFailure(
            "Options were specified with remounted, but the remount command failed."
            " Failing in order to prevent an unexpected mount result. Try replacing this"
            ' command with a "state: unmounted" '
            'followed by a "state: mounted" using the full desired mount options instead.'
        )
    error = _run(host, ["umount", args["name"]])
    return error or _run(host, mount_command(p, args, fstab))


def result(p: Params, state: dict) -> dict:
    args = entry_args(p)
    out = {"name": args["name"], "src": args["src"], "fstype": args["fstype"], "opts": args["opts"],
           "dump": args["dump"], "passno": args["passno"], "fstab": state["fstab_path"],
           "boot": "yes" if p.boot else "no", "backup_file": ""}
    out.update(mounted=state["mounted"], mount_refused=state["mount_refused"])
    return out
