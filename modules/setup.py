"""Gather facts about the host in one quick pass, without third-party code.

Returns ``ansible_facts`` with Ansible's fact names (one subprocess: ``systemctl --version``
for the ``systemd`` fact under systemd). Minimal subset: distribution (name,
version, major/minor version, release, ``os_family``, ``distribution_file_*``), ``lsb``, system,
kernel, architecture, ``userspace_*``, hostname/nodename/fqdn/domain, ``dns``, ``python``/
``python_version``, user and process ids, ``env``, ``machine_id``, ``service_mgr``, ``pkg_mgr``,
``apparmor``, ``selinux``, ``fips``, ``cmdline``/``proc_cmdline``, SSH host keys, ``is_chroot``,
``date_time`` and ``local`` (``fact_path``'s ``*.fact`` files). ``hardware``: memory
(``memory_mb``), processors, ``flags``, ``mounts``, DMI, ``uptime_seconds``, ``loadavg``
(fleet.agent.facts_hw). ``network``: interfaces and ``ansible_<iface>``, default routes,
addresses (fleet.agent.facts_net). ``virtual``: ``virtualization_*``. ``gather_subset`` takes
Ansible's ``all``, ``min``, ``hardware``, ``network``, ``virtual`` and ``!`` negations (other
names fall under ``min``); ``filter`` keeps facts matching one of its shell-style patterns
(``ansible_`` may be left out).

Differences from Ansible (they need commands): no ``system_capabilities``, ``systemd``,
``devices``/``device_links``, ``lvm``, ``locally_reachable_ips``; executable local facts are not
run; ``gather_timeout`` is accepted (nothing here can hang).
"""

from __future__ import annotations

import fnmatch
import os
import platform
import pwd
import shutil
import socket
import struct
import sys
import time
from dataclasses import dataclass

from fleet.agent.contract import param
from fleet.agent.facts_hw import dmi, hardware, mounts, uptime_and_load, virtual
from fleet.agent.facts_net import dns, network
from fleet.agent.facts_sys import (
    cmdline,
    fips,
    ids,
    is_chroot,
    local_facts,
    lsb,
    security,
    ssh_host_keys,
)

ALIASES: dict = {}
RETURNS_FACTS = True  # its ansible_facts become the host's facts

NAMES = {
    "debian": "Debian", "ubuntu": "Ubuntu", "raspbian": "Raspbian", "linuxmint": "Linux Mint",
    "kali": "Kali", "devuan": "Devuan", "pop": "Pop!_OS", "centos": "CentOS", "rhel": "RedHat",
    "fedora": "Fedora", "rocky": "Rocky", "almalinux": "AlmaLinux", "ol": "OracleLinux",
    "amzn": "Amazon", "cloudlinux": "CloudLinux", "scientific": "Scientific",
    "eurolinux": "EuroLinux", "openeuler": "openEuler", "alpine": "Alpine",
    "arch": "Archlinux", "archarm": "Archlinux", "manjaro": "Manjaro", "gentoo": "Gentoo",
    "opensuse-leap": "openSUSE Leap", "opensuse-tumbleweed": "openSUSE Tumbleweed",
    "opensuse": "openSUSE", "sles": "SLES", "sles_sap": "SLES_SAP", "sled": "SLED",
}  # fmt: skip
FAMILIES = {
    "RedHat": "RedHat RHEL Fedora CentOS Scientific SLC Ascendos CloudLinux PSBM "
    "OracleLinux OVS OEL Amazon Virtuozzo XenServer Alibaba EulerOS openEuler AlmaLinux "
    "Rocky TencentOS EuroLinux",
    "Debian": "Debian Ubuntu Raspbian Neon Linux_Mint SteamOS Devuan Kali Pop!_OS Parrot",
    "Suse": "SuSE SLES SLED openSUSE openSUSE_Tumbleweed SLES_SAP SUSE_LINUX openSUSE_Leap",
    "Archlinux": "Archlinux Antergos Manjaro",
    "Alpine": "Alpine",
    "Gentoo": "Gentoo Funtoo",
}
PKG_MGRS = (
    ("/usr/bin/yum", "yum"), ("/usr/bin/dnf", "dnf"), ("/usr/bin/apt-get", "apt"),
    ("/usr/bin/zypper", "zypper"), ("/usr/sbin/urpmi", "urpmi"), ("/usr/bin/pacman", "pacman"),
    ("/bin/opkg", "opkg"), ("/sbin/apk", "apk"), ("/usr/bin/emerge", "portage"),
    ("/usr/bin/xbps-install", "xbps"), ("/usr/bin/swupd", "swupd"),
)  # fmt: skip
PROC_1_MAP = {"procd": "openwrt_init", "runit-init": "runit", "svscan": "svc",
              "openrc-init": "openrc"}  # fmt: skip
