"""Manage Debian/Ubuntu packages with apt-get: install, upgrade or remove a list in one call.

Behaves like ``ansible.builtin.apt`` for the parameters it has:

* ``name`` (aliases ``pkg``, ``package``): a list (or comma-separated text) of names,
  ``name=VERSION`` (wildcards allowed: ``nginx=1.22*``), ``name>=VERSION`` or ``name:ARCH``.
* ``state: present`` installs what is missing and a pinned version that is not the installed
  one (an older one needs ``allow_downgrade``); ``latest`` also upgrades to the candidate
  version (``apt-cache policy``; ``default_release`` is apt's ``-t``), only what is already
  installed with ``only_upgrade``; ``absent`` removes (a pinned spec only when that version
  is installed), ``purge: true`` also purges left-over configuration files.
* What needs a change goes to **one** ``apt-get -y -q`` call (``DEBIAN_FRONTEND=
  noninteractive``): each ``dpkg_options`` item as ``-o Dpkg::Options::=--ITEM`` (default
  ``force-confdef,force-confold``), ``-o DPkg::Lock::Timeout=lock_timeout``,
  ``install_recommends`` as ``-o APT::Install-Recommends=yes|no`` (unset: apt's own
  configuration), ``autoremove`` (``--auto-remove``), ``fail_on_autoremove`` (``--no-remove``),
  ``allow_unauthenticated``, ``allow_change_held_packages``. Listed packages that were
  already installed are then marked manually installed (``apt-mark manual``), as in Ansible.
* ``update_cache: true`` runs ``apt-get update`` first (``update_cache_retries`` attempts,
  backing off up to ``update_cache_retry_max_delay`` s); ``cache_valid_time`` (seconds, and
  as in Ansible it asks for the update by itself) skips it while the cache is younger: the
  mtime of ``/var/lib/apt/periodic/update-success-stamp``, else of ``/var/lib/apt/lists``.
  A successful update touches that stamp (apt's ``Post-Invoke-Success`` hook, as on Ubuntu):
  on Debian an update that finds nothing new leaves the lists' mtime as it was.
* ``autoremove: true`` without ``name`` runs ``apt-get autoremove`` if apt would remove any.
* Observing is read-only: ``dpkg-query`` (installed), ``apt-cache policy`` (candidates) and
  ``apt-get -s`` (the whole transaction, dependencies included), so check mode reports what
  would be installed, upgraded, downgraded and removed, and fails where apt would
  (``No package matching 'x' is available``). While a cache update is pending nothing is
  simulated: its result is unknown until the update has run.
* ``--diff`` shows each package's state (``tree: 'absent' → 'present'``) and the cache's
  (``apt_cache: 'stale' → 'fresh'``); ``update_cache`` alone is ``changed`` when the update
  moved the package lists (as Ansible on Debian: an update that fetched nothing new is ``ok``).
* Returns ``cache_updated`` (check mode: an update is due, as Ansible reports),
  ``cache_update_time`` (the cache's mtime, seconds), ``transaction`` (package names to
  ``install``, ``upgrade``, ``downgrade`` and ``remove``, dependencies included) and, when
  apt-get ran, its ``stdout``/``stderr``.

Differences from Ansible: where apt's hook touches the update stamp (Ubuntu) Ansible reports
every update as a change, fleet only one that moved the package lists; ``deb``, ``upgrade``,
``clean``, ``autoclean``, ``force``, ``policy_rc_d``, states
``build-dep``/``fixed`` and name wildcards (``apt*``) are not fleet's: with ansible-core
installed such a task runs Ansible's own apt module through the bridge; the update stamp is
written on Debian too (Ansible only reads it, so there it updates each run once an update has
changed no list); ``force_apt_get`` is accepted and changes nothing (apt-get is always used);
packages are marked manual only when apt-get runs; ``present`` does not upgrade a wildcard
pin the installed version matches.
"""

from __future__ import annotations

import fnmatch
import os
import random
import re
import shlex
import time
from dataclasses import dataclass
from typing import Literal

from fleet.agent.contract import Outcome, param
from fleet.agent.dpkg import (
    ENV,
    INSTALLED,
    apt_query,
    compare_versions,
    dpkg_status,
    parse_policy,
    policy_of,
    provided_names,
    simulate,
)
from fleet.agent.errors import AnsibleOnly
from fleet.agent.hostenv import services_held
from fleet.agent.hostio import ModuleFailure

