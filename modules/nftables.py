"""Install an nftables ruleset file, validated with ``nft -c`` first, and load it with ``nft -f``.

Ansible has no such module (playbooks template the file and notify a handler); this one
validates before replacing and knows whether the running ruleset matches.

* ``content`` is the whole ruleset file (template it in the task, e.g. ``content: "{{
  lookup('file', 'nftables.conf') }}"`` or inline Jinja). It is written to ``path``
  (default ``/etc/nftables.conf``, which Debian's ``nftables.service`` loads at boot) with
  ``mode`` (a new file gets ``0644``); ``backup: true`` keeps a timestamped copy.
* ``validate`` (default ``nft -c -f %s``) checks the candidate file before it replaces
  ``path``; a refusal leaves the file and the running ruleset as they were.
* With ``reload: true`` (the default) the file is loaded with ``nft -f PATH``: one atomic
  transaction, so a ruleset is either wholly loaded or not at all. If loading fails the
  previous file is put back and the task fails. Start the file with ``flush ruleset``
  (Debian's default does) or ``nft -f`` adds to what is loaded; a warning says so.
* Observed: the file (``content``, ``mode``) and ``ruleset``, how the running ruleset
  (``nft -s list ruleset``, read-only) compares with ``content``: ``empty`` (nothing loaded),
  ``matches`` or ``differs: WHY``. What is compared is the structure: every table the content
  declares is loaded with the same chains, sets and maps, and each base chain has the same
  hook and policy. Individual rules are not compared (nft prints them normalised), nor are
  tables the content does not mention (docker's, say) unless the content flushes and
  declares nothing. ``include`` files are followed (absolute paths and globs; relative ones
  from ``/etc``). With ``reload: false`` the running ruleset is neither read nor managed.
* nft needs CAP_NET_ADMIN. Where the host refuses it (a container started without it) the
  file is still written, with warnings: ``not validated`` and ``persisted, not loaded``;
  ``ruleset`` is then reported as ``unknown: ...`` and not managed.
* Connection-sensitive: ``snapshot`` keeps the file and the running ruleset (``nft list
  ruleset``); ``revert`` puts the file back and reloads the old ruleset atomically
  (``flush ruleset`` + the saved listing), else the old file, else flushes.

Only ``state: present`` exists: removing a firewall is a ``file: state=absent`` plus
``nft flush ruleset``, deliberately not a one-liner here.
"""

from __future__ import annotations

import glob
import os
import re
from dataclasses import dataclass
from typing import Literal

from fleet.agent.commands import find_program
from fleet.agent.contract import Outcome, param
from fleet.agent.hostenv import chroot_reason
from fleet.agent.hostio import ModuleFailure, display_text, expand_path, wanted_attrs
from fleet.agent.textfile import file_snapshot, observe_file, restore_file

ALIASES = {"dest": "path"}
DIFF_TEXT = ("content",)
CONNECTION_SENSITIVE = True
FAMILIES = ("ip", "ip6", "inet", "arp", "bridge", "netdev")
DENIED = "Operation not permitted"
TOKEN = re.compile(r'"[^"\n]*"|#[^\n]*|\\\n|[{};\n]|[^\s{};"#]+')


@dataclass(frozen=True)
class Params:
    content: str = param("the whole ruleset file")
    path: str = param("the ruleset file to write", "/etc/nftables.conf")
    state: Literal["present"] = param(
        "present (the only state: remove a ruleset with file and nft flush ruleset)", "present")
    validate: str | None = param(
        "command run on the candidate file before it replaces the old one; %s is its path",
        "nft -c -f %s")
    reload: bool = param(
        "load the file with nft -f after a change, and compare the running ruleset", True)
    backup: bool = param(
        "keep a timestamped copy of the old file before changing it (backup_file)", False)
    mode: int | str | None = param(
        "permissions of the file: octal (\"0644\") or symbolic (\"u=rw,g=r,o=r\")", None)


# -- structure of a ruleset: tables, chains (hook, policy), sets ----------------------------