DIST_FILES = {"Debian": ("/etc/os-release", "Debian"), "RedHat": ("/etc/redhat-release", "RedHat"),
              "Alpine": ("/etc/alpine-release", "Alpine"),
              "Archlinux": ("/etc/arch-release", "Archlinux")}
VERSION_KEYS = ("major", "minor", "micro", "releaselevel", "serial")
DATE_FORMATS = {
    "year": "%Y", "month": "%m", "weekday": "%A", "weekday_number": "%w", "weeknumber": "%W",
    "day": "%d", "hour": "%H", "minute": "%M", "second": "%S", "date": "%Y-%m-%d",
    "time": "%H:%M:%S", "iso8601_basic_short": "%Y%m%dT%H%M%S", "tz": "%Z", "tz_offset": "%z",
}  # fmt: skip


@dataclass(frozen=True)
class Params:
    gather_subset: list[str] | str = param(
        "fact groups: all, min, hardware, network, virtual; !NAME leaves one out", "all")
    filter: list[str] | str | None = param(
        "keep only facts matching these shell-style patterns", None)
    gather_timeout: int = param("seconds per fact collector (accepted; fleet reads files only)", 10)
    fact_path: str = param(
        "directory of local facts (*.fact, JSON or INI): ansible_local", "/etc/ansible/facts.d")


def _read(path: str, default: str = "") -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read().strip()
    except OSError:
        return default


def _text(value: str) -> str:
    """Undecodable bytes (kept by Python as surrogates) would break the JSON wire."""
    return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _subsets(spec) -> set:
    items = [s.strip() for s in (spec.split(",") if isinstance(spec, str) else spec)]
    groups = {"hardware", "network", "virtual"}
    wanted = set()
    if not [i for i in items if i and not i.startswith("!")]:
        wanted = set(groups)
    for item in items:
        name = item.lstrip("!")
        if item.startswith("!"):
            wanted -= groups if name == "all" else {name}
        elif name == "all":
            wanted |= groups
        elif name in groups:
            wanted.add(name)
    return wanted


def _os_release() -> dict:
    data = {}
    for line in (_read("/etc/os-release") or _read("/usr/lib/os-release")).splitlines():
        key, sep, value = line.partition("=")
        if sep:
            data[key.strip()] = value.strip().strip("\"'")
    return data


def distribution() -> dict:
    rel = _os_release()
    ident = rel.get("ID", "").lower()
    name = NAMES.get(ident, ident.capitalize() or platform.system())
    version = rel.get("VERSION_ID", "NA")
    release = rel.get("VERSION_CODENAME", "")
    if not release and "(" in rel.get("VERSION", ""):
        release = rel["VERSION"].split("(", 1)[1].rstrip(")").strip()
    if name == "Debian":
        version = _read("/etc/debian_version", version) or version
    elif name == "Alpine":
        version = _read("/etc/alpine-release", version) or version
    family = name
    for fam, members in FAMILIES.items():
        if name.replace(" ", "_") in members.split():
            family = fam
    facts = {
        "distribution": name,
        "distribution_version": version,
        "distribution_major_version": version.split(".")[0],
        "distribution_release": release or "NA",
        "os_family": family,
    }
    if "." in version:
        facts["distribution_minor_version"] = version.split(".")[1]
    source = DIST_FILES.get(family)
    if source and os.path.exists(source[0]):
        facts.update(distribution_file_path=source[0], distribution_file_variety=source[1],
                     distribution_file_parsed=True)
    return facts


def _pkg_mgr(dist: dict) -> str:
    found = "unknown"
    for path, name in PKG_MGRS:
        if os.path.exists(path):
            found = name
    if dist["os_family"] == "RedHat":
        major = dist["distribution_major_version"]
        newer = dist["distribution"] == "Fedora" or (major.isdigit() and int(major) >= 8)
        if os.path.exists("/usr/bin/dnf5") and dist["distribution"] == "Fedora":
            found = "dnf5"
        elif newer and os.path.exists("/usr/bin/dnf"):
            found = "dnf"
        elif os.path.exists("/usr/bin/yum"):
            found = "yum"
    elif dist["os_family"] == "Debian" and os.path.exists("/usr/bin/apt-get"):
        found = "apt"
    return found


def _service_mgr() -> str:
    proc_1 = os.path.basename(_read("/proc/1/comm")) or None
    if proc_1 is None and os.path.islink("/sbin/init"):
        proc_1 = os.path.basename(os.readlink("/sbin/init"))
    if proc_1 is not None and (proc_1 == "init" or proc_1.endswith("sh")):
        proc_1 = None
    if proc_1 is not None:
        return PROC_1_MAP.get(proc_1, proc_1)
    canaries = ("/run/systemd/system/", "/dev/.run/systemd/", "/dev/.systemd/")
    if shutil.which("systemctl") and any(os.path.exists(c) for c in canaries):
        return "systemd"
    if os.path.exists("/sbin/openrc"):
        return "openrc"
    if os.path.islink("/sbin/init") and os.path.basename(os.readlink("/sbin/init")) == "systemd":
        return "systemd"
    if os.path.exists("/etc/init.d/"):
        return "sysvinit"
    return "service"


