"""A fake Debian package toolchain for the apt and package module tests.

``dpkg-query``, ``apt-cache``, ``apt-get`` and ``apt-mark`` are one Python script (linked
under each name, first on ``PATH``) that answers from a JSON state file and appends every
call's argv to a log, so tests can check what a module changed, which commands it ran, and
that check mode ran none that write (``apt-get -s`` simulates, as the real one does).

State: ``{"packages": {NAME: {"installed": VERSION|null, "versions": [newest first],
"config": VERSION (config files left), "depends": [NAME], "provides": [NAME], "orphan": bool}},
"ubuntu_stamp": PATH (touched by every successful update), "lists_dir": PATH (its mtime moved by
every successful update: new lists were fetched), "after_update": {NAME: {...}} (merged into
packages by ``apt-get update``), "update_fails": true or a count, "update_warns": true, "install_fails": "message"}``.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

SCRIPT = r'''
import json, os, sys
STATE, LOG = os.environ["FAKE_APT_STATE"], os.environ["FAKE_APT_LOG"]
tool, argv = os.path.basename(sys.argv[0]), sys.argv[1:]
with open(LOG, "a") as log:
    log.write(json.dumps([tool] + argv) + "\n")
with open(STATE) as f:
    state = json.load(f)
pkgs = state["packages"]

def save():
    with open(STATE, "w") as f:
        json.dump(state, f)

def dpkg_line(name, p):
    if p.get("installed"):
        status, version = "install ok installed", p["installed"]
    elif p.get("config"):
        status, version = "deinstall ok config-files", p["config"]
    else:
        status, version = "unknown ok not-installed", ""
    return "%s\tamd64\t%s\t%s\t%s" % (name, status, version, ", ".join(p.get("provides", [])))

if tool == "dpkg-query":
    names = [a for a in argv if not a.startswith("-")]
    rc = 0
    for name in names or sorted(pkgs):
        if name in pkgs and (names or pkgs[name].get("installed") or pkgs[name].get("config")):
            print(dpkg_line(name, pkgs[name]))
        elif names:
            print("dpkg-query: no packages found matching %s" % name, file=sys.stderr)
            rc = 1
    sys.exit(rc)

if tool == "apt-cache":
    names = [a for i, a in enumerate(argv) if a != "policy" and not a.startswith("-")
             and argv[i - 1] != "-o"]
    virtual = {v for p in pkgs.values() for v in p.get("provides", [])}
    for name in names:
        p = pkgs.get(name)
        if p is None and name not in virtual:
            continue
        p = p or {}
        versions = p.get("versions", [])
        print(name + ":")
        print("  Installed: " + (p.get("installed") or "(none)"))
        print("  Candidate: " + (versions[0] if versions else "(none)"))
        print("  Version table:")
        for v in versions:
            print(" %s %s 500" % ("***" if v == p.get("installed") else "   ", v))
            print("        500 http://mirror.invalid/debian bookworm/main amd64 Packages")
            if v == p.get("installed"):
                print("        100 /var/lib/dpkg/status")
    sys.exit(0)

if tool == "apt-mark":
    sys.exit(0)

# apt-get
simulate = "-s" in argv
words = [a for i, a in enumerate(argv)
         if not a.startswith("-") and (i == 0 or argv[i - 1] not in ("-o", "-t"))]
action, tokens = words[0], words[1:]
print("Reading package lists...")
if action == "update":
    if state.get("update_fails"):  # true: always; a number: that many times
        if state["update_fails"] is not True:
            state["update_fails"] -= 1
            save()
        print("E: Failed to fetch http://mirror.invalid/debian/dists/bookworm/InRelease", file=sys.stderr)
        sys.exit(100)
    if state.get("update_warns"):  # apt-get's way when no source answers: warnings, exit 0
        print("W: Failed to fetch http://mirror.invalid/debian/dists/bookworm/InRelease  "
              "Temporary failure resolving 'mirror.invalid'", file=sys.stderr)
        print("W: Some index files failed to download. They have been ignored, or old ones used instead.",
              file=sys.stderr)
        sys.exit(0)
    for name, extra in state.get("after_update", {}).items():
        pkgs.setdefault(name, {}).update(extra)
    if state.get("lists_dir"):
        os.utime(state["lists_dir"], None)
    stamp = state.get("ubuntu_stamp")  # Ubuntu's update-notifier hook, when configured
    if stamp:
        os.makedirs(os.path.dirname(stamp), exist_ok=True)
        with open(stamp, "a"):
            os.utime(stamp, None)
    for i, arg in enumerate(argv):  # -o APT::Update::Post-Invoke-Success::=COMMAND
        if argv[i - 1] == "-o" and arg.startswith("APT::Update::Post-Invoke-Success::="):
            import subprocess
            subprocess.run(["sh", "-c", arg.split("=", 1)[1]], check=True)
    save()
    sys.exit(0)
if state.get("install_fails") and not simulate:
    print(state["install_fails"], file=sys.stderr)
    sys.exit(100)
lines = []
if action == "install":
    for token in tokens:
        name, _, version = token.partition("=")
        p = pkgs.get(name)
        if p is None:
            providers = [n for n, q in pkgs.items() if name in q.get("provides", [])]
            if len(providers) != 1:
                print("E: Unable to locate package %s" % name, file=sys.stderr)
                sys.exit(100)
            name, p = providers[0], pkgs[providers[0]]
        version = version or (p.get("versions") or [None])[0]
        if version not in p.get("versions", []):
            print("E: Version '%s' for '%s' was not found" % (version, name), file=sys.stderr)
            sys.exit(100)
        for dep in p.get("depends", []):
            if not pkgs[dep].get("installed"):
                lines.append(("Inst", dep, None, pkgs[dep]["versions"][0]))
        if p.get("installed") != version:
            lines.append(("Inst", name, p.get("installed"), version))
elif action in ("remove", "autoremove"):
    purge = "--purge" in argv
    names = tokens or [n for n, p in pkgs.items() if p.get("orphan") and p.get("installed")]
    for name in names:
        p = pkgs.get(name, {})
        if p.get("installed") or (purge and p.get("config")):
            lines.append(("Purg" if purge else "Remv", name, p.get("installed") or p.get("config"), None))
for verb, name, old, new in lines:
    if verb == "Inst":
        print("Inst %s%s (%s Debian:12.15/oldstable [amd64])" % (name, " [%s]" % old if old else "", new))
    else:
        print("%s %s [%s]" % (verb, name, old))
    if simulate:
        continue
    p = pkgs[name]
    if verb == "Inst":
        p["installed"] = new
        p.pop("config", None)
    elif verb == "Remv":
        p["config"], p["installed"] = p["installed"], None
    else:
        p["installed"] = None
        p.pop("config", None)
for verb, name, old, new in lines:
    if verb == "Inst":
        print("Conf %s (%s Debian:12.15/oldstable [amd64])" % (name, new))
if not simulate:
    save()
'''

TOOLS = ("dpkg-query", "apt-cache", "apt-get", "apt-mark")


class FakeApt:
    """The fake toolchain in ``root``: edit :attr:`state`, read :meth:`calls`."""

    def __init__(self, root: Path, monkeypatch, state: dict) -> None:
        self.root = root
        bin_dir = root / "bin"
        bin_dir.mkdir(parents=True)
        script = bin_dir / "fake-apt"
        script.write_text(f"#!{sys.executable}\n{SCRIPT}")
        script.chmod(0o755)
        for tool in TOOLS:
            (bin_dir / tool).symlink_to(script)
        self.state_path = root / "state.json"
        self.log_path = root / "calls.log"
        self.log_path.write_text("")
        self.stamp = root / "periodic" / "update-success-stamp"
        self.lists = root / "lists"
        self.lists.mkdir()
        self.stamp.parent.mkdir()
        self.save(state)
        monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
        monkeypatch.setenv("FAKE_APT_STATE", str(self.state_path))
        monkeypatch.setenv("FAKE_APT_LOG", str(self.log_path))

    @property
    def state(self) -> dict:
        return json.loads(self.state_path.read_text())

    def save(self, state: dict) -> None:
        self.state_path.write_text(json.dumps(state))

    def installed(self) -> dict:
        return {n: p["installed"] for n, p in self.state["packages"].items() if p.get("installed")}

    def calls(self, tool: str | None = None) -> list:
        calls = [json.loads(line) for line in self.log_path.read_text().splitlines()]
        return [c for c in calls if tool is None or c[0] == tool]

    def writes(self) -> list:
        """apt-get/apt-mark calls that change the host (everything but ``apt-get -s``)."""
        return [c for c in self.calls() if c[0] == "apt-mark" or (c[0] == "apt-get" and "-s" not in c)]

    def clear_log(self) -> None:
        self.log_path.write_text("")

    def lists_move_on_update(self) -> None:
        """From now on ``apt-get update`` fetches new lists (moves the lists directory's mtime)."""
        state = self.state
        state["lists_dir"] = str(self.lists)
        self.save(state)

    def age_cache(self, seconds: float) -> None:
        """Make the cache (stamp, else the lists directory) ``seconds`` old."""
        then = __import__("time").time() - seconds
        target = self.stamp if self.stamp.exists() else self.lists
        os.utime(target, (then, then))
