"""Set the system time zone: /etc/localtime points at the zone, /etc/timezone names it.

Behaves like ``community.general.timezone`` on Linux, without needing ``timedatectl``:

* ``name``: a zone of the tz database (``Europe/Paris``, ``UTC``...). It must exist as a
  compiled zone file (``TZif``) under ``/usr/share/zoneinfo``; otherwise the task fails, in
  check mode too (``given timezone ... is not available``; a host without the directory is
  told to install ``tzdata``).
* ``/etc/localtime`` becomes a symlink to ``/usr/share/zoneinfo/NAME`` (replaced atomically; a
  link that already reaches that zone, relative as ``timedatectl`` writes it or absolute, is
  left alone; a copied zone file is replaced by the link).
* ``/etc/timezone`` (Debian's name of the zone, ``NAME\\n``) is written when it exists or the
  host is Debian-like (``/etc/debian_version``).
* ``hwclock`` (alias ``rtc``): accepted and ignored; fleet does not manage the hardware clock
  mode (``/etc/adjtime``). A task that changes the zone warns about it; the result carries
  ``hwclock_note``. ``hwclock`` without ``name`` is refused, since it would do nothing.
* fleet only, for tests and unusual layouts: ``zoneinfo_dir``, ``localtime_file`` and
  ``timezone_file`` replace the three paths above.

glibc reads /etc/localtime whenever a process converts a time, so new processes use the new
zone at once; long-running daemons (cron, syslog) may need a restart, as Ansible notes.

Returns ``name``, ``zone`` (the zone /etc/localtime reaches afterwards) and ``localtime``.

Differences from Ansible: ``timedatectl`` is never used (it needs systemd-timedated, which
containers often lack); the hardware clock mode is not managed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Literal

from fleet.agent.contract import Outcome, param
from fleet.agent.hostio import ModuleFailure

ALIASES = {"rtc": "hwclock"}


@dataclass(frozen=True)
class Params:
    name: str | None = param("the tz database zone (Europe/Paris, UTC...)", None)
    hwclock: Literal["local", "UTC"] | None = param(
        "accepted and ignored: the hardware clock mode is not managed", None)
    zoneinfo_dir: str = param("fleet only: where the compiled zones are", "/usr/share/zoneinfo")
    localtime_file: str = param("fleet only: the link to the zone", "/etc/localtime")
    timezone_file: str = param("fleet only: the file naming the zone", "/etc/timezone")


def zone_path(p: Params) -> str:
    """The zone's file, after checking the name cannot leave the zoneinfo directory."""
    name = p.name or ""
    parts = name.split("/")
    if not name or name.startswith("/") or any(part in ("", ".", "..") for part in parts):
        raise ModuleFailure(f"invalid time zone name {name!r}")
    return os.path.join(p.zoneinfo_dir, name)


def zone_of(link: str, zoneinfo_dir: str) -> str | None:
    """The zone a symlink's target names (relative targets resolved from the link's dir)."""
    target = os.path.normpath(os.path.join(os.path.dirname(link) or "/", os.readlink(link)))
    base = os.path.normpath(zoneinfo_dir)
    if target.startswith(base + os.sep):
        return target[len(base) + 1:]
    return None


def observe(p: Params, host) -> dict:
    if p.name is None:
        raise ModuleFailure("hwclock alone does nothing in fleet (the hardware clock mode is not "
                            "managed): give name" if p.hwclock else
                            "one of the following is required: name, hwclock")
    if not os.path.isdir(p.zoneinfo_dir):
        raise ModuleFailure(f"no time zone data: {p.zoneinfo_dir} is missing "
                            "(install the tzdata package)")
    path = zone_path(p)
    head = None
    if os.path.isfile(path):
        with open(path, "rb") as handle:
            head = handle.read(4)
    if head != b"TZif":
        raise ModuleFailure(f"given timezone {p.name!r} is not available: "
                            f"{path} is not a zone file (tzdata)")
    cur: dict = {"target": path}
    info = host.path_info(p.localtime_file)
    if info is None:
        cur["zone"] = None
    elif info["state"] == "link":
        cur["zone"] = zone_of(p.localtime_file, p.zoneinfo_dir) or "(link to {})".format(
            info["src"]
        )
    else:
        cur["zone"] = "(a {}, not a link)".format(info["state"])
    cur["manage_timezone_file"] = host.exists(p.timezone_file) or host.exists("/etc/debian_version")
    if cur["manage_timezone_file"]:
        cur["timezone_file"] = host.read_text(p.timezone_file)
    return cur


def desired(p: Params, cur: dict) -> dict:
    want: dict = {"zone": p.name}
    if cur["manage_timezone_file"]:
        want["timezone_file"] = f"{p.name}\n"
    return want


def apply(p: Params, host, cur: dict, want: dict, ctx: Outcome) -> None:
    if cur["zone"] != p.name:
        try:
            host.symlink(cur["target"], p.localtime_file)
        except OSError as exc:
            raise ModuleFailure(
                f"cannot replace {p.localtime_file}: {exc.strerror or exc}"
            ) from None
    if "timezone_file" in want and cur.get("timezone_file") != want["timezone_file"]:
        exists = host.exists(p.timezone_file)
        host.write_file(p.timezone_file, want["timezone_file"].encode(),
                        mode=None if exists else "0644")
    if p.hwclock is not None:
        ctx.warn("hwclock", "ignored: fleet does not manage the hardware clock mode (/etc/adjtime)")


def result(p: Params, state: dict) -> dict:
    out = {"name": p.name, "zone": state["zone"], "localtime": p.localtime_file}
    if p.hwclock is not None:
        out["hwclock_note"] = "ignored: fleet does not manage the hardware clock mode"
    return out
