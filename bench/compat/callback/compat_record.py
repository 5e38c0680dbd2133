"""Ansible callback plugin of fleet's compatibility harness: one JSON line per task result.

Enabled by the harness's ``ansible.cfg`` (``callbacks_enabled = compat_record``); writes to
the file named by ``$COMPAT_RECORD_FILE`` as results arrive, so a run cut short by the
harness's timeout still leaves what it did. Counting is Ansible's: a looped task is one result
(its items are not recorded), a failure with ``ignore_errors`` is ``failed`` with ``ignored``,
and include/import statements are not results.
"""

from __future__ import annotations

import json
import os

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
    name: compat_record
    type: aggregate
    short_description: record per-task results for fleet's compatibility harness
    description: One JSON line per task and host in $COMPAT_RECORD_FILE.
    requirements: [enable in ansible.cfg]
"""

MAX_MSG = 2000


def _message(result: dict) -> str:
    for key in ("msg", "stderr", "reason"):
        value = result.get(key)
        if value:
            return str(value)[:MAX_MSG]
    failed_items = [r for r in result.get("results", []) if isinstance(r, dict) and r.get("failed")]
    if failed_items:
        return _message(failed_items[0])
    return ""


class CallbackModule(CallbackBase):
    """Writes ``{"play", "play_index", "task", "action", "role", "handler", "host", "status",
    "changed", "ignored", "msg"}`` per result."""

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "compat_record"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self) -> None:
        super().__init__()
        self._path = os.environ.get("COMPAT_RECORD_FILE", "")
        self._play = ""
        self._play_index = -1

    def _write(self, record: dict) -> None:
        if not self._path:
            return
        with open(self._path, "a", encoding="utf-8") as out:
            out.write(json.dumps(record, default=str) + "\n")

    def v2_playbook_on_play_start(self, play) -> None:
        self._play = play.get_name()
        self._play_index += 1

    def _record(self, result, status: str, ignored: bool = False) -> None:
        task = result._task
        data = result._result if isinstance(result._result, dict) else {}
        role = task._role.get_name(include_role_fqcn=False) if task._role else ""
        self._write({"play": self._play, "play_index": self._play_index,
                     "task": task.get_name(include_role_fqcn=False), "name": task.name or "",
                     "action": task.action, "role": role,
                     "handler": type(task).__name__ == "Handler",
                     "host": result._host.get_name(), "status": status,
                     "changed": bool(data.get("changed")), "ignored": ignored,
                     "msg": _message(data)})

    def v2_runner_on_ok(self, result) -> None:
        changed = isinstance(result._result, dict) and result._result.get("changed")
        self._record(result, "changed" if changed else "ok")

    def v2_runner_on_failed(self, result, ignore_errors: bool = False) -> None:
        self._record(result, "failed", ignored=ignore_errors)

    def v2_runner_on_skipped(self, result) -> None:
        self._record(result, "skipped")

    def v2_runner_on_unreachable(self, result) -> None:
        self._record(result, "unreachable")

    def v2_playbook_on_stats(self, stats) -> None:
        self._write({"stats": {host: stats.summarize(host) for host in sorted(stats.processed)}})