ALIASES = {
    "pkg": "name",
    "package": "name",
    "update-cache": "update_cache",
    "default-release": "default_release",
    "install-recommends": "install_recommends",
    "allow-unauthenticated": "allow_unauthenticated",
    "allow-downgrade": "allow_downgrade",
    "allow_downgrades": "allow_downgrade",
    "allow-downgrades": "allow_downgrade",
}
STAMP = "/var/lib/apt/periodic/update-success-stamp"
LISTS = "/var/lib/apt/lists"
# Field names beside the packages: "_" never occurs in a Debian package name.
CACHE = "apt_cache"
AUTOREMOVE = "autoremove_pending"
# apt's own hook (Ubuntu's update-notifier sets the same): a successful update touches the stamp
RECORD = "APT::Update::Post-Invoke-Success::=touch "


@dataclass(frozen=True)
class Params:
    name: list[str] | str | None = param(
        "package name(s), with optional =VERSION, :ARCH or /RELEASE", None)
    state: Literal["absent", "latest", "present", "build-dep", "fixed"] = param(
        "present installs, latest upgrades to the candidate version, absent removes "
        "(build-dep, fixed: Ansible's apt runs the task)", "present")
    update_cache: bool | None = param(
        "run apt-get update first (also when no package is given)", None)
    update_cache_retries: int = param("how many times to retry a failed cache update", 5)
    update_cache_retry_max_delay: int = param(
        "longest wait in seconds between cache update retries", 12)
    cache_valid_time: int = param(
        "skip the cache update when it is younger than this many seconds", 0)
    purge: bool = param("with state=absent, also remove configuration files (--purge)", False)
    default_release: str | None = param(
        "release to take packages from (-t), e.g. a backports suite", None)
    install_recommends: bool | None = param(
        "install recommended packages too (default: apt's own setting)", None)
    autoremove: bool = param("remove dependencies no longer needed by any package", False)
    fail_on_autoremove: bool = param(
        "fail rather than let apt remove packages to satisfy the request", False)
    only_upgrade: bool = param("upgrade packages already installed, never install new ones", False)
    allow_downgrade: bool = param("allow installing a version older than the installed one", False)
    allow_unauthenticated: bool = param("install packages that cannot be authenticated", False)
    allow_change_held_packages: bool = param("allow changing packages that are on hold", False)
    force_apt_get: bool = param(
        "always use apt-get (fleet never uses aptitude; accepted for Ansible)", False)
    dpkg_options: str = param(
        "dpkg options passed as -o Dpkg::Options::=--OPTION, comma separated",
        "force-confdef,force-confold")
    lock_timeout: int = param("seconds to wait for another apt/dpkg holding the lock", 60)


def parse_specs(name) -> list:
    """``name`` as ``[(package, op, version)]``; ``op`` is ``"="``, ``">="`` or ``""``."""
    specs: dict = {}
    for item in name.split(",") if isinstance(name, str) else name or []:
        text = str(item).strip()
        match = re.match(r"^([A-Za-z0-9][^\s/=<>]*?)(?:(>=|=)([^=]+))?$", text)
        if not text:
            continue
        if not match and set("*?[]!") & set(text):  # "*" alone: every package, Ansible's way
            raise AnsibleOnly(f"package name wildcards are not supported: {text}")
        if not match:
            raise ModuleFailure(f"invalid package spec: {text}")
        spec = (match.group(1), match.group(2) or "", match.group(3) or "")
        if set("*?[]!") & set(spec[0]):
            raise AnsibleOnly(f"package name wildcards are not supported: {spec[0]}")
        if specs.setdefault(spec[0], spec) != spec:
            raise ModuleFailure(f"package {spec[0]} is given twice, with different versions")
    return list(specs.values())


def parse_simulation(text: str) -> dict:
    """``apt-get -s`` output: the names it would install, upgrade, downgrade and remove."""
    done: dict = {"install": [], "upgrade": [], "downgrade": [], "remove": []}
    for line in text.splitlines():
        match = re.match(r"^(Inst|Remv|Purg) (\S+)(?: \[([^\]]*)\])?(?: \((\S+))?", line)
        if not match:
            continue
        verb, name, old, new = match.groups()
        if verb != "Inst":
            done["remove"].append(name)
        elif not old:
            done["install"].append(name)
        elif new and compare_versions(new, old) < 0:
            done["downgrade"].append(name)
        else:
            done["upgrade"].append(name)
    return done


def cache_mtime(stamp: str | None = None, lists: str | None = None) -> float:
    """The time of the last cache update as Ansible reads it (0 when unknown)."""
    for path in (stamp or STAMP, lists or LISTS):
        if os.path.exists(path):
            return os.stat(path).st_mtime
    return 0.0


def _mtime(path: str) -> float:
    try:
        return os.stat(path).st_mtime
    except OSError:
        return 0.0


def cache_is_valid(mtime: float, valid_time: int, now: float) -> bool:
    """Ansible's test: the cache is recent enough when ``mtime + cache_valid_time >= now``."""
    return mtime + valid_time >= now


def wanted(spec: tuple, state: str) -> str:
    if state != "present":
        return state
    return spec[1] + spec[2] if spec[1] else "present"


