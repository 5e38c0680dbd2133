"""Reading dpkg and apt on a Debian host: one parser for the ``apt`` and ``package`` modules.

Queries only (``dpkg-query``, ``apt-cache policy``, ``apt-get -s``): observing never
changes the host. Versions compare in dpkg's order (:func:`compare_versions`).
"""

from __future__ import annotations

import itertools
import re

from fleet.agent.errors import ModuleFailure

ENV = {"DEBIAN_FRONTEND": "noninteractive", "DEBIAN_PRIORITY": "critical", "LC_ALL": "C",
       "LANG": "C", "LANGUAGE": "C"}
DPKG_FORMAT = "${Package}\t${Architecture}\t${Status}\t${Version}\t${Provides}\n"
INSTALLED = ("installed", "triggers-awaited", "triggers-pending")


def apt_query(host, argv: list, ok=(0,)) -> str:
    """Run a read-only apt/dpkg command; its stdout, or ModuleFailure naming it."""
    rc, out, err = host.query(argv, env=ENV)
    if rc not in ok:
        raise ModuleFailure("'{}' failed: {}".format(" ".join(argv), (err or out).strip()))
    return out


def parse_dpkg(text: str) -> dict:
    """``dpkg-query -W -f=DPKG_FORMAT`` output: ``{name and name:arch: entry}``; an installed
    entry wins the plain name. ``provides`` are names (a ``:arch`` qualifier and a version
    dropped: ``foo:any (= 1)`` provides ``foo``)."""
    found: dict = {}
    for line in text.splitlines():
        parts = line.split("\t")
        if len(parts) < 4:
            continue
        name, arch, status, version = parts[:4]
        provides = parts[4].split(",") if len(parts) > 4 else []
        entry = {"status": (status.split() or ["not-installed"])[-1], "version": version,
                 "provides": [p.split()[0].split(":")[0] for p in provides if p.strip()]}
        found[f"{name}:{arch}"] = entry
        if name not in found or found[name]["status"] not in INSTALLED:
            found[name] = entry
    return found


def dpkg_status(host, names: list) -> dict:
    """:func:`parse_dpkg` of these packages (unknown ones are simply missing)."""
    return parse_dpkg(apt_query(host, ["dpkg-query", "-W", "-f=" + DPKG_FORMAT] + names, (0, 1)))


def provided_names(host) -> set:
    """Every name an installed package provides (a virtual package counts as present)."""
    every = parse_dpkg(apt_query(host, ["dpkg-query", "-W", "-f=" + DPKG_FORMAT]))
    return {v for e in every.values() if e["status"] in INSTALLED for v in e["provides"]}


def parse_policy(text: str) -> dict:
    """``apt-cache policy NAMES``: ``{name: {installed, candidate, versions (newest first)}}``."""
    found: dict = {}
    entry: dict | None = None
    for line in text.splitlines():
        if line and not line[0].isspace() and line.endswith(":"):
            entry = found[line[:-1]] = {"installed": None, "candidate": None, "versions": []}
            continue
        if entry is None:
            continue
        key, _sep, value = line.strip().partition(": ")
        if key in ("Installed", "Candidate"):
            entry[key.lower()] = None if value == "(none)" else value
            continue
        match = re.match(r"^ (?:\*\*\*|   ) (\S+) (-?\d+)\s*$", line)
        if match:
            entry["versions"].append(match.group(1))
    return found


def policy_of(policy: dict, name: str) -> dict | None:
    """The policy entry of ``name``; apt-cache shows ``libc6:amd64`` as ``libc6``."""
    return policy.get(name) or policy.get(name.split(":")[0])


def simulate(host, argv: list) -> str:
    """``apt-get -s`` of an ``apt-get ...`` argv: its output, or why apt-get would fail."""
    # apt-get logs the solver's input even when it only simulates (/var/log/apt/eipp.log.xz):
    # an observation writes nothing
    rc, out, err = host.query(argv[:1] + ["-s", "-o", "Dir::Log::Planner=/dev/null"] + argv[1:], env=ENV)
    if rc != 0:
        missing = re.search(r"Unable to locate package (\S+)", err)
        if missing:
            raise ModuleFailure(f"No package matching '{missing.group(1)}' is available")
        raise ModuleFailure("apt-get would fail: " + (err or out).strip())
    return out


def _order(c: str) -> int:
    if c.isalpha():
        return ord(c)
    return -1 if c == "~" else ord(c) + 256 if c else 0


def _verrevcmp(a: str, b: str) -> int:
    """dpkg's comparison of two upstream versions (or revisions)."""
    parts_a, parts_b = re.findall(r"(\D*)(\d*)", a), re.findall(r"(\D*)(\d*)", b)
    for i in range(max(len(parts_a), len(parts_b))):
        text_a, num_a = parts_a[i] if i < len(parts_a) else ("", "")
        text_b, num_b = parts_b[i] if i < len(parts_b) else ("", "")
        for ca, cb in itertools.zip_longest(text_a, text_b, fillvalue=""):
            if _order(ca) != _order(cb):
                return _order(ca) - _order(cb)
        if int(num_a or 0) != int(num_b or 0):
            return int(num_a or 0) - int(num_b or 0)
    return 0


def compare_versions(a: str, b: str) -> int:
    """dpkg's version order: negative, zero or positive as ``a`` is older, equal or newer."""

    def split(v: str) -> tuple:
        epoch, sep, rest = v.partition(":")
        if not sep:
            epoch, rest = "0", v
        upstream, sep, revision = rest.rpartition("-")
        return (int(epoch or 0), upstream, revision) if sep else (int(epoch or 0), rest, "")

    ea, ua, ra = split(a)
    eb, ub, rb = split(b)
    if ea != eb:
        return ea - eb
    return _verrevcmp(ua, ub) or _verrevcmp(ra, rb)
