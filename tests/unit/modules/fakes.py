"""Stand-ins for host commands (systemctl, hostname, hostnamectl, locale, locale-gen).

Each fake is a small Python script put first on ``PATH``; it keeps the host's state in a JSON
file and appends every call's argv to a log, so tests can assert both what a module changed
and which commands it ran (check mode must run none that change anything).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

SYSTEMCTL = r'''
import json, os, sys, uuid
STATE, LOG = os.environ["FAKE_STATE"], os.environ["FAKE_LOG"]
argv = sys.argv[1:]
with open(LOG, "a") as log:
    log.write(json.dumps(["systemctl"] + argv) + "\n")
with open(STATE) as f:
    state = json.load(f)
if state.get("offline"):
    print("System has not been booted with systemd as init system (PID 1). Can't operate.", file=sys.stderr)
    sys.exit(1)
units = state["units"]
words = [a for a in argv if not a.startswith("-") or a == "*"]
props = next((a.split("=", 1)[1].split(",") for a in argv if a.startswith("--property=")), None)
verb, names = words[0], words[1:]

def resolve(name):
    if "." not in name:
        name += ".service"
    for uid, unit in units.items():
        if name == uid or name in unit.get("aliases", []):
            return uid
    return name

def get(name):
    uid = resolve(name)
    return uid, units.get(uid)

def save():
    with open(STATE, "w") as f:
        json.dump(state, f)

def show(uid, unit):
    if unit is None:
        unit = {"LoadState": "not-found", "ActiveState": "inactive", "SubState": "dead",
                "UnitFileState": "",
                "LoadError": 'org.freedesktop.systemd1.NoSuchUnit "Unit %s not found."' % uid}
    data = dict(unit, Id=uid)
    for key in props or sorted(data):
        if key in data and not key.startswith("_") and key != "aliases":
            print("%s=%s" % (key, data[key]))

if verb == "show":
    if names == ["*"]:
        first = True
        for uid, unit in sorted(units.items()):
            if not first:
                print()
            first = False
            show(uid, unit)
    else:
        show(*get(names[0]))
    sys.exit(0)
if verb == "is-enabled":
    uid, unit = get(names[0])
    if unit is None:
        print("Failed to get unit file state for %s: No such file or directory" % uid, file=sys.stderr)
        sys.exit(1)
    ufs = unit["UnitFileState"]
    print(ufs)
    if "--full" in argv:  # -l: the links that enable it (an indirect unit's Also= units')
        for link in unit.get("_links", []):
            print("  " + link)
    sys.exit(0 if ufs in ("enabled", "enabled-runtime", "static", "indirect", "alias",
                          "generated", "transient") else 1)
if verb in ("daemon-reload", "daemon-reexec"):
    state[verb] = state.get(verb, 0) + 1
    if verb == "daemon-reload":
        for unit in units.values():
            unit["NeedDaemonReload"] = "no"
    save()
    sys.exit(0)
uid, unit = get(names[0])
if verb == "mask":
    if unit is None:
        unit = units[uid] = {"LoadState": "not-found", "ActiveState": "inactive", "SubState": "dead",
                             "UnitFileState": ""}
    unit["_before"] = [unit["LoadState"], unit["UnitFileState"]]
    unit["LoadState"], unit["UnitFileState"] = "masked", "masked"
    save()
    sys.exit(0)
if unit is None:
    print("Failed to %s %s: Unit %s not found." % (verb, uid, uid), file=sys.stderr)
    sys.exit(5)
if verb == "unmask":
    if unit["LoadState"] == "masked":
        unit["LoadState"], unit["UnitFileState"] = unit.pop("_before", ["loaded", "disabled"])
        if unit["LoadState"] == "not-found":
            del units[uid]
    save()
    sys.exit(0)
if verb in ("enable", "disable"):
    if unit["LoadState"] == "masked":
        print("Failed to %s unit: Unit file %s is masked." % (verb, uid), file=sys.stderr)
        sys.exit(1)
    if unit["UnitFileState"] not in ("static", "generated", "transient", "indirect"):
        unit["UnitFileState"] = "enabled" if verb == "enable" else "disabled"
    elif unit["UnitFileState"] == "indirect" and unit.get("_also"):  # Also= units linked, or unlinked
        unit["_links"] = ["/etc/systemd/system/sockets.target.wants/" + u for u in unit["_also"]] if verb == "enable" else []
    save()
    sys.exit(0)
if verb in ("start", "restart", "reload", "stop"):
    if verb != "stop" and unit["LoadState"] == "masked":
        print("Failed to %s %s: Unit %s is masked." % (verb, uid, uid), file=sys.stderr)
        sys.exit(1)
    if verb == "reload" and unit.get("CanReload") == "no":
        print("Failed to reload %s: Job type reload is not applicable for unit %s." % (uid, uid),
              file=sys.stderr)
        sys.exit(1)
    if verb != "stop" and unit.get("_fails"):
        print("Job for %s failed because the control process exited with error code." % uid,
              file=sys.stderr)
        sys.exit(1)
    if "--no-block" in argv and unit.get("_slow"):
        unit.setdefault("_jobs", []).append(verb)
    elif verb == "stop":
        unit["ActiveState"], unit["SubState"] = "inactive", "dead"
    elif verb == "reload":
        unit["_reloads"] = unit.get("_reloads", 0) + 1
    else:
        unit["InvocationID"] = uuid.uuid4().hex
        unit["Result"] = "success"
        if unit.get("Type") == "oneshot" and unit.get("RemainAfterExit") != "yes":
            unit["ActiveState"], unit["SubState"] = "inactive", "dead"
        else:
            unit["ActiveState"], unit["SubState"] = "active", "running"
    save()
    sys.exit(0)
print("fake systemctl: unknown verb %s" % verb, file=sys.stderr)
sys.exit(1)
'''


HOSTNAME = r'''
import json, os, sys
STATE, LOG = os.environ["FAKE_STATE"], os.environ["FAKE_LOG"]
prog = os.path.basename(sys.argv[0])
argv = sys.argv[1:]
with open(LOG, "a") as log:
    log.write(json.dumps([prog] + argv) + "\n")
with open(STATE) as f:
    state = json.load(f)
words = [a for a in argv if not a.startswith("-")]
if prog == "hostnamectl" and words[:1] == ["set-hostname"]:
    words = words[1:]
elif prog == "hostnamectl":
    print(state["hostname"])
    sys.exit(0)
if "-F" in argv:
    words = [open(argv[argv.index("-F") + 1]).read().strip()]
if not words:
    print(state["hostname"])
    sys.exit(0)
if state.get("refuse"):
    print("%s: you must be root to change the host name" % prog, file=sys.stderr)
    sys.exit(1)
state["hostname"] = words[0]
with open(STATE, "w") as f:
    json.dump(state, f)
'''


LOCALE = r'''
import json, os, re, sys
STATE, LOG = os.environ["FAKE_STATE"], os.environ["FAKE_LOG"]
prog = os.path.basename(sys.argv[0])
argv = sys.argv[1:]
with open(LOG, "a") as log:
    log.write(json.dumps([prog] + argv) + "\n")
with open(STATE) as f:
    state = json.load(f)
if prog == "locale":
    for name in ["C", "C.utf8", "POSIX"] + state["generated"]:
        print(name)
    sys.exit(0)
# locale-gen: every uncommented "NAME CHARSET" line of the locale.gen file, as locale -a names it
names = []
for line in open(os.environ["FAKE_LOCALE_GEN"]):
    line = line.strip()
    if line and not line.startswith("#"):
        name = line.split()[0]
        base, _, mod = name.partition("@")
        lang, dot, code = base.partition(".")
        if dot:
            lang += "." + re.sub("[^a-z0-9]", "", code.lower())
        names.append(lang + ("@" + mod if mod else ""))
state["generated"] = names
with open(STATE, "w") as f:
    json.dump(state, f)
'''


class FakeHost:
    """The fakes' shared state and call log."""

    def __init__(self, root: Path, state: dict) -> None:
        self.root = root
        self.state_file = root / "state.json"
        self.log_file = root / "calls.log"
        self.state_file.write_text(json.dumps(state))
        self.log_file.write_text("")

    @property
    def state(self) -> dict:
        return json.loads(self.state_file.read_text())

    @state.setter
    def state(self, value: dict) -> None:
        self.state_file.write_text(json.dumps(value))

    def calls(self) -> list:
        return [json.loads(line) for line in self.log_file.read_text().splitlines()]

    def clear(self) -> None:
        self.log_file.write_text("")


def install(monkeypatch: pytest.MonkeyPatch, root: Path, scripts: dict, state: dict) -> FakeHost:
    """Put ``scripts`` (command name -> Python source) first on PATH; return their host."""
    bin_dir = root / "bin"
    bin_dir.mkdir(parents=True)
    for name, source in scripts.items():
        path = bin_dir / name
        path.write_text(f"#!{sys.executable} -S\n{source}")
        path.chmod(0o755)
    host = FakeHost(root, state)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_STATE", str(host.state_file))
    monkeypatch.setenv("FAKE_LOG", str(host.log_file))
    return host
