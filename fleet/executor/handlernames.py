"""How handlers are named: what ``notify: NAME`` reaches, and the keys that name plays and
handlers on the hosts (pending handlers are remembered there by these keys).

Pure functions of the play's handlers, shared by the handler flush (``meta``), the handlers
remembered on hosts (``handlers``), the run's report and the preflight checks.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from fleet.playbook import Play, Task


def notified_handlers(handlers: Sequence[Task], name: str) -> list[Task]:
    """What ``notify: name`` reaches: the last handler called ``name`` (a later definition
    shadows an earlier one, as in Ansible) and every handler that listens to ``name``."""
    found = [h for h in handlers if name in h.listen]
    for handler in reversed(handlers):
        if handler.name and name in (handler.name, f"{handler.role.name} : {handler.name}" if handler.role else ""):
            if handler not in found:
                found.append(handler)
            break
    return found


def handler_names(handler: Task) -> set[str]:
    """The names a handler answers to: its name, ``role : name``, and its ``listen`` topics."""
    names = set(handler.listen)
    if handler.name:
        names.add(handler.name)
        if handler.role:
            names.add(f"{handler.role.name} : {handler.name}")
    return names


def handler_known(play: Play, name: str) -> bool:
    """Whether ``notify: name`` reaches some handler of the play (for preflight checks)."""
    return any(name in handler_names(h) for h in play.handlers)


def play_key(play: Play) -> str:
    """``site.yml: web servers`` (unnamed: ``site.yml: hosts web``)."""
    label = play.name or f"hosts {play.hosts}"
    return f"{Path(play.location.path).name}: {label}"


def handler_key(handler: Task) -> str:
    """``nginx : restart nginx``; a handler without a name by its listen topics."""
    if handler.name:
        return handler.display_name
    return (f"{handler.role.name} : " if handler.role else "") + "listen " + ", ".join(handler.listen)


def handler_keys(play: Play, names: list[str]) -> list[str]:
    """The handlers ``notify`` names reach, as keys (each once)."""
    keys: list[str] = []
    for name in names:
        for handler in notified_handlers(play.handlers, name):
            key = handler_key(handler)
            if key not in keys:
                keys.append(key)
    return keys
