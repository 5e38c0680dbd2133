"""Install, upgrade or remove packages with the host's own package manager: apt, dnf or apk.

Behaves like ``ansible.builtin.package`` with ``name``, ``state`` and ``use``:

* ``use: auto`` (the default) picks the manager on the host itself (modules get no facts):
  ``apt`` when ``apt-get`` is installed, else ``dnf``, else ``apk`` (looked up in the
  usual ``bin``/``sbin`` directories). ``use: apt|dnf|apk`` forces one.
* ``name``: a list (or comma-separated text) of packages, passed on as the manager spells
  them. ``state``: ``present``, ``latest`` or ``absent``; ``installed``/``removed`` mean
  ``present``/``absent`` for dnf and apk, and are refused for apt, whose module refuses them.
* apt: as the ``apt`` module with its defaults (see ``fleet modules apt``): ``dpkg-query``
  and ``apt-cache policy`` observe, ``name=VERSION`` pins (wildcards allowed), virtual
  packages provided by an installed one are present, ``apt-get -s`` checks the change
  first (``No package matching 'x' is available``), then **one** ``apt-get -y -q ... install``
  (or ``remove``) call with ``DEBIAN_FRONTEND=noninteractive`` and
  ``--force-confdef``/``--force-confold``; listed packages already installed are marked
  manual.
* dnf: ``rpm -q`` observes what is installed and ``dnf -q -C check-update`` (the metadata
  cache only: observing downloads nothing) what ``latest`` would upgrade; then
  ``dnf -y install`` (missing), ``dnf -y upgrade`` (outdated) or ``dnf -y remove``.
  Without a metadata cache updates are unknown: ``latest`` then runs the upgrade, reported
  as ``installed (updates unknown)``.
* apk: ``apk info -e`` observes, ``apk version -l '<'`` finds upgrades; then ``apk add``
  (``--upgrade`` for ``latest``, as Ansible's apk module) or ``apk del --purge``.
* ``--diff`` shows each package's state (``tree: 'absent' → 'present'``); check mode runs
  nothing but the read-only queries. Returns ``manager`` and, when it ran, the manager's
  ``stdout``/``stderr``.

Differences from Ansible: only these three managers (``yum``-only hosts are refused); other
parameters of the manager modules are not passed through (use ``apt`` for
``update_cache``, ``purge``...); ``name>=VERSION`` is refused for apt; the apt path returns
no ``cache_updated``/``transaction``; apk counts a package installed as a dependency as
present (Ansible's apk module adds it to ``/etc/apk/world``). This module repeats the apt
module's logic in small (modules are single files sent alone to the host): the unit tests
check that both build the same apt-get command.
"""

from __future__ import annotations

import fnmatch
import os
import re
from dataclasses import dataclass
from typing import Literal

from fleet.agent.contract import Outcome, param
from fleet.agent.dpkg import (
    ENV,
    INSTALLED,
    apt_query,
    dpkg_status,
    parse_policy,
    policy_of,
    provided_names,
    simulate,
)
from fleet.agent.hostio import ModuleFailure

ALIASES: dict = {}
BIN_DIRS = ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")
TOOLS = (("apt", "apt-get"), ("dnf", "dnf"), ("apk", "apk"))
APT_GET = ["apt-get", "-y", "-q", "-o", "Dpkg::Options::=--force-confdef",
           "-o", "Dpkg::Options::=--force-confold", "-o", "DPkg::Lock::Timeout=60"]


@dataclass(frozen=True)
class Params:
    name: list[str] | str = param("package name(s)")
    state: Literal["present", "absent", "latest", "installed", "removed"] = param(
        "present/installed, latest, or absent/removed (Ansible documents it as required, but its "
        "package hands the task to apt or dnf, whose default is present)", "present")
    use: Literal["auto", "apt", "dnf", "apk"] = param(
        "package manager: auto (detected), apt, dnf or apk", "auto")


def detect_manager(exists=os.path.exists) -> str | None:
    """The host's package manager: the first of apt-get, dnf, apk found in a bin directory."""
    for manager, tool in TOOLS:
        if any(exists(os.path.join(d, tool)) for d in BIN_DIRS):
            return manager
    return None


def backend_state(manager: str, state: str) -> str:
    """``state`` as the manager's module takes it (apt knows no installed/removed)."""
    if state in ("installed", "removed"):
        if manager == "apt":
            raise ModuleFailure("value of state must be one of: absent, build-dep, fixed, "
                                f"latest, present, got: {state}")
        return "present" if state == "installed" else "absent"
    return state


