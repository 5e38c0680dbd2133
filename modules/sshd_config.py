"""Manage OpenSSH server settings: a validated drop-in file or managed lines in sshd_config.

Ansible has no such module (playbooks use template or lineinfile); this one knows sshd's rules.

* ``settings`` maps keywords to values: ``{PasswordAuthentication: false, ClientAliveInterval: 300,
  Ciphers: [aes256-gcm@openssh.com], AllowUsers: [alice, bob]}``. Booleans become ``yes``/``no``;
  lists are joined with commas for algorithm keywords (Ciphers, MACs, KexAlgorithms...), one line
  per item for Port, ListenAddress, HostKey, HostCertificate and Subsystem, spaces otherwise.
  Keywords are case-insensitive (given twice: refused); ``Match`` blocks are refused.
* **Drop-in** (default ``path: /etc/ssh/sshd_config.d/50-fleet.conf``): fleet owns the whole
  file, one line per setting in the order given; ``state: absent`` removes it.
* **Main file** (``path`` is ``main_config``): each setting owns the active lines of its keyword
  before the first ``Match`` block: the first is replaced, the others removed; a missing one goes
  after its ``#Keyword`` default, else before the first ``Match``, else at the end. Lines already
  right are left untouched. ``state: absent`` removes the keywords' active lines.
* sshd uses the **first** value it reads for most keywords and Debian's main file starts with
  ``Include /etc/ssh/sshd_config.d/*.conf``: a drop-in beats later main-file lines, an earlier
  drop-in beats yours. Following the Include lines, ``overridden`` names the ``file:line``
  that wins (for Port, ListenAddress, HostKey, Allow/DenyUsers/Groups, AcceptEnv: the other
  files adding values); warnings after a change. ``effective`` is what ``sshd -T -f
  main_config`` (read-only, as root) says; ``included: false`` if nothing includes the file.
* ``validate`` (default ``sshd -t -f %s``) runs before anything is replaced, on a temporary
  complete main configuration (for a drop-in, ``main_config`` with its Include lines naming the
  candidate in its place, glob order kept; a drop-in nothing includes is checked alone). A refusal
  leaves every file as it was; ``validate: null`` skips it. A tree not booted yet (no
  ``/etc/ssh/ssh_host_*_key``, no ``/run/sshd``) is checked with a throwaway key in a private
  temp dir (``-h``) and that directory made for the check only: nothing is left behind.
* After a content change sshd is reloaded (``systemctl reload SERVICE``, ``service`` ``ssh`` on
  Debian, else ``sshd``; then until it listens again) unless ``reload: false``; where it is not
  running (or systemd is not: a chroot), written, and a warning.
* ``backup: true`` keeps a timestamped copy (``backup_file``); ``mode`` applies to the file (a new
  file gets ``0644``). Connection-sensitive: ``snapshot``/``revert`` restore the file's previous
  bytes and mode and reload sshd again (the engine's fresh-connection check).
"""

from __future__ import annotations

import glob
import os
import re
from dataclasses import dataclass
from typing import Any, Literal

from fleet.agent.commands import find_program, substitute_path
from fleet.agent.contract import Outcome, param
from fleet.agent.hostio import ModuleFailure, display_text, expand_path, wanted_attrs
from fleet.agent.includes import expand as include_expand
from fleet.agent.includes import glob_covers as include_covers
from fleet.agent.includes import records as include_records
from fleet.agent.includes import words as include_words
from fleet.agent.systemctl import reload_listener, systemd_running, unit_state
from fleet.agent.textfile import file_snapshot, observe_file, restore_file

ALIASES = {"dest": "path"}
DIFF_TEXT = ("content",)
CONNECTION_SENSITIVE = True
HEADER = "# Managed by fleet (sshd_config): local changes are overwritten.\n"
SSHDIR = "/etc/ssh"  # where sshd resolves relative Include paths (os.path.join keeps absolute ones)
COMMA = {"ciphers", "macs", "kexalgorithms", "hostkeyalgorithms", "pubkeyacceptedalgorithms",
         "hostbasedacceptedalgorithms", "casignaturealgorithms", "gssapikexalgorithms",
         "pubkeyacceptedkeytypes", "hostbasedacceptedkeytypes"}
LINES = {"port", "listenaddress", "hostkey", "hostcertificate", "subsystem"}
ACCUMULATE = {
    "port",
    "listenaddress",
    "hostkey",
    "hostcertificate",
    "allowusers",
    "denyusers",
    "allowgroups",
    "denygroups",
    "acceptenv",
}
SYNONYMS = {
    "challengeresponseauthentication": "kbdinteractiveauthentication",
    "pubkeyacceptedkeytypes": "pubkeyacceptedalgorithms",
    "hostbasedacceptedkeytypes": "hostbasedacceptedalgorithms",
}
KEYWORD = re.compile(r"^[A-Za-z][A-Za-z0-9]*$")
LINE = re.compile(r"^\s*([A-Za-z][A-Za-z0-9]*)(?:\s*=\s*|\s+|$)(.*?)\s*$")


