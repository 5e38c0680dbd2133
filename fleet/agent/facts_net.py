"""Network facts as Ansible's Linux collector names them, read without running a command.

``interfaces`` (in the kernel's index order), ``ansible_<iface>`` per interface (``device``,
``active``, ``type``, ``macaddress``, ``mtu``, ``promisc``, ``speed``, ``module``, ``ipv4``,
``ipv4_secondaries``, ``ipv6``), ``default_ipv4``/``default_ipv6`` from the routing tables,
``all_ipv4_addresses``/``all_ipv6_addresses`` (no loopback) and ``dns`` from resolv.conf.
Stdlib only, Python >= 3.8.
"""

from __future__ import annotations

import fcntl
import ipaddress
import os
import socket
import struct

SIOCGIFADDR, SIOCGIFNETMASK = 0x8915, 0x891B
IFF_UP, IFF_PROMISC = 0x1, 0x100
SCOPES = {0: "global", 0x10: "host", 0x20: "link", 0x40: "site"}
TYPES = {"1": "ether", "772": "loopback", "768": "tunnel", "776": "tunnel6", "65534": "unknown"}


def read(path: str, default: str = "") -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read().strip()
    except OSError:
        return default


def _ipv4_of(sock, name: str, request: int):
    try:
        packed = fcntl.ioctl(sock.fileno(), request, struct.pack("256s", name.encode()[:15]))
    except OSError:
        return None
    return socket.inet_ntoa(packed[20:24])


def _iface(name: str) -> dict:
    """What ``/sys/class/net/NAME`` says about one interface, with Ansible's keys."""
    base = f"/sys/class/net/{name}/"
    info: dict = {"device": name}
    info["type"] = TYPES.get(read(base + "type"), "unknown")
    if os.path.isdir(base + "bridge"):
        info["type"] = "bridge"
    elif os.path.isdir(base + "bonding"):
        info["type"] = "bonding"
    mac = read(base + "address")
    if mac and info["type"] != "loopback":
        info["macaddress"] = mac
    mtu = read(base + "mtu")
    if mtu.isdigit():
        info["mtu"] = int(mtu)
    flags = read(base + "flags")
    if flags.startswith("0x"):
        info["active"] = bool(int(flags, 16) & IFF_UP)
        info["promisc"] = bool(int(flags, 16) & IFF_PROMISC)
    speed = read(base + "speed")
    if speed.lstrip("-").isdigit() and int(speed) > 0:
        info["speed"] = int(speed)
    driver = base + "device/driver/module"
    if os.path.islink(driver):
        info["module"] = os.path.basename(os.readlink(driver))
    return info


def _ipv4_info(address: str, netmask: str) -> dict:
    net = ipaddress.IPv4Interface(f"{address}/{netmask}").network
    broadcast = "" if address.startswith("127.") else str(net.broadcast_address)
    return {"address": address, "broadcast": broadcast, "netmask": netmask,
            "network": str(net.network_address), "prefix": str(net.prefixlen)}


def _ipv6_addresses() -> list:
    found = []
    for line in read("/proc/net/if_inet6").splitlines():
        fields = line.split()
        if len(fields) == 6:
            address = socket.inet_ntop(socket.AF_INET6, bytes.fromhex(fields[0]))
            found.append((fields[5], address, int(fields[2], 16), int(fields[3], 16)))
    return found


def network() -> dict:
    """The network facts (see the module doc), keyed by Ansible's names without ``ansible_``."""
    names = [n for _i, n in sorted(socket.if_nameindex())]
    facts: dict = {"interfaces": names, "all_ipv4_addresses": [], "all_ipv6_addresses": []}
    six = _ipv6_addresses()
    default4 = _default_ipv4_route()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        for name in names:
            info = _iface(name)
            address = _ipv4_of(sock, name, SIOCGIFADDR)
            if address:
                netmask = _ipv4_of(sock, name, SIOCGIFNETMASK) or "255.255.255.255"
                info["ipv4"] = _ipv4_info(address, netmask)
                if not address.startswith("127."):
                    facts["all_ipv4_addresses"].append(address)
                if default4.get("interface") == name:
                    default4.update(info["ipv4"], alias=name)
                    default4.update({k: info[k] for k in ("macaddress", "mtu", "type") if k in info})
            own6 = [{"address": a, "prefix": str(p), "scope": SCOPES.get(s, str(s))}
                    for iface, a, p, s in six if iface == name]
            if own6:
                info["ipv6"] = own6
            facts[name.replace("-", "_").replace(":", "_").replace(".", "_")] = info
    finally:
        sock.close()
    facts["all_ipv4_addresses"] += _secondary_ipv4(facts["all_ipv4_addresses"])
    facts["all_ipv6_addresses"] = [a for _n, a, _p, _s in six if a != "::1"]
    facts["default_ipv4"] = default4 if "address" in default4 else {}
    facts["default_ipv6"] = _default_ipv6(six, facts)
    facts["dns"] = dns()
    return facts


def _default_ipv4_route() -> dict:
    for line in read("/proc/net/route").splitlines()[1:]:
        fields = line.split()
        if len(fields) > 7 and fields[1] == "00000000" and fields[7] == "00000000":
            gateway = socket.inet_ntoa(struct.pack("<L", int(fields[2], 16)))
            return {"interface": fields[0], "gateway": gateway}
    return {}


def _secondary_ipv4(known: list) -> list:
    """Local addresses the per-interface ioctl does not report (secondary addresses)."""
    extra: list = []
    last = ""
    for line in read("/proc/net/fib_trie").splitlines():
        text = line.strip()
        if text.startswith("|--"):
            last = text[3:].strip()
        elif text == "/32 host LOCAL" and last not in known + extra and not last.startswith("127."):
            extra.append(last)
    return extra


def _default_ipv6(addresses: list, facts: dict) -> dict:
    for line in read("/proc/net/ipv6_route").splitlines():
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
                    info = facts.get(name.replace("-", "_").replace(":", "_").replace(".", "_"), {})
                    found.update({k: info[k] for k in ("macaddress", "mtu", "type") if k in info})
                    return found
    return {}


def dns() -> dict:
    """``/etc/resolv.conf``: nameservers, domain, search, sortlist and options, as Ansible."""
    found: dict = {}
    for line in read("/etc/resolv.conf").splitlines():
        fields = line.split()
        if len(fields) < 2 or fields[0].startswith(("#", ";")):
            continue
        if fields[0] == "nameserver":
            found.setdefault("nameservers", []).append(fields[1])
        elif fields[0] == "domain":
            found["domain"] = fields[1]
        elif fields[0] in ("search", "sortlist"):
            found[fields[0]] = fields[1:]
        elif fields[0] == "options":
            options = found.setdefault("options", {})
            for option in fields[1:]:
                key, sep, value = option.partition(":")
                options[key] = value if sep else True
    return found