def parse_names(name) -> list:
    names: list = []
    for item in name.split(",") if isinstance(name, str) else name:
        text = str(item).strip()
        if text.startswith("-"):
            raise ModuleFailure(f"invalid package name: {text}")
        if text and text not in names:
            names.append(text)
    if not names:
        raise ModuleFailure("name must name at least one package")
    return names


def simple_state(name: str, state: str, installed: set, outdated: set) -> str:
    """What dnf and apk observe, in the words of ``state`` when nothing is to be done."""
    if state == "absent":
        return "installed" if name in installed else "absent"
    if name not in installed:
        return "absent"
    if state == "latest" and ("*" in outdated or name in outdated):
        return "installed (updates unknown)" if "*" in outdated else "installed, update available"
    return state


# -- dnf -------------------------------------------------------------------------------


def parse_rpm_q(text: str, names: list) -> set:
    """``rpm -q NAMES``: every name without a ``package NAME is not installed`` line."""
    missing = set(re.findall(r"^package (\S+) is not installed$", text, re.M))
    return {n for n in names if n not in missing}


def parse_dnf_check_update(text: str) -> set:
    """``dnf check-update`` (rc 100): the names of the packages with an update."""
    found = set()
    for line in text.splitlines():
        if line.startswith("Obsoleting"):
            break
        parts = line.split()
        if len(parts) == 3 and "." in parts[0] and re.match(r"^\d|^\w+:\d", parts[1]):
            found.add(parts[0].rsplit(".", 1)[0])
    return found


def dnf_plan(state: str, names: list, installed: set, outdated: set) -> list:
    if state == "absent":
        gone = [n for n in names if n in installed]
        return [["dnf", "-y", "remove"] + gone] if gone else []
    missing = [n for n in names if n not in installed]
    stale = [n for n in names if n in installed and ("*" in outdated or n in outdated)]
    plan = [["dnf", "-y", "install"] + missing] if missing else []
    if state == "latest" and stale:
        plan.append(["dnf", "-y", "upgrade"] + stale)
    return plan


def _observe_dnf(host, state: str, names: list) -> tuple:
    _rc, out, _err = host.query(["rpm", "-q"] + names, env=ENV)
    installed = parse_rpm_q(out, names)
    outdated: set = set()
    if state == "latest" and installed:
        rc, out, _err = host.query(["dnf", "-q", "-C", "check-update"] + sorted(installed), env=ENV)
        outdated = parse_dnf_check_update(out) if rc in (0, 100) else {"*"}
    return installed, outdated, dnf_plan(state, names, installed, outdated)


# -- apk -------------------------------------------------------------------------------


def parse_apk_version(text: str) -> set:
    """``apk version -l '<' NAMES``: the names whose installed version is older."""
    found = set()
    for line in text.splitlines():
        match = re.match(r"^(\S+)-[0-9][^-\s]*-r\d+\s+<", line)
        if match:
            found.add(match.group(1))
    return found


def apk_plan(state: str, names: list, installed: set, outdated: set) -> list:
    if state == "absent":
        gone = [n for n in names if n in installed]
        return [["apk", "del", "--purge"] + gone] if gone else []
    todo = [n for n in names if n not in installed or (state == "latest" and n in outdated)]
    if not todo:
        return []
    return [["apk", "add", "--upgrade"] + todo] if state == "latest" else [["apk", "add"] + todo]


def _observe_apk(host, state: str, names: list) -> tuple:
    _rc, out, _err = host.query(["apk", "info", "-e"] + names, env=ENV)
    installed = set(out.split()) & set(names)
    outdated: set = set()
    if state == "latest" and installed:
        _rc, out, _err = host.query(["apk", "version", "-l", "<"] + sorted(installed), env=ENV)
        outdated = parse_apk_version(out)
    return installed, outdated, apk_plan(state, names, installed, outdated)


# -- apt (the apt module's logic, in small) --------------------------------------------


def apt_spec(text: str) -> tuple:
    name, _sep, version = text.partition("=")
    if name.endswith(">") or version.count("="):
        raise ModuleFailure(f"package spec {text} is not supported here: use the apt module")
    return name, version


def apt_wanted(spec: tuple, state: str) -> str:
    return f"={spec[1]}" if spec[1] and state == "present" else state