@dataclass(frozen=True)
class Params:
    settings: dict[str, Any] = param(
        "sshd keywords and their values: {PasswordAuthentication: false, Port: [22]}", factory=dict)
    path: str = param(
        "the file to write: a drop-in fleet owns, or main_config to edit its lines",
        "/etc/ssh/sshd_config.d/50-fleet.conf")
    state: Literal["present", "absent"] = param(
        "present sets the keywords, absent removes the drop-in or the keywords' lines", "present")
    main_config: str = param("sshd's main configuration file", "/etc/ssh/sshd_config")
    validate: str | None = param(
        "command run on the candidate file before it replaces the old one; %s is its path"
        " (null: no check)",
        "sshd -t -f %s",
    )
    reload: bool = param("reload sshd after a change when it runs", True)
    service: str | None = param("sshd's service name (default ssh on Debian, else sshd)", None)
    backup: bool = param(
        "keep a timestamped copy of the old file before changing it (backup_file)", False)
    mode: int | str | None = param(
        "permissions of the file: octal (\"0644\") or symbolic (\"u=rw,g=r,o=r\")", None)


def canonical(keyword: str) -> str:
    return SYNONYMS.get(keyword.lower(), keyword.lower())


def _text(keyword: str, value) -> str:
    if value is None:
        raise ModuleFailure(f"settings.{keyword}: a value is required (null given)")
    text = ("yes" if value else "no") if isinstance(value, bool) else str(value)
    if not text.strip() or "\n" in text or "\r" in text:
        raise ModuleFailure(f"settings.{keyword}: {text!r} is not a one-line value")
    return text.strip()


def setting_lines(settings: dict, values: bool = True) -> list:
    """``[(canonical keyword, [config line, ...])]`` in the order given; refuses bad input
    (``values=False``: the keywords only, as state=absent ignores the values)."""
    out: list = []
    seen: dict = {}
    for keyword, value in settings.items():
        if not KEYWORD.match(str(keyword)):
            raise ModuleFailure(f"settings: {keyword!r} is not an sshd keyword")
        key = canonical(keyword)
        if key in ("match", "include"):
            raise ModuleFailure(f"settings: {keyword} is not managed by this module")
        if key in seen:
            raise ModuleFailure(f"settings: {keyword} given twice (also as {seen[key]})")
        seen[key] = keyword
        many = isinstance(value, (list, tuple))
        if many and not value and values:
            raise ModuleFailure(f"settings.{keyword}: an empty list sets nothing")
        items = [_text(keyword, v) for v in (value if many else [value])] if values else []
        if items and key not in LINES:
            items = [("," if key in COMMA else " ").join(items)]
        out.append((key, [f"{keyword} {v}" for v in items]))
    return out


def _norm(line: str) -> tuple:
    key, value = split_line(line)
    return key, (value or "").split()


def split_line(line: str) -> tuple:
    """``(canonical keyword, value)`` of a config line; ``(None, None)`` for comments/blanks."""
    match = LINE.match(line)
    if not match or line.lstrip().startswith("#"):
        return None, None
    return canonical(match.group(1)), match.group(2)


def render_dropin(settings: dict) -> str:  # the drop-in: header, one line per setting
    return HEADER + "".join(
        f"{line}\n" for _key, lines in setting_lines(settings) for line in lines
    )


def edit_main(text: str, settings: dict, absent: bool) -> str:
    """The main file with each setting's keyword owned by the module (see the docs)."""
    lines = (text if text.endswith("\n") or not text else text + "\n").splitlines(True)
    top = next((i for i, line in enumerate(lines) if split_line(line)[0] == "match"), len(lines))
    for key, new in setting_lines(settings, not absent):
        new = [n + "\n" for n in new]
        found = [i for i in range(top) if split_line(lines[i])[0] == key]
        if (found and [_norm(lines[i]) for i in found] == [_norm(n) for n in new]) or (
            absent and not found
        ):
            continue  # already right (whatever its spacing), or nothing to remove
        if found:
            at = found[0]
        else:
            commented = [i for i in range(top) if lines[i].lstrip().startswith("#")
                         and split_line(lines[i].lstrip().lstrip("#"))[0] == key]
            at = commented[0] + 1 if commented else top
        for i in reversed(found):
            del lines[i]
        lines[at:at] = new
        top += len(new) - len(found)
    return "".join(lines)


def glob_covers(pattern: str, path: str) -> bool:
    """Whether Include ``pattern`` (relative to SSHDIR) would match ``path``."""
    return include_covers(pattern, path, SSHDIR)


