"""Test module: sets the content of a file that decides who may log in (e.g. authorized_keys).

Connection-sensitive, so fleet confirms each change over a fresh connection and rolls it back
when that fails.
"""

from __future__ import annotations

from dataclasses import dataclass

CONNECTION_SENSITIVE = True


@dataclass
class Params:
    path: str
    content: str


def observe(p: Params, host) -> dict:
    return {"content": host.read_text(p.path)}


def desired(p: Params, current: dict) -> dict:
    return {"content": p.content}


def apply(p: Params, host, current: dict, want: dict) -> None:
    host.write_file(p.path, p.content.encode(), mode=0o600)


def snapshot(p: Params, host) -> dict:
    return {"content": host.read_text(p.path)}


def revert(p: Params, host, saved: dict) -> None:
    if saved["content"] is None:
        host.remove(p.path)
    else:
        host.write_file(p.path, saved["content"].encode(), mode=0o600)