def apt_state(spec: tuple, state: str, entry: dict | None, policy: dict | None,
              provided: bool) -> tuple:
    """``(observed word, apt-get token)``: the word is :func:`apt_wanted` when all is done."""
    name, pin = spec
    installed = entry is not None and entry["status"] in INSTALLED
    version = entry["version"] if entry is not None and installed else ""
    best = None
    if policy and pin:  # the newest version matching the pin, as apt's pin would pick
        best = next((v for v in policy["versions"] if fnmatch.fnmatch(v, pin)), None)
    elif policy:
        best = policy["candidate"]
    token = f"{name}={best or pin}" if best or pin else name
    if state == "absent":
        matching = installed and (not pin or fnmatch.fnmatch(version, pin))
        return (f"installed {version}" if matching else "absent"), name
    if not installed:
        if provided and not pin:
            return apt_wanted(spec, state), token
        status = entry["status"] if entry is not None else "not-installed"
        return ("absent" if status == "not-installed" else status), token
    if pin and not fnmatch.fnmatch(version, pin):
        return f"installed {version}", token
    if state == "latest" and best and best != version:
        return f"installed {version}, candidate {best}", token
    return apt_wanted(spec, state), token


def _observe_apt(host, state: str, names: list, cur: dict) -> list:
    specs = [apt_spec(n) for n in names]
    packages = dpkg_status(host, [s[0] for s in specs])
    asked = (
        []
        if state == "absent"
        else [
            s[0]
            for s in specs
            if state == "latest"
            or apt_state(s, state, packages.get(s[0]), None, False)[0] != apt_wanted(s, state)
        ]
    )
    policy = parse_policy(apt_query(host, ["apt-cache", "policy"] + asked)) if asked else {}
    provided: set = set()
    if any(not (policy_of(policy, n) or {}).get("versions") for n in asked):
        provided = provided_names(host)
    tokens = []
    for spec in specs:
        entry = packages.get(spec[0])
        pol = policy_of(policy, spec[0])
        cur[spec[0]], token = apt_state(spec, state, entry, pol, spec[0] in provided)
        if cur[spec[0]] != apt_wanted(spec, state):
            tokens.append(token)
        elif entry and entry["status"] in INSTALLED and state != "absent":
            cur["manual"].append(spec[0])
    if not tokens:
        return []
    plan = [APT_GET + ["remove" if state == "absent" else "install"] + tokens]
    simulate(host, plan[0])
    return plan


# -- state module ------------------------------------------------------------------------


def observe(p: Params, host) -> dict:
    manager = detect_manager() if p.use == "auto" else p.use
    if manager is None:
        raise ModuleFailure("no supported package manager found (apt-get, dnf or apk)")
    state, names = backend_state(manager, p.state), parse_names(p.name)
    cur: dict = {"manager": manager, "manual": []}
    if manager == "apt":
        cur["plan"] = _observe_apt(host, state, names, cur)
        return cur
    observe_other = _observe_dnf if manager == "dnf" else _observe_apk
    installed, outdated, cur["plan"] = observe_other(host, state, names)
    for name in names:
        cur[name] = simple_state(name, state, installed, outdated)
    return cur


def desired(p: Params, cur: dict) -> dict:
    state, names = backend_state(cur["manager"], p.state), parse_names(p.name)
    if cur["manager"] == "apt":
        return {spec[0]: apt_wanted(spec, state) for spec in map(apt_spec, names)}
    return {name: state for name in names}


def apply(p: Params, host, cur: dict, want: dict, ctx: Outcome) -> None:
    out: list = []
    err: list = []
    for argv in cur["plan"]:
        rc, stdout, stderr = host.run(argv, env=ENV)
        out.append(stdout)
        err.append(stderr)
        if rc != 0:
            raise ModuleFailure(
                "'{}' failed: {}".format(" ".join(argv), (stderr or stdout).strip())
            )
    if cur["manual"] and cur["plan"]:
        rc, _out, stderr = host.run(["apt-mark", "manual"] + cur["manual"], env=ENV)
        if rc != 0:
            raise ModuleFailure("'apt-mark manual' failed: " + stderr.strip())
    ctx.report(stdout="".join(out), stderr="".join(err))


def result(p: Params, state: dict) -> dict:
    """``manager`` (apply adds the manager's ``stdout``/``stderr``)."""
    return {"manager": state["manager"]}
