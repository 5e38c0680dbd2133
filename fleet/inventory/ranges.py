"""Host name ranges (``web[01:20].example.com``, ``db-[a:f]``, ``[1:10:2]``) and ``host:port``.

Rules as Ansible's inventory: ``[begin:end]`` or ``[begin:end:step]``, inclusive; a begin
with a leading zero fixes the width (begin and end must then have the same length); single
letters make alphabetic ranges over ``a..zA..Z``; several ranges in one name multiply.

Limits Ansible does not have: one host entry expands to at most :data:`MAX_RANGE_HOSTS` names
(counted before any is built, so ``web[0:99999999999]`` is an error, not a memory hog), and a
port must be 0-65535.
"""

from __future__ import annotations

import ipaddress
import re
import string

from fleet.errors import InputError, Location

_LETTERS = string.ascii_letters
_BRACKETED = re.compile(r"\[([^\[\]]+)\](?::(\d+))?")
_WITH_PORT = re.compile(r"(.+):(\d+)")
_BRACKET_GROUPS = re.compile(r"\[[^\]]*\]")
#: The most host names one inventory entry (all of its ranges together) may expand to.
MAX_RANGE_HOSTS = 1_000_000
MAX_PORT = 65535


def has_range(text: str) -> bool:
    """True if ``text`` holds a ``[x:y]`` range (Ansible's test: ``[`` before ``:`` before ``]``)."""
    return 0 <= text.find("[") < text.find(":") < text.find("]")


def _is_ipv6(text: str) -> bool:
    try:
        ipaddress.IPv6Address(text.split("%", 1)[0])
    except ValueError:
        return False
    return True


def _port(text: str, digits: str, location: Location | None) -> int:
    # a long digit string is out of range anyway (and int() refuses > 4300 digits)
    if len(digits) > 5 or int(digits) > MAX_PORT:
        shown = digits if len(digits) <= 20 else digits[:20] + "..."
        raise InputError(f"bad port {shown} in {text[:80]!r}: a port is 0-{MAX_PORT}", location)
    return int(digits)


def split_port(text: str, location: Location | None = None) -> tuple[str, int | None]:
    """Split ``host:port`` / ``[ipv6]:port``; a bare IPv6 address or a range keeps its colons.

    A port above 65535 is an InputError (at ``location``)."""
    m = _BRACKETED.fullmatch(text)
    if m and _is_ipv6(m.group(1)):
        return m.group(1), _port(text, m.group(2), location) if m.group(2) else None
    m = _WITH_PORT.fullmatch(text)
    if m and ":" not in _BRACKET_GROUPS.sub("", m.group(1)):
        return m.group(1), _port(text, m.group(2), location)
    return text, None


def _bad(text: str, why: str, location: Location | None) -> InputError:
    shown = text if len(text) <= 200 else text[:200] + "..."
    return InputError(f"bad host range {shown!r}: {why}", location)


def _too_many(text: str, count: int, location: Location | None) -> InputError:
    return _bad(text, f"expands to {count if count < 10**12 else 'over 10**12'} host names, "
                      f"more than the {MAX_RANGE_HOSTS} one entry may have", location)


def _sequence(text: str, body: str, location: Location | None) -> list[str]:
    bounds = body.split(":")
    if len(bounds) not in (2, 3):
        raise _bad(text, "must be [begin:end] or [begin:end:step]", location)
    begin, end = bounds[0] or "0", bounds[1]
    if not end:
        raise _bad(text, "the end of the range is missing", location)
    try:
        step = int(bounds[2]) if len(bounds) == 3 else 1
    except ValueError:
        raise _bad(text, f"step {bounds[2]!r} is not a number", location) from None
    if step < 1:
        raise _bad(text, "step must be a positive number", location)
    width = len(begin) if begin[0] == "0" and len(begin) > 1 else 0
    if width and len(end) != width:
        raise _bad(text, "begin and end must have the same length when zero-padded", location)
    if len(begin) == 1 and len(end) == 1 and begin in _LETTERS and end in _LETTERS:
        first, last = _LETTERS.index(begin), _LETTERS.index(end)
        if first > last:
            raise _bad(text, "begin must not be after end", location)
        return list(_LETTERS[first : last + 1 : step])
    try:
        first, last = int(begin), int(end)
    except ValueError:
        raise _bad(text, "bounds must both be numbers or both single letters", location) from None
    if first > last:
        raise _bad(text, "begin must not be after end", location)
    count = (last - first) // step + 1
    if count > MAX_RANGE_HOSTS:
        raise _too_many(text, count, location)
    return [str(n).zfill(width) for n in range(first, last + 1, step)]


def expand_hosts(text: str, location: Location | None = None) -> list[str]:
    """Expand every range in ``text``; a name without a range is returned alone."""
    if not has_range(text):
        return [text]
    head, rest = text.split("[", 1)
    body, tail = rest.split("]", 1)
    items = _sequence(text, body, location)
    # ``head`` and the items hold no '[', ':' or ']', so the tail expands alike after each item
    tails = expand_hosts(tail, location)
    if len(items) * len(tails) > MAX_RANGE_HOSTS:
        raise _too_many(text, len(items) * len(tails), location)
    return [f"{head}{item}{end}" for item in items for end in tails]


def expand_host_pattern(
    text: str, location: Location | None = None
) -> tuple[list[str], int | None]:
    """An inventory host entry: ``(names, port)`` with ranges expanded and port split off."""
    if ":" not in text:
        return expand_hosts(text, location), None
    name, port = split_port(text, location)
    return expand_hosts(name, location), port