def records(host, main: str, path: str, content: bytes | None) -> list:
    """Every active ``(keyword, value, file, line)`` sshd reads (see fleet.agent.includes)."""
    return include_records(host, main, path, content, SSHDIR, split_line)


def analyse(p: Params, host, path: str, content: bytes | None, main: str) -> dict:
    """``overridden`` (keyword -> what wins instead) and ``included`` for the given content."""
    recs = records(host, main, path, content)
    ours = {} if p.state == "absent" else dict(setting_lines(p.settings))
    names = {canonical(k): k for k in p.settings}
    overridden = {}
    for key in ours:
        hits = [r for r in recs if r[0] == key]
        if key in ACCUMULATE:
            others = [r for r in hits if r[2] != path]
            if others:
                overridden[names[key]] = "values accumulate: " + "; ".join(
                    f"{f}:{n} adds {v}" for _k, v, f, n in others
                )
        elif hits and hits[0][2] != path:
            _k, value, where, n = hits[0]
            overridden[names[key]] = f"{where}:{n} sets {value} first (sshd uses the first value)"
    included = path == main or any(r[2] == path for r in recs) or not ours
    return {"overridden": overridden, "included": included}


def parse_sshd_t(text: str) -> dict:
    """``sshd -T`` output as keyword -> list of values (repeated keywords accumulate)."""
    out: dict = {}
    for key, _sep, value in (line.strip().partition(" ") for line in text.splitlines()):
        if key:
            out.setdefault(key.lower(), []).append(value.strip())
    return out


def effective(p: Params, host, main: str) -> tuple:
    """``({keyword: value or [values]}, "")`` from ``sshd -T``, or ``(None, why not)``."""
    if find_program("sshd") is None:
        return None, "sshd is not installed"
    rc, out, err = host.query([find_program("sshd"), "-T", "-f", main])
    if rc != 0:
        return None, (err.strip().splitlines() or [f"sshd -T exited {rc}"])[-1]
    parsed = parse_sshd_t(out)
    got = {k: parsed.get(canonical(k)) for k in p.settings}
    return {k: v[0] if v and len(v) == 1 else v for k, v in got.items()}, ""


def _paths(p: Params) -> tuple:
    return os.path.realpath(expand_path(p.path)), os.path.realpath(expand_path(p.main_config))


def observe(p: Params, host) -> dict:
    path, main = _paths(p)
    cur = observe_file(path, host, attrs=("mode",))
    cur.setdefault("mode", None)
    cur["main_config"] = main
    cur.update(analyse(p, host, path, cur["raw"], main))
    cur["effective"], cur["effective_error"] = effective(p, host, main) if p.settings else ({}, "")
    return cur


def new_content(p: Params, cur: dict) -> bytes | None:
    raw, absent = cur["raw"], p.state == "absent"
    if cur["path"] != cur["main_config"]:
        setting_lines(p.settings, not absent)
        return None if absent else render_dropin(p.settings).encode()
    if raw is None:
        raise ModuleFailure(f"{cur['path']} does not exist: the main file is only edited")
    return edit_main(raw.decode("utf-8", "surrogateescape"), p.settings, absent).encode(
        "utf-8", "surrogateescape"
    )


def desired(p: Params, cur: dict) -> dict:
    new = new_content(p, cur)
    want = {} if new == cur["raw"] else {"content": display_text(new)}
    if new is not None:
        want.update(wanted_attrs(p.mode, None, None, cur["info"], False, cur["umask"]))
    return want


def validation_main(main_text: str, path: str, candidate: str | None) -> str:
    """``main_config`` with its Include lines naming ``candidate`` where ``path`` would be."""
    out = []
    for line in main_text.splitlines(True):
        key, value = split_line(line)
        if key != "include" or not any(glob_covers(w, path) for w in include_words(value)):
            out.append(line)
            continue
        files = []
        for word in include_words(value):
            named = (include_expand(word, path, candidate is not None, SSHDIR)
                     if glob_covers(word, path) else [word])
            files += [(candidate or f) if f == path else f for f in named]
        quoted = " ".join(f'"{f}"' if re.search(r"\s", f) else f for f in files)
        out.append(f"Include {quoted}\n" if files else "# (include emptied for validation)\n")
    return "".join(out)


def check_config(p: Params, host, cur: dict, new: bytes | None) -> None:
    """Run ``validate`` on a complete temporary main configuration; ModuleFailure if refused."""
    if not p.validate:
        return
    with host.scratch_dir("fleet-sshd-") as tmp:
        target = _candidate(host, tmp, cur, new)
        if target is not None:
            _validate(p, host, tmp, target)