def best_version(spec: tuple, policy: dict | None) -> str | None:
    """The version apt would install: the candidate, or the newest one matching a ``=`` pin."""
    if not policy:
        return None
    if spec[1] == "=":
        return next((v for v in policy["versions"] if fnmatch.fnmatch(v, spec[2])), None)
    return policy["candidate"]


def _matches(spec: tuple, version: str) -> bool:
    if spec[1] == ">=":
        return compare_versions(version, spec[2]) >= 0
    return spec[1] != "=" or fnmatch.fnmatch(version, spec[2])


def package_state(spec: tuple, p: Params, entry: dict | None, policy: dict | None,
                  provided: bool = False) -> str:
    """The package as observed, in the words of :func:`wanted` when nothing is to be done."""
    status = entry["status"] if entry else "not-installed"
    installed = status in INSTALLED
    version = entry["version"] if installed and entry else ""
    matching = installed and _matches(spec, version)
    if p.state == "absent":
        if matching or (p.purge and status != "not-installed"):
            return f"installed {version}" if installed else status
        return "absent"
    want = wanted(spec, p.state)
    if not installed:
        if p.only_upgrade or (provided and not spec[1]):
            return want
        return "absent" if status == "not-installed" else status
    if not matching:
        return f"installed {version}"
    best = best_version(spec, policy)
    if p.state == "latest" and best and best != version:
        return f"installed {version}, candidate {best}"
    return want


def install_token(spec: tuple, policy: dict | None) -> str:
    """What goes on apt-get's command line: ``name=VERSION`` when the version is known."""
    best = best_version(spec, policy)
    if best:
        return f"{spec[0]}={best}"
    return f"{spec[0]}={spec[2]}" if spec[1] == "=" else spec[0]


def apt_command(p: Params, action: str, packages: list) -> list:
    """The apt-get argv for ``install``, ``remove`` or ``autoremove`` of ``packages``."""
    argv = ["apt-get", "-y", "-q"]
    for option in filter(None, (o.strip() for o in p.dpkg_options.split(","))):
        argv += ["-o", f"Dpkg::Options::=--{option}"]
    argv += ["-o", f"DPkg::Lock::Timeout={p.lock_timeout}"]
    install = action == "install"
    argv += [flag for flag, on in (("--purge", p.purge and not install),
                                   ("--auto-remove", p.autoremove and action != "autoremove"),
                                   ("--only-upgrade", p.only_upgrade and install),
                                   ("--no-remove", p.fail_on_autoremove and install)) if on]
    if install and p.default_release:
        argv += ["-t", p.default_release]
    if install and p.install_recommends is not None:
        argv += ["-o", "APT::Install-Recommends=" + ("yes" if p.install_recommends else "no")]
    argv += [flag for flag, on in (
        ("--allow-unauthenticated", p.allow_unauthenticated and install),
        ("--allow-downgrades", p.allow_downgrade and install),
        ("--allow-change-held-packages", p.allow_change_held_packages and action != "autoremove"),
    ) if on]
    return argv + [action] + list(packages)


def check_param(name: str, value) -> None:
    """States only Ansible's apt has: the task runs Ansible's module code."""
    if name == "state" and value in ("build-dep", "fixed"):
        raise AnsibleOnly(f"state {value} is not fleet's")


def check(p: Params) -> None:
    """Something to do, and package specs apt can read."""
    specs, update = parse_specs(p.name), bool(p.update_cache or p.cache_valid_time)
    if not specs and not update and not p.autoremove:
        raise ModuleFailure("one of the following is required: name, update_cache, autoremove")


def observe(p: Params, host) -> dict:
    specs, update = parse_specs(p.name), bool(p.update_cache or p.cache_valid_time)
    mtime = cache_mtime()
    cur: dict = {"cache_update_time": int(mtime), "plan": [], "manual": []}
    # the call's start, not now: the observation after an update must find the cache fresh
    refresh_due = update and not cache_is_valid(mtime, p.cache_valid_time, host.started)
    if update:
        cur[CACHE] = "stale" if refresh_due else "fresh"
    if specs:
        _observe_packages(p, host, specs, cur, refresh_due)
    elif p.autoremove:
        cur["transaction"] = _simulate(host, apt_command(p, "autoremove", []))
        cur[AUTOREMOVE] = sorted(cur["transaction"]["remove"])
        if cur[AUTOREMOVE]:
            cur["plan"] = [apt_command(p, "autoremove", [])]
    return cur


