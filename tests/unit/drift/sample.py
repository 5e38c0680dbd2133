"""Sample drift sections (the dict ``fleet drift`` produces) for the report writers' tests."""

from __future__ import annotations

import copy
from typing import Any

SECRET = "********"
SCRIPT = '<script>alert("x")</script>'
CONTROL = "bell\x07 escape\x1b[0m form\x0c"  # characters XML 1.0 forbids
STARTED = 1764328560.0  # 2025-11-28 11:16:00 UTC
FIRST_SEEN = 1764242160.0  # 2025-11-27 11:16:00 UTC

_TIMEZONE = {"task": "base : timezone", "role": "base", "module": "timezone",
             "location": "roles/base/tasks/main.yml:12", "status": "drift", "msg": "",
             "duration_s": 0.012,
             "drift": {"fields": ["timezone"], "before": {"timezone": "UTC"},
                       "after": {"timezone": "Europe/Berlin"}, "unified": {},
                       "state": "new", "first_seen": STARTED}}

_MOTD = {"task": "base : motd", "role": "base", "module": "copy",
         "location": "roles/base/tasks/main.yml:40", "status": "drift", "msg": "",
         "duration_s": 0.02,
         "drift": {"fields": ["content", "mode"],
                   "before": {"content": f"Welcome to <b>web1</b> \u2014 \"hands off\"\n{SCRIPT}\n",
                              "mode": "0644"},
                   "after": {"content": "Grüße from fleet\n", "mode": "0640"},
                   "unified": {"content": "--- before\n+++ after\n@@ -1,2 +1 @@\n"
                                          f"-Welcome to <b>web1</b> \u2014 \"hands off\"\n-{SCRIPT}\n"
                                          "+Grüße from fleet\n"},
                   "state": "persisting", "first_seen": FIRST_SEEN}}

_PASSWORD = {"task": "admins : password", "role": "admins", "module": "user",
             "location": "roles/admins/tasks/main.yml:7", "status": "drift", "msg": "",
             "duration_s": 0.031,
             "drift": {"fields": ["password", "groups"], "before": {"password": SECRET, "groups": ["sudo"]},
                       "after": {"password": SECRET, "groups": ["sudo", "adm"]},
                       "unified": {}, "state": "new", "first_seen": STARTED}}

_RAW = {"task": "check banner", "role": None, "module": "lineinfile",
        "location": "site.yml:30", "status": "drift", "msg": "", "duration_s": 0.004,
        "drift": {"fields": ["line"], "before": {"line": CONTROL}, "after": {"line": None},
                  "unified": {"line": f"--- before\n+++ after\n@@ -1 +0,0 @@\n-{CONTROL}\n"},
                  "state": "persisting", "first_seen": FIRST_SEEN}}

_SAMPLE: dict[str, Any] = {
    "version": 1,
    "run_id": "20251128T111600Z",
    "started": STARTED,
    "duration_s": 12.345,
    "playbook": "site.yml",
    "inventory": ["inventories/lab"],
    "exit_code": 1,
    "summary": {"hosts": 5, "drifted": 2, "clean": 1, "unreachable": 1, "failed": 1,
                "drifted_tasks": 5, "new": 3, "persisting": 2, "resolved": 1},
    "hosts": {
        "web1": {"status": "drifted", "error": "", "tasks": [
            _TIMEZONE, _MOTD, _PASSWORD, _RAW,
            {"task": "base : packages", "role": "base", "module": "apt",
             "location": "roles/base/tasks/main.yml:20", "status": "clean", "msg": "",
             "duration_s": 0.5},
            {"task": "base : unattended upgrades", "role": "base", "module": "apt",
             "location": "roles/base/tasks/main.yml:60", "status": "skipped",
             "msg": "when: not in_container", "duration_s": 0.0},
        ]},
        'we"b\\2\n': {"status": "drifted", "error": "", "tasks": [
            {**copy.deepcopy(_TIMEZONE), "role": 'ro"le\\x\n'},
            {"task": "security : sshd", "role": "security", "module": "template",
             "location": "roles/security/tasks/main.yml:3", "status": "clean", "msg": "",
             "duration_s": 0.1},
        ]},
        "app1": {"status": "clean", "error": "", "tasks": [
            {"task": "base : timezone", "role": "base", "module": "timezone",
             "location": "roles/base/tasks/main.yml:12", "status": "clean", "msg": "",
             "duration_s": 0.01},
            {"task": "ping", "role": None, "module": "ping", "location": "site.yml:5",
             "status": "clean", "msg": "", "duration_s": 0.002},
        ]},
        "db1": {"status": "unreachable",
                "error": "db1: ssh connect to 10.0.0.9:22 failed: timed out", "tasks": []},
        "cache1": {"status": "failed", "error": "", "tasks": [
            {"task": "base : hostname", "role": "base", "module": "hostname",
             "location": "roles/base/tasks/main.yml:2", "status": "clean", "msg": "",
             "duration_s": 0.01},
            {"task": "base : locale", "role": "base", "module": "locale",
             "location": "roles/base/tasks/main.yml:8", "status": "failed",
             "msg": "locale-gen: <missing> & \"broken\"\x00", "duration_s": 0.2},
        ]},
    },
    "resolved": [{"host": "web2", "task": "base : motd", "role": "base", "module": "copy",
                  "location": "roles/base/tasks/main.yml:40", "fields": ["content"],
                  "first_seen": FIRST_SEEN}],
}


def sample_drift() -> dict[str, Any]:
    """A run with every host status, every task status, a secret, markup and control characters.

    Hosts: web1 drifted (4 drifted tasks, one outside a role), ``we"b\\2`` + newline drifted
    (1, in a role whose name has a quote, a backslash and a newline), app1 clean, db1
    unreachable (no tasks), cache1 failed (a failed task).
    """
    return copy.deepcopy(_SAMPLE)


def clean_drift() -> dict[str, Any]:
    """A run without drift: two clean hosts, nothing resolved, exit code 0."""
    hosts = {"app1": copy.deepcopy(_SAMPLE["hosts"]["app1"]),
             "app2": copy.deepcopy(_SAMPLE["hosts"]["app1"])}
    return {**copy.deepcopy(_SAMPLE), "exit_code": 0, "hosts": hosts, "resolved": [],
            "summary": {"hosts": 2, "drifted": 0, "clean": 2, "unreachable": 0, "failed": 0,
                        "drifted_tasks": 0, "new": 0, "persisting": 0, "resolved": 0}}
