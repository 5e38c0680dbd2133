"""Check that the host answers: returns ``ping: pong`` (or ``data``); changes nothing.

Behaves like ``ansible.builtin.ping``: ``data: crash`` makes the module raise an
exception, to test how failures are reported.
"""

from __future__ import annotations

from dataclasses import dataclass

from fleet.agent.contract import param

ALIASES: dict = {}


@dataclass(frozen=True)
class Params:
    data: str = param("what to return as ping (crash makes the module fail)", "pong")


def observe(p: Params, host) -> dict:
    if p.data == "crash":
        raise Exception("boom")
    return {"ping": p.data}
