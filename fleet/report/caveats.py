"""One task's warnings over all its hosts, grouped for the terminal.

A warning is ``FIELD: WHY`` or, from a module with a ``CAVEAT_SUBJECT``, ``NOUN VALUE: WHY``
(``key net.ipv4.ip_forward: persisted, not applied at runtime: /proc/sys is read-only here``).
Hosts that report the same warnings are shown once; the same WHY over several settings of a
host becomes one line (``... — 9 keys on 3 hosts (a, b, c): net.ipv4.ip_forward, ...``).
The JSON report keeps every host's own warnings.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fleet.report.words import plural

MAX_NAMES = 40  # settings or hosts named in one line; the rest are counted


def split(warning: str) -> tuple[str | None, str, str]:
    """``(noun, subject, why)``: ``("key", "net.ipv4.ip_forward", "persisted, ...")`` for
    ``NOUN VALUE: WHY``; ``(None, FIELD, WHY)`` for ``FIELD: WHY``; ``(None, "", text)`` else."""
    head, sep, why = warning.partition(": ")
    if not sep or not head:
        return None, "", warning
    noun, space, value = head.partition(" ")
    if space and noun.isidentifier() and value:
        return noun, value, why
    return None, head, why


def _names(names: list[str]) -> str:
    shown = ", ".join(names[:MAX_NAMES])
    return shown + (f", … and {len(names) - MAX_NAMES} more" if len(names) > MAX_NAMES else "")


def _hosts(hosts: list[str]) -> str:
    return hosts[0] if len(hosts) == 1 else f"{len(hosts)} hosts ({_names(hosts)})"


@dataclass
class TaskWarnings:
    """The warnings of one task, host by host, in the order they arrived."""

    hosts: dict[str, list[str]] = field(default_factory=dict)

    def add(self, host: str, warnings: list[str]) -> None:
        self.hosts.setdefault(host, []).extend(warnings)

    def lines(self) -> list[str]:
        """One line per distinct warning, naming its hosts (and its settings, when several)."""
        groups: dict[tuple[str | None, str, tuple[str, ...]], list[str]] = {}
        for host, warnings in self.hosts.items():
            per_why: dict[tuple[str | None, str], list[str]] = {}
            for warning in dict.fromkeys(warnings):
                noun, subject, why = split(warning)
                key = (noun, why) if noun else (None, warning)
                per_why.setdefault(key, []).append(subject)
            for (noun, text), subjects in per_why.items():
                hosts = groups.setdefault((noun, text, tuple(subjects) if noun else ()), [])
                hosts.append(host)
        out = []
        for (noun, text, names), hosts in groups.items():
            if noun is None:
                out.append(f"{text} — {_hosts(hosts)}")
            elif len(names) == 1:
                out.append(f"{noun} {names[0]}: {text} — {_hosts(hosts)}")
            else:
                out.append(f"{text} — {plural(len(names), noun)} on {_hosts(hosts)}: {_names(list(names))}")
        return out