def structure(text: str, read=None, depth: int = 0) -> dict:
    """``{"tables": {(family, name): {"chains": {name: [hook, policy]}, "sets": [...]}},
    "flush": bool}`` of nft syntax (a file or ``nft list ruleset``).

    ``read(pattern)`` returns the texts an ``include`` names (None: includes are ignored).
    """
    out: dict = {"tables": {}, "flush": False}
    stack: list = []  # contexts: ["table", key] / ["chain", key, name] / ["other"]
    stmt: list = []

    def table_key(words: list) -> tuple:
        if words and words[0] in FAMILIES:
            return (words[0], words[1] if len(words) > 1 else "")
        return ("ip", words[0] if words else "")

    def table(key: tuple) -> dict:
        return out["tables"].setdefault(key, {"chains": {}, "sets": []})

    def end_statement() -> None:
        words = [w for w in stmt if w != "\\\n"]
        stmt.clear()
        if not words:
            return
        top = stack[-1] if stack else None
        if top is None:
            if words[:2] == ["flush", "ruleset"]:
                out["tables"].clear()
                out["flush"] = True
            elif words[0] == "include" and read is not None and len(words) > 1 and depth < 8:
                for text in read(words[1].strip('"')):
                    sub = structure(text, read, depth + 1)
                    if sub["flush"]:
                        out["tables"].clear()
                        out["flush"] = True
                    for key, value in sub["tables"].items():
                        merged = table(key)
                        merged["chains"].update(value["chains"])
                        merged["sets"] = sorted(set(merged["sets"]) | set(value["sets"]))
            elif words[0] in ("add", "create") and len(words) > 2 and words[1] == "table":
                table(table_key(words[2:]))
            elif words[0] in ("delete", "destroy") and len(words) > 2 and words[1] == "table":
                out["tables"].pop(table_key(words[2:]), None)
        elif top[0] == "chain":
            chain = table(top[1])["chains"].setdefault(top[2], [None, None])
            if words[0] == "type" and "hook" in words[:-1]:
                chain[0] = words[words.index("hook") + 1]
            elif words[0] == "policy" and len(words) > 1:
                chain[1] = words[1]

    def open_block() -> None:
        words = [w for w in stmt if w != "\\\n"]
        top = stack[-1] if stack else None
        if top is None and words[:1] == ["table"]:
            stack.append(["table", table_key(words[1:])])
            table(stack[-1][1])
        elif top is None and words[:1] in (["add"], ["create"]) and words[1:2] == ["chain"]:
            rest = words[2:]
            key = table_key(rest)
            name = rest[2] if rest and rest[0] in FAMILIES else rest[1] if len(rest) > 1 else ""
            stack.append(["chain", key, name])
            table(key)["chains"].setdefault(name, [None, None])
        elif top is not None and top[0] == "table" and len(words) == 2 and words[0] == "chain":
            stack.append(["chain", top[1], words[1]])
            table(top[1])["chains"].setdefault(words[1], [None, None])
        elif (
            top is not None and top[0] == "table" and len(words) == 2 and words[0] in ("set", "map")
        ):
            sets = table(top[1])["sets"]
            if words[1] not in sets:
                sets.append(words[1])
                sets.sort()
            stack.append(["other"])
        else:
            stack.append(["other"])  # anonymous sets inside rules, set bodies, flowtables...
            return
        stmt.clear()

    for token in TOKEN.findall(text):
        if token.startswith("#"):
            continue
        if token == "{":
            open_block()
        elif token == "}":
            if stack and stack[-1][0] != "other":
                end_statement()
            if stack:
                stack.pop()
            if not stack or stack[-1][0] != "chain":
                stmt.clear()  # the end of a declaration body, not of a set inside a rule
        elif token in (";", "\n"):
            if not stack or stack[-1][0] != "other":
                end_statement()
        else:
            stmt.append(token)
    end_statement()
    return out


def compare(want: dict, running: dict) -> str:
    """``matches``, ``empty`` or ``differs: WHY`` (see the module docs for what is compared)."""
    if not running["tables"]:
        return "matches" if not want["tables"] else "empty"
    if not want["tables"]:
        return "differs: tables are loaded that the content flushes" if want["flush"] else "matches"
    problems = []
    for key, table in sorted(want["tables"].items()):
        name = f"table {key[0]} {key[1]}"
        loaded = running["tables"].get(key)
        if loaded is None:
            problems.append(f"{name} is not loaded")
            continue
        if sorted(table["chains"]) != sorted(loaded["chains"]):
            problems.append(f"{name} has chains {sorted(loaded['chains'])}, "
                            f"the content {sorted(table['chains'])}")
        for chain, (hook, policy) in sorted(table["chains"].items()):
            got = loaded["chains"].get(chain)
            if got is not None and (got[0], got[1] or "accept") != (hook, policy or "accept"):
                problems.append(f"{name} chain {chain}: hook/policy {got[0]}/{got[1] or 'accept'}, "
                                f"the content {hook}/{policy or 'accept'}")
        if table["sets"] != loaded["sets"]:
            problems.append(f"{name} has sets {loaded['sets']}, the content {table['sets']}")
    return "differs: " + "; ".join(problems) if problems else "matches"


def read_include(pattern: str) -> list:
    if not pattern.startswith("/"):
        pattern = os.path.join("/etc", pattern)
    texts = []
    for name in sorted(glob.glob(pattern)):
        if os.path.isfile(name):
            with open(name, encoding="utf-8", errors="replace") as handle:
                texts.append(handle.read())
    return texts


# -- the running ruleset ----------------------------------------------------------------


def nft() -> str:
    found = find_program("nft")
    if found is None:
        raise ModuleFailure("nft is not installed (the nftables package)")
    return found


def running(host, stateless: bool = True) -> tuple:
    """``(listing text, "")`` or ``(None, why it cannot be read)``."""
    if chroot_reason():  # the loaded ruleset would be the build machine's
        return None, chroot_reason()
    if find_program("nft") is None:
        return None, "nft is not installed"
    rc, out, err = host.query([nft(), "-s", "list", "ruleset"] if stateless else
                              [nft(), "list", "ruleset"])
    if rc != 0:
        text = err.strip() or f"nft exited {rc}"
        if DENIED in text:
            return None, "nft needs CAP_NET_ADMIN, which this host does not have"
        return None, text.splitlines()[-1]
    return out, ""


