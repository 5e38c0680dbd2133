"""Gather facts about the host in one quick pass (no subprocess, no third-party code).

Returns ``ansible_facts`` with Ansible's fact names: distribution (name, version, major
version, release, ``os_family``), system, kernel, architecture, hostname/nodename/fqdn/
domain, network (``default_ipv4``/``default_ipv6`` from the routing tables,
``all_ipv4_addresses``/``all_ipv6_addresses`` without loopback, ``interfaces``, ``dns``),
memory, processors, ``service_mgr``, ``pkg_mgr``, ``python``, user, ``env``, ``machine_id``,
virtualization (containers, common hypervisors) and ``date_time``. ``gather_subset`` takes
Ansible's ``all``, ``min``, ``hardware``, ``network``, ``virtual`` and ``!`` negations
(``!all``/``min``: minimal facts only; other names fall under ``min``); ``filter`` keeps
facts matching one of its shell-style patterns (``ansible_`` may be left out).

Differences from Ansible: no per-interface ``ansible_<iface>`` facts, no mounts/devices,
local facts (``fact_path``), SELinux/AppArmor or LSB facts.
"""

from __future__ import annotations

import fcntl
import fnmatch
import ipaddress
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
HYPERVISORS = (
    ("KVM", "kvm"), ("QEMU", "kvm"), ("OpenStack", "openstack"), ("Amazon EC2", "amazon"),
    ("VMware", "VMware"), ("VirtualBox", "virtualbox"), ("Virtual Machine", "VirtualPC"),
    ("Microsoft", "VirtualPC"), ("Xen", "xen"), ("HVM domU", "xen"), ("Parallels", "parallels"),
    ("Google", "kvm"), ("BHYVE", "bhyve"), ("oVirt", "oVirt"), ("RHEV", "RHEV"),
)  # fmt: skip
SIOCGIFADDR, SIOCGIFNETMASK = 0x8915, 0x891B
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
    return {
        "distribution": name,
        "distribution_version": version,
        "distribution_major_version": version.split(".")[0],
        "distribution_release": release or "NA",
        "os_family": family,
    }


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


def _virtual() -> dict:
    cgroup = _read("/proc/1/cgroup")
    environ = _read("/proc/1/environ").split("\0")
    kind = "NA"
    if "/docker" in cgroup or os.path.exists("/.dockerenv") or os.path.exists("/.dockerinit"):
        kind = "docker"
    elif "container=podman" in environ or os.path.exists("/run/.containerenv"):
        kind = "podman"
    elif "container=lxc" in environ or "/lxc/" in cgroup:
        kind = "lxc"
    elif "container=systemd-nspawn" in environ:
        kind = "systemd-nspawn"
    elif os.path.exists("/proc/vz") and not os.path.exists("/proc/bc"):
        kind = "openvz"
    else:
        dmi = " ".join(
            _read("/sys/devices/virtual/dmi/id/" + f) for f in ("product_name", "sys_vendor")
        )
        found = [name for marker, name in HYPERVISORS if marker in dmi]
        if found:
            kind = found[0]
        elif os.path.exists("/proc/xen"):
            kind = "xen"
    return {"virtualization_type": kind, "virtualization_role": "NA" if kind == "NA" else "guest"}