def _systemd(host) -> dict:
    """Ansible's ``systemd`` fact: the version and the feature line of ``systemctl --version``."""
    rc, out, _err = host.query(["systemctl", "--version"])
    lines = out.split("\n")
    words = lines[0].split(" ")
    if rc != 0 or len(lines) < 2 or len(words) < 2 or not words[1].isdigit():
        return {}
    return {"systemd": {"features": lines[1], "version": int(words[1])}}


def _date_time() -> dict:
    now = time.time()
    local = time.localtime(now)
    micro = int((now - int(now)) * 1e6)
    facts = {key: time.strftime(fmt, local) for key, fmt in DATE_FORMATS.items()}
    utc = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now))
    facts.update(
        epoch=str(int(now)),
        epoch_int=str(int(now)),
        iso8601=utc + "Z",
        iso8601_micro=f"{utc}.{micro:06d}Z",
        iso8601_basic=facts["iso8601_basic_short"] + f"{micro:06d}",
        tz_dst=time.tzname[1],
    )
    return facts


def _minimal() -> dict:
    uname = platform.uname()
    fqdn = socket.getfqdn()
    facts = {
        "system": uname.system,
        "kernel": uname.release,
        "kernel_version": uname.version,
        "machine": uname.machine,
        "architecture": uname.machine,
        "nodename": uname.node,
        "hostname": uname.node.split(".")[0],
        "fqdn": fqdn,
        "domain": ".".join(fqdn.split(".")[1:]),
        "userspace_bits": str(struct.calcsize("P") * 8),
        "python_version": platform.python_version(),
        "python": {
            "executable": sys.executable,
            "version": dict(zip(VERSION_KEYS, sys.version_info)),
            "version_info": list(sys.version_info),
            "type": sys.implementation.name,
            "has_sslcontext": True,
        },
        "env": {_text(k): _text(v) for k, v in os.environ.items()},
        "machine_id": _read("/etc/machine-id") or _read("/var/lib/dbus/machine-id"),
        "service_mgr": _service_mgr(),
        "date_time": _date_time(),
        "dns": dns(),
        "fips": fips(),
        "is_chroot": is_chroot(),
    }
    for part in (security(), cmdline(), ssh_host_keys(), ids()):
        facts.update(part)
    bits = facts["userspace_bits"]
    i386 = uname.machine == "x86_64" and bits == "32"
    facts["userspace_architecture"] = "i386" if i386 else uname.machine
    uid = os.getuid()
    try:
        entry = pwd.getpwuid(uid)
        facts.update(user_id=entry.pw_name, user_dir=entry.pw_dir, user_shell=entry.pw_shell,
                     user_gecos=entry.pw_gecos)  # fmt: skip
    except KeyError:
        facts["user_id"] = str(uid)
    facts.update(user_uid=uid, user_gid=os.getgid())
    dist = distribution()
    facts.update(dist)
    facts["pkg_mgr"] = _pkg_mgr(dist)
    facts["lsb"] = lsb(_os_release(), dist["distribution"])
    return facts


def _keep(name: str, patterns: list) -> bool:
    for pattern in patterns:
        if not pattern or fnmatch.fnmatch(name, pattern):
            return True
        prefixed = not pattern.startswith(("ansible_", "facter", "ohai"))
        if prefixed and fnmatch.fnmatch(name, "ansible_" + pattern):
            return True
    return False


def observe(p: Params, host) -> dict:
    groups = _subsets(p.gather_subset)
    facts = _minimal()
    facts["local"] = local_facts(p.fact_path)
    if facts["service_mgr"] == "systemd" and shutil.which("systemctl"):
        facts.update(_systemd(host))
    if "hardware" in groups:
        for part in (hardware(), dmi(), uptime_and_load()):
            facts.update(part)
        facts["mounts"] = mounts()
    if "network" in groups:
        facts.update(network())
    if "virtual" in groups:
        facts.update(virtual())
    named = {"ansible_" + key: value for key, value in facts.items()}
    subset = [p.gather_subset] if isinstance(p.gather_subset, str) else list(p.gather_subset)
    named.update(gather_subset=subset, module_setup=True)  # unprefixed, as Ansible returns them
    patterns = [p.filter] if isinstance(p.filter, str) else list(p.filter or [])
    if patterns and patterns != ["*"]:
        named = {k: v for k, v in named.items() if _keep(k, patterns)}
    return {"ansible_facts": named}