# -- state --------------------------------------------------------------------------------


def observe(p: Params, host) -> dict:
    cur = observe_file(os.path.realpath(expand_path(p.path)), host, attrs=("mode",))
    listing, why = running(host) if p.reload else (None, "not compared (reload: false)")
    cur["ruleset_known"] = listing is not None
    if listing is None:
        cur["ruleset"] = f"unknown: {why}"
    else:
        cur["ruleset"] = compare(structure(p.content, read_include), structure(listing))
    return cur


def desired(p: Params, cur: dict) -> dict:
    new = p.content.encode("utf-8")
    want = {} if new == cur["raw"] else {"content": display_text(new)}
    want.update(wanted_attrs(p.mode, None, None, cur["info"], False, cur["umask"]))
    if p.reload and cur["ruleset_known"]:
        want["ruleset"] = "matches"
    return want


def flushes(content: str) -> bool:
    """Whether loading ``content`` replaces what is loaded (flush ruleset or delete/destroy)."""
    return bool(re.search(r"^\s*(flush\s+ruleset|(delete|destroy)\s+table)\b", content, re.M))


def check_content(p: Params, host, path: str) -> str | None:
    """Run ``validate`` on a temp copy beside ``path``: None if accepted, a warning text if nft
    cannot check here (no CAP_NET_ADMIN); ModuleFailure if it refuses the ruleset."""
    if not p.validate:
        return None
    from fleet.agent.commands import substitute_path

    with host.temp_file(os.path.dirname(path) or ".", p.content.encode("utf-8")) as tmp:
        argv = substitute_path(p.validate, tmp)
        if argv[0] == "nft":
            argv[0] = nft()
        rc, out, err = host.run(argv)
    if rc == 0:
        return None
    text = (err.strip() or out.strip() or f"exit {rc}").replace(tmp, path)
    if DENIED in text:
        return "not validated: nft needs CAP_NET_ADMIN, which this host does not have"
    raise ModuleFailure(f"nft refused the ruleset, nothing was replaced: {text}")


def apply(p: Params, host, cur: dict, want: dict, ctx: Outcome) -> None:
    path, old = cur["path"], file_snapshot(host, cur["path"])
    if "content" in want:
        if not os.path.isdir(os.path.dirname(path)):
            host.mkdir(os.path.dirname(path))
        why = check_content(p, host, path)
        if why:
            ctx.warn("validate", why)
        if p.backup and old["content"] is not None:
            ctx.report(backup_file=host.backup(path))
        mode = want.get("mode") or (None if cur["info"] else "0644")
        host.write_file(path, p.content.encode("utf-8"), mode=mode)
    elif "mode" in want:
        host.set_attrs(path, {"mode": want["mode"]})
    if not p.reload or not ("content" in want or "ruleset" in want):
        return
    if not cur["ruleset_known"]:
        ctx.warn("ruleset", "persisted, not loaded: " + cur["ruleset"][len("unknown: "):])
        return
    rc, out, err = host.run([nft(), "-f", path])
    if rc != 0:
        if "content" in want:
            restore_file(host, old)
        why = (err or out).strip()
        raise ModuleFailure(f"nft -f {path} failed, the previous file was put back: {why}")
    if not flushes(p.content):
        ctx.warn("content", "loaded without 'flush ruleset': nft -f added to the ruleset "
                 "that was loaded instead of replacing it")


def result(p: Params, state: dict) -> dict:
    out = {"path": state["path"], "ruleset": state["ruleset"]}
    if state.get("mode"):
        out["mode"] = state["mode"]
    return out


# -- connection safety --------------------------------------------------------------------


def snapshot(p: Params, host) -> dict:
    """The ruleset file (base64 bytes, mode, owner) and the running ruleset, read-only."""
    path = os.path.realpath(expand_path(p.path))
    listing = None
    if p.reload and find_program("nft") is not None:
        listing, _why = running(host, stateless=False)
    return {"files": [file_snapshot(host, path)], "ruleset": listing}


def revert(p: Params, host, snap: dict) -> None:
    """Restore the file, then the running ruleset as it was (atomically, in one nft run)."""
    for entry in snap["files"]:
        restore_file(host, entry)
    if not p.reload:
        return
    entry = snap["files"][0]
    if snap.get("ruleset") is not None:
        argv, stdin = [nft(), "-f", "-"], "flush ruleset\n" + snap["ruleset"]
    elif entry["content"] is not None:
        argv, stdin = [nft(), "-f", entry["path"]], None
    else:
        argv, stdin = [nft(), "flush", "ruleset"], None
    rc, out, err = host.run(argv, stdin=stdin)
    if rc != 0:
        raise ModuleFailure(f"reloading the previous ruleset failed: {(err or out).strip()}")