def _hardware() -> dict:
    mem = {}
    for line in _read("/proc/meminfo").splitlines():
        key, _sep, value = line.partition(":")
        if value.strip():
            mem[key] = int(value.split()[0])
    names = (("memtotal", "MemTotal"), ("memfree", "MemFree"), ("swaptotal", "SwapTotal"),
             ("swapfree", "SwapFree"))  # fmt: skip
    facts = {f"{name}_mb": mem.get(key, 0) // 1024 for name, key in names}
    sockets: dict = {}
    siblings: dict = {}
    processors: list = []
    count = 0
    physid = "0"
    for line in _read("/proc/cpuinfo").splitlines():
        key, _sep, value = (s.strip() for s in line.partition(":"))
        if key == "processor":
            count += 1
            processors.append(value)
        elif key in ("vendor_id", "model name"):
            processors.append(value)
        elif key == "physical id":
            physid = value
            sockets.setdefault(physid, 1)
        elif key == "cpu cores":
            sockets[physid] = int(value)
        elif key == "siblings":
            siblings[physid] = int(value)
    cores = next(iter(sockets.values()), 1)
    threads = max(next(iter(siblings.values()), 1) // cores, 1)
    sock_count = len(sockets) or count
    facts.update(
        processor=processors,
        processor_count=sock_count,
        processor_cores=cores,
        processor_threads_per_core=threads,
        processor_vcpus=threads * cores * sock_count if sockets else count,
        processor_nproc=len(os.sched_getaffinity(0)),
    )
    return facts


def _ipv4_of(sock, name: str, request: int):
    try:
        packed = fcntl.ioctl(sock.fileno(), request, struct.pack("256s", name.encode()[:15]))
    except OSError:
        return None
    return socket.inet_ntoa(packed[20:24])


def _iface_info(name: str) -> dict:
    base = f"/sys/class/net/{name}/"
    kind = {"1": "ether", "772": "loopback"}.get(_read(base + "type"), "unknown")
    mtu = _read(base + "mtu")
    info = {"interface": name, "macaddress": _read(base + "address"), "type": kind}
    if mtu.isdigit():
        info["mtu"] = int(mtu)
    return info


def _network() -> dict:
    names = sorted(n for _i, n in socket.if_nameindex())
    facts: dict = {"interfaces": names, "all_ipv4_addresses": [], "all_ipv6_addresses": []}
    default4 = {}
    for line in _read("/proc/net/route").splitlines()[1:]:
        fields = line.split()
        if len(fields) > 7 and fields[1] == "00000000" and fields[7] == "00000000":
            gateway = socket.inet_ntoa(struct.pack("<L", int(fields[2], 16)))
            default4 = {"interface": fields[0], "gateway": gateway}
            break
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        for name in names:
            address = _ipv4_of(sock, name, SIOCGIFADDR)
            if address and not address.startswith("127."):
                facts["all_ipv4_addresses"].append(address)
            if default4.get("interface") == name and address:
                netmask = _ipv4_of(sock, name, SIOCGIFNETMASK) or "255.255.255.255"
                net = ipaddress.IPv4Interface(f"{address}/{netmask}").network
                default4.update(_iface_info(name), address=address, alias=name, netmask=netmask)
                default4.update(prefix=str(net.prefixlen), network=str(net.network_address),
                                broadcast=str(net.broadcast_address))  # fmt: skip
    finally:
        sock.close()
    facts["all_ipv4_addresses"] += _secondary_ipv4(facts["all_ipv4_addresses"])
    facts["default_ipv4"] = default4 if "address" in default4 else {}
    six = []
    for line in _read("/proc/net/if_inet6").splitlines():
        fields = line.split()
        if len(fields) == 6:
            address = socket.inet_ntop(socket.AF_INET6, bytes.fromhex(fields[0]))
            six.append((fields[5], address, int(fields[2], 16), int(fields[3], 16)))
            if address != "::1":
                facts["all_ipv6_addresses"].append(address)
    facts["default_ipv6"] = _default_ipv6(six)
    return facts


def _secondary_ipv4(known: list) -> list:
    """Local addresses the per-interface ioctl does not report (secondary addresses)."""
    extra, last = [], ""
    for line in _read("/proc/net/fib_trie").splitlines():
        text = line.strip()
        if text.startswith("|--"):
            last = text[3:].strip()
        elif text == "/32 host LOCAL" and last not in known + extra and not last.startswith("127."):
            extra.append(last)
    return extra


def _default_ipv6(addresses: list) -> dict:
    for line in _read("/proc/net/ipv6_route").splitlines():
        fields = line.split()
        if len(fields) == 10 and fields[0] == "0" * 32 and fields[1] == "00" and fields[9] != "lo":
            name = fields[9]
            found = {"interface": name}
            gateway = socket.inet_ntop(socket.AF_INET6, bytes.fromhex(fields[4]))
            if gateway != "::":
                found["gateway"] = gateway
            for iface, address, prefix, scope in addresses:
                if iface == name and scope == 0:
                    found.update(address=address, prefix=str(prefix), scope="global")
                    found.update(_iface_info(name))
                    return found
    return {}


def _dns() -> dict:
    dns: dict = {}
    for line in _read("/etc/resolv.conf").splitlines():
        fields = line.split()
        if len(fields) > 1 and fields[0] == "nameserver":
            dns.setdefault("nameservers", []).append(fields[1])
        elif len(fields) > 1 and fields[0] in ("domain", "search"):
            dns[fields[0]] = fields[1] if fields[0] == "domain" else fields[1:]
    return dns


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
            "type": platform.python_implementation(),
            "has_sslcontext": True,
        },
        "env": {_text(k): _text(v) for k, v in os.environ.items()},
        "machine_id": _read("/etc/machine-id") or _read("/var/lib/dbus/machine-id"),
        "service_mgr": _service_mgr(),
        "date_time": _date_time(),
        "dns": _dns(),
    }
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
    if "hardware" in groups:
        facts.update(_hardware())
    if "network" in groups:
        facts.update(_network())
    if "virtual" in groups:
        facts.update(_virtual())
    named = {"ansible_" + key: value for key, value in facts.items()}
    patterns = [p.filter] if isinstance(p.filter, str) else list(p.filter or [])
    if patterns and patterns != ["*"]:
        named = {k: v for k, v in named.items() if _keep(k, patterns)}
    return {"ansible_facts": named}
