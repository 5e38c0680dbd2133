"""Collection filters roles use most, native: ``json_query`` (jmespath, as community.general)
and the ``ipaddr`` family (netaddr, as ansible.utils), each under its short name and its FQCN.

The ipaddr family covers the queries roles use (see README); a query it does not know is an
error naming it, never a silent wrong answer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

import netaddr

from fleet.errors import TemplateError
from fleet.templating.unsafe import unwrap


def json_query(data: Any, expr: Any) -> Any:
    """The JMESPath query ``expr`` over ``data``."""
    import jmespath  # imported on first use

    try:
        return jmespath.search(str(expr), unwrap(data))
    except jmespath.exceptions.JMESPathError as exc:
        raise TemplateError(f"JMESPathError in json_query filter plugin:\n{exc}") from None


def _parse(value: Any) -> tuple[netaddr.IPNetwork, str] | None:
    """``(network, 'address'|'network')`` for an address, a CIDR or an integer; None if not one."""
    text = str(value)
    try:
        if text.isdigit():
            number = int(text)
            bits = 32 if number < 2 ** 32 else 128
            return netaddr.IPNetwork((number, bits), version=4 if bits == 32 else 6), "address"
        return netaddr.IPNetwork(text), "network" if "/" in text else "address"
    except (netaddr.AddrFormatError, ValueError, TypeError):
        return None


def _usable(net: netaddr.IPNetwork) -> tuple[int, int] | None:
    if net.size <= 1:
        return None
    if net.version == 4 and net.size > 2:
        return net.first + 1, net.last - 1
    return net.first, net.last


def _address(version: int, number: int) -> str:
    return str(netaddr.IPAddress(number, version))


def _global(ip: netaddr.IPAddress) -> bool:
    return bool(ip.is_global()) if hasattr(ip, "is_global") else not ip.is_reserved()


_QUERIES: Mapping[str, Callable[[netaddr.IPNetwork, str, str], Any]] = MappingProxyType({
    "": lambda v, kind, raw: str(v.ip) if kind == "address" else str(v),
    "address": lambda v, kind, raw: str(v.ip) if v.size == 1 or v.ip != v.network or v.size == 2 or v.version == 6
    else None,
    "ip": lambda v, kind, raw: str(v.ip),
    "host": lambda v, kind, raw: f"{v.ip}/{v.prefixlen}" if v.size == 1 or v.ip != v.network or v.size == 2
    else None,
    "host/prefix": lambda v, kind, raw: f"{v.ip}/{v.prefixlen}" if v.ip != v.network or v.size <= 2 else False,
    "address/prefix": lambda v, kind, raw: f"{v.ip}/{v.prefixlen}" if v.ip != v.network or v.size <= 2 else False,
    "ip/prefix": lambda v, kind, raw: f"{v.ip}/{v.prefixlen}" if v.ip != v.network or v.size <= 2 else None,
    "network": lambda v, kind, raw: str(v.network),
    "network_id": lambda v, kind, raw: str(v.network),
    "subnet": lambda v, kind, raw: str(v.cidr),
    "network/prefix": lambda v, kind, raw: str(v.cidr),
    "cidr": lambda v, kind, raw: str(v),
    "net": lambda v, kind, raw: str(v.cidr) if v.size > 1 and v.ip == v.network else None,
    "netmask": lambda v, kind, raw: str(v.netmask),
    "hostmask": lambda v, kind, raw: str(v.hostmask),
    "wildcard": lambda v, kind, raw: str(v.hostmask),
    "network_netmask": lambda v, kind, raw: f"{v.network} {v.netmask}",
    "ip_netmask": lambda v, kind, raw: f"{v.ip} {v.netmask}",
    "prefix": lambda v, kind, raw: int(v.prefixlen),
    "broadcast": lambda v, kind, raw: str(v.broadcast) if v.version == 4 and v.size > 2 else None,
    "size": lambda v, kind, raw: int(v.size),
    "size_usable": lambda v, kind, raw: 0 if v.size <= 1 else (v.size - 2 if v.version == 4 and v.size > 2
                                                                 else v.size),
    "version": lambda v, kind, raw: int(v.version),
    "int": lambda v, kind, raw: int(v.ip) if kind == "address" else f"{int(v.ip)}/{int(v.prefixlen)}",
    "revdns": lambda v, kind, raw: v.ip.reverse_dns,
    "bool": lambda v, kind, raw: True,
    "private": lambda v, kind, raw: None if _global(v.ip) else raw,
    "public": lambda v, kind, raw: raw if v.ip.is_unicast() and _global(v.ip) and not v.ip.is_loopback()
    and not v.ip.is_netmask() and not v.ip.is_hostmask() else None,
    "loopback": lambda v, kind, raw: raw if v.ip.is_loopback() else None,
    "lo": lambda v, kind, raw: raw if v.ip.is_loopback() else None,
    "multicast": lambda v, kind, raw: raw if v.is_multicast() else None,
    "unicast": lambda v, kind, raw: raw if v.is_unicast() else None,
    "link-local": lambda v, kind, raw: raw if v.ip.is_link_local() else None,
    "ipv4": lambda v, kind, raw: raw if v.version == 4 else str(v.ipv4()) if v.ip.is_ipv4_mapped() else False,
    "v4": lambda v, kind, raw: raw if v.version == 4 else False,
    "ipv6": lambda v, kind, raw: raw if v.version == 6 else str(v.ipv6()),
    "v6": lambda v, kind, raw: raw if v.version == 6 else str(v.ipv6()),
    "wrap": lambda v, kind, raw: (f"[{v.ip}]" if kind == "address" else f"[{v.ip}]/{v.prefixlen}")
    if v.version == 6 else raw,
    "first_usable": lambda v, kind, raw: _address(v.version, u[0]) if (u := _usable(v)) else None,
    "last_usable": lambda v, kind, raw: _address(v.version, u[1]) if (u := _usable(v)) else None,
    "range_usable": lambda v, kind, raw: (f"{_address(v.version, u[0])}-{_address(v.version, u[1])}"
                                          if (u := _usable(v)) else None),
    "type": lambda v, kind, raw: kind,
})


def ipaddr(value: Any, query: Any = "", version: int | bool = False, alias: str = "ipaddr") -> Any:
    """ansible.utils' ``ipaddr``: the value if it is an address or network (False if not), or
    the part ``query`` asks for (``address``, ``network``, ``prefix``, ``netmask``, ``size``,
    ``private``, an integer: that host of the network, a CIDR: the value if inside it, ...)."""
    value = unwrap(value)
    if isinstance(value, (list, tuple)):
        return [found for found in (ipaddr(item, query, version, alias) for item in value) if found]
    if not value or value is True:
        return False
    parsed = _parse(value)
    if parsed is None:
        return False
    net, kind = parsed
    if version and net.version != version:
        return False
    query = "" if query is None else str(query)
    if query in _QUERIES:
        return _QUERIES[query](net, kind, str(net.ip) if kind == "address" else str(value))
    if query.lstrip("-").isdigit():
        if net.size == 1:
            return str(net.ip) if kind == "address" else str(net)
        try:
            return f"{net[int(query)]}/{net.prefixlen}"
        except IndexError:
            return False
    inside = _parse(query)
    if inside is not None and "/" in query:
        return str(value) if net in inside[0] else None
    raise TemplateError(f"{alias}: unknown filter type: {query}")


def ipv4(value: Any, query: Any = "") -> Any:
    """``ipaddr`` for IPv4 only."""
    return ipaddr(value, query, version=4, alias="ipv4")


def ipv6(value: Any, query: Any = "") -> Any:
    """``ipaddr`` for IPv6 only (an IPv4 value converts with ``ipv6('ipv6')``)."""
    return ipaddr(value, query, version=6, alias="ipv6")


def ipwrap(value: Any, query: Any = "") -> Any:
    """IPv6 addresses in brackets; other strings unchanged (lists item by item)."""
    value = unwrap(value)
    if isinstance(value, (list, tuple)):
        return [ipwrap(item, query) for item in value if item is not None]
    wrapped = ipaddr(value, "wrap")
    if wrapped:
        return ipaddr(wrapped, query) if query else wrapped
    return value if not query else False


def ipmath(value: Any, amount: Any) -> str:
    """The address ``amount`` after (or before) ``value``."""
    try:
        address = netaddr.IPAddress(str(value).split("/")[0])
        return str(address + int(amount))
    except (netaddr.AddrFormatError, ValueError) as exc:
        raise TemplateError(f"ipmath: {value} is not a valid IP address ({exc})") from None
    except IndexError:
        raise TemplateError(f"ipmath: {value} + {amount} is out of range") from None


def nthhost(value: Any, query: Any = "") -> Any:
    """The ``query``-th address of a network."""
    parsed = _parse(value)
    if parsed is None or not str(query).lstrip("-").isdigit():
        return False
    try:
        return str(parsed[0][int(query)])
    except IndexError:
        return False


def ipsubnet(value: Any, query: Any = "", index: Any = None) -> Any:
    """With a prefix length: for a network, how many such subnets it holds (or the ``index``-th,
    from 0, negative from the end); for an address, the network of that prefix around it."""
    parsed = _parse(value)
    if parsed is None:
        return False
    net, kind = parsed[0].cidr, parsed[1]
    if not query:
        return str(net)
    text, bits = str(query), 128 if net.version == 6 else 32
    if not text.isdigit():
        outer = _parse(query)
        if outer is None:
            raise TemplateError(f"You must pass a valid subnet or IP address; {query} is invalid")
        return str(outer[0].cidr) if net in outer[0].cidr else False
    prefix = int(text)
    if prefix > bits:
        return False
    if kind == "address":
        return str(net.supernet(prefix)[int(index or 0)]) if prefix <= net.prefixlen else False
    if prefix < net.prefixlen:
        raise TemplateError(f"Requested subnet size of {prefix} is invalid")
    count = 2 ** (prefix - net.prefixlen)
    if index is None:
        return str(count)
    position = int(index) + count if int(index) < 0 else int(index)
    if not 0 <= position < count:
        return False
    return str(netaddr.IPNetwork((net.value + (position << (bits - prefix)), prefix), version=net.version))


def network_in_usable(value: Any, test: Any) -> bool:
    """Whether address ``test`` is a usable address of network ``value``."""
    parsed, candidate = _parse(value), _parse(test)
    if parsed is None or candidate is None:
        raise TemplateError(f"network_in_usable: {value!r} or {test!r} is not a network/address")
    usable = _usable(parsed[0].cidr)
    return usable is not None and usable[0] <= candidate[0].first and candidate[0].last <= usable[1]


def network_in_network(value: Any, test: Any) -> bool:
    """Whether ``test`` (an address or a network) lies inside network ``value``."""
    parsed, candidate = _parse(value), _parse(test)
    if parsed is None or candidate is None:
        raise TemplateError(f"network_in_network: {value!r} or {test!r} is not a network/address")
    return bool(candidate[0] in parsed[0].cidr)


def cidr_merge(value: Any, action: str = "merge") -> Any:
    """Merge a list of networks into the fewest CIDRs (``action='span'``: one covering all)."""
    nets = [netaddr.IPNetwork(str(item)) for item in unwrap(value)]
    if action == "merge":
        return [str(net) for net in netaddr.cidr_merge(nets)]
    if action == "span":
        return str(netaddr.spanning_cidr(nets)) if nets else None
    raise TemplateError(f"cidr_merge: invalid action {action!r}")


_UTILS: Mapping[str, Callable[..., Any]] = {
    "ipaddr": ipaddr, "ipv4": ipv4, "ipv6": ipv6, "ipwrap": ipwrap, "ipmath": ipmath, "nthhost": nthhost,
    "ipsubnet": ipsubnet, "network_in_usable": network_in_usable, "network_in_network": network_in_network,
    "cidr_merge": cidr_merge,
}

FILTERS: Mapping[str, Callable[..., Any]] = MappingProxyType({
    "json_query": json_query,
    "community.general.json_query": json_query,
    **_UTILS,
    **{f"ansible.utils.{name}": func for name, func in _UTILS.items()},
    **{f"ansible.netcommon.{name}": func for name, func in _UTILS.items()},
})