def _observe_packages(p: Params, host, specs: list, cur: dict, refresh_due: bool) -> None:
    names = [s[0] for s in specs]
    packages = dpkg_status(host, names)
    if p.state == "latest":
        asked = names
    else:  # candidates matter only for what is not installed as asked
        asked = [s[0] for s in specs if p.state == "present"
                 and package_state(s, p, packages.get(s[0]), None) != wanted(s, p.state)]
    policy: dict = {}
    if asked:
        argv = ["apt-cache", "policy"]
        if p.default_release:
            argv += ["-o", "APT::Default-Release=" + p.default_release]
        policy = parse_policy(apt_query(host, argv + asked))
    provided: set = set()
    if any(not (policy_of(policy, n) or {}).get("versions") for n in asked):  # virtual?
        provided = provided_names(host)
    tokens = []
    for spec in specs:
        pol = policy_of(policy, spec[0])
        entry = packages.get(spec[0])
        cur[spec[0]] = package_state(spec, p, entry, pol, spec[0] in provided)
        if cur[spec[0]] != wanted(spec, p.state):
            tokens.append(spec[0] if p.state == "absent" else install_token(spec, pol))
        elif entry and entry["status"] in INSTALLED and p.state != "absent":
            cur["manual"].append(spec[0])
    if tokens:
        cur["plan"] = [apt_command(p, "remove" if p.state == "absent" else "install", tokens)]
        if not refresh_due:  # after an update the candidates may differ: simulated then
            cur["transaction"] = _simulate(host, cur["plan"][0])


def _simulate(host, argv: list) -> dict:
    return parse_simulation(simulate(host, argv))


def desired(p: Params, cur: dict) -> dict:
    want: dict = {}
    if CACHE in cur:
        want[CACHE] = "fresh"
    for spec in parse_specs(p.name):
        want[spec[0]] = wanted(spec, p.state)
    if AUTOREMOVE in cur:
        want[AUTOREMOVE] = []
    return want


def update_cache(p: Params, host) -> None:
    """``apt-get update``, retried with Ansible's exponential backoff."""
    for attempt in range(max(p.update_cache_retries, 1)):
        rc, out, err = host.run(["apt-get", "update", "-q", "-o", RECORD + shlex.quote(STAMP)
                                 + " 2>/dev/null || true"], env=ENV)
        failed = [
            line
            for line in (out + err).splitlines()
            if line.startswith(("W: Failed to fetch", "E: "))
        ]
        if rc == 0 and not failed:  # apt-get update exits 0 when every fetch failed
            return
        err = "\n".join(failed) or err
        if attempt + 1 < p.update_cache_retries:
            jitter = random.randint(0, 1000) / 1000.0
            time.sleep(min(2**attempt, p.update_cache_retry_max_delay) + jitter)
    why = (err or out).strip() or "unknown reason"
    raise ModuleFailure(f"Failed to update apt cache after {p.update_cache_retries} retries: {why}")


def apply(p: Params, host, cur: dict, want: dict, ctx: Outcome) -> None:
    transaction = cur.get("transaction")
    if cur.get(CACHE) == "stale":
        before, lists_before = cache_mtime(), _mtime(LISTS)
        update_cache(p, host)
        if cache_mtime() == before:
            ctx.warn(CACHE, f"apt-get update succeeded but did not touch {STAMP} or {LISTS}")
        # As Ansible on Debian (no stamp of its own): updated when the package lists moved; an
        # update that fetched nothing new is no change (the stamp fleet writes is not one)
        updated = _mtime(LISTS) != lists_before
        ctx.report(cache_updated=updated)
        cur = observe(p, host)
        transaction = cur.get("transaction")
        ctx.changed = updated or bool(cur["plan"]) or bool(cur.get(AUTOREMOVE))
    else:
        ctx.report(cache_updated=False)
    if any((transaction or {}).values()):
        ctx.report(transaction=transaction)
    if cur["plan"]:
        argv = cur["plan"][0]
        with services_held(host):  # in a chroot, package scripts start no daemon
            rc, stdout, stderr = host.run(argv, env=ENV)
        ctx.report(stdout=stdout, stderr=stderr)
        if rc != 0:
            raise ModuleFailure(
                "'{}' failed: {}".format(" ".join(argv), (stderr or stdout).strip())
            )
        if cur["manual"]:  # apt-get marks the packages it was given; these were installed
            rc, _out, stderr = host.run(["apt-mark", "manual"] + cur["manual"], env=ENV)
            if rc != 0:
                raise ModuleFailure("'apt-mark manual' failed: " + stderr.strip())


def result(p: Params, state: dict) -> dict:
    """Ansible's ``cache_updated``/``cache_update_time`` and the transaction of ``state``
    (check mode: an update is due, so Ansible says updated); apply reports what it did and
    apt-get's output instead."""
    data = {
        "cache_updated": state.get(CACHE) == "stale",
        "cache_update_time": state["cache_update_time"],
    }
    if any((state.get("transaction") or {}).values()):
        data["transaction"] = state["transaction"]
    return data