def _candidate(host, tmp: str, cur: dict, new: bytes | None) -> str | None:
    """The complete main configuration to check, written in ``tmp`` (None: nothing to check)."""
    path, main = cur["path"], cur["main_config"]
    if path == main:
        return _write(host, os.path.join(tmp, "sshd_config"), new or b"")
    target = None if new is None else _write(host, os.path.join(tmp, os.path.basename(path)), new)
    main_text = (host.read_bytes(main) or b"").decode("utf-8", "surrogateescape")
    text = validation_main(main_text, path, target)
    if text != main_text:  # else main does not include path: check the file on its own
        target = _write(
            host, os.path.join(tmp, "main_config"), text.encode("utf-8", "surrogateescape")
        )
    return target


def _validate(p: Params, host, tmp: str, target: str) -> None:
    made = ""
    try:
        argv = substitute_path(p.validate, target)
        if "/" not in argv[0] and find_program(argv[0]) is None:
            raise ModuleFailure(
                f"cannot validate: {argv[0]} is not installed (openssh-server),"
                " nothing was replaced"
            )
        argv[0] = find_program(argv[0]) or argv[0]
        unbooted = os.path.basename(argv[0]) == "sshd" and not glob.glob(
            os.path.join(SSHDIR, "ssh_host_*_key")
        )
        if unbooted:  # no host keys yet (made at first boot): a throwaway one for the check
            if (
                keygen := host.run(
                    [
                        find_program("ssh-keygen") or "ssh-keygen",
                        "-q",
                        "-t",
                        "ed25519",
                        "-N",
                        "",
                        "-f",
                        f"{tmp}/key",
                    ]
                )
            )[0]:
                raise ModuleFailure(
                    f"cannot validate: no host keys here and ssh-keygen failed: {keygen[2].strip()}"
                )
            argv += ["-h", f"{tmp}/key"]
        rc, out, err = host.run(argv)
        privsep = re.search(r"Missing privilege separation directory: (/\S+)", err) if rc else None
        if privsep and os.path.isdir(os.path.dirname(privsep.group(1))):  # made as sshd starts
            host.mkdir(privsep.group(1), mode="0755")
            made = privsep.group(1)
            rc, out, err = host.run(argv)
        if rc != 0:
            why = (err.strip() or out.strip() or f"exit {rc}").replace(tmp + "/", "")
            why = "\n".join(
                x
                for x in why.splitlines()
                if not (unbooted and x.startswith("Unable to load host key"))
            )
            raise ModuleFailure(f"sshd refused the new configuration, nothing was replaced: {why}")
    finally:
        if made:  # only for the check: nothing is left behind
            host.rmdir(made)


def _write(host, path: str, data: bytes) -> str:
    host.write_file(path, data)
    return path


def reload_sshd(p: Params, host) -> str | None:
    """Reload sshd; a warning text when it cannot be (systemd or the service not running)."""
    if not systemd_running():  # never the build machine's sshd
        return "written, not reloaded: systemd is not running"
    service = p.service or ssh_service()
    state = unit_state(host, service)
    if state != "active":
        return f"written, not reloaded: {service}.service is {state or 'not active'}"
    reload_listener(host, service)
    return None


def ssh_service() -> str:
    units = ("/etc/systemd/system", "/lib/systemd/system", "/usr/lib/systemd/system")
    return "ssh" if any(os.path.exists(d + "/ssh.service") for d in units) else "sshd"


def apply(p: Params, host, cur: dict, want: dict, ctx: Outcome) -> None:
    path = cur["path"]
    new = new_content(p, cur)
    if "content" not in want:
        host.set_attrs(path, {"mode": want["mode"]})
        return
    check_config(p, host, cur, new)
    if p.backup and cur["raw"] is not None:
        ctx.report(backup_file=host.backup(path))
    if new is None:
        host.remove(path)
    else:
        if not os.path.isdir(os.path.dirname(path)):
            host.mkdir(os.path.dirname(path), mode="0755")
        host.write_file(path, new, mode=want.get("mode") or (None if cur["info"] else "0644"))
    why = reload_sshd(p, host) if p.reload else None
    if why:
        ctx.warn("reload", why)
    after = analyse(p, host, path, new, cur["main_config"])
    for keyword, winner in after["overridden"].items():
        ctx.warn(keyword, winner)
    if not after["included"]:
        ctx.warn("path", f"{cur['main_config']} does not include {path}: it has no effect")


def result(p: Params, state: dict) -> dict:
    keys = ("path", "main_config", "overridden", "included", "effective", "effective_error", "mode")
    return {k: state[k] for k in keys if state.get(k) not in (None, "") or k == "effective"}


def snapshot(p: Params, host) -> dict:
    """The file the apply may change (bytes as base64, mode, owner), read-only."""
    return {"files": [file_snapshot(host, _paths(p)[0])]}


def revert(p: Params, host, snap: dict) -> None:
    """Put the snapshot's files back exactly, then reload sshd so the old config is live."""
    for entry in snap["files"]:
        restore_file(host, entry)
    if p.reload:
        reload_sshd(p, host)
