"""Add or remove SSH authorized keys of a user (~/.ssh/authorized_keys).

Behaves like ``ansible.posix.authorized_key``:

* ``key`` holds one or more public keys, one per line (blank lines and ``#`` lines are
  skipped), or an ``http(s)://`` URL to fetch them from (``validate_certs``). Each line is
  ``[options] type base64 [comment]``; options are comma-separated and may hold quoted
  commas and spaces (``from="10.0.0.1,10.0.0.2",command="echo a b"``).
* Keys are identified by type and key data. ``state: present`` adds a key that is missing
  (at the end of the file) and rewrites an entry whose options or comment differ from the
  given ones; ``key_options`` replaces the options of every given key, ``comment`` their
  comment. ``state: absent`` removes the given keys whatever their options.
* ``exclusive: true`` keeps only the given keys: every other key, comment and blank line
  goes (per task: it is not loop-aware, as in Ansible).
* ``path`` defaults to ``~USER/.ssh/authorized_keys``. ``manage_dir`` (default true)
  creates the file's directory with mode ``0700`` owned by the user; the file is ``0600``
  and owned by the user (and their primary group).
* The user owns their home, so the path is opened one directory at a time without
  following symlinks, and the file is read, written, chowned and chmodded through those
  descriptors: a symlinked key file or key directory (``~/.ssh -> /etc``,
  ``authorized_keys -> /etc/shadow``) fails the task, naming the link, in check mode too;
  nothing is read or changed through it. A symlink higher up is followed only in a
  directory only root (or the agent's user) can write (``/home/bob -> /data/bob``). A key
  file with several hard links that the user does not own, or that is not a regular file,
  is refused likewise. ``follow: true`` follows the key file's and directory's symlinks
  (Ansible: write through the link, keep it): one in such a root-only directory as it is,
  any other only to files and directories the user owns (what they could change anyway,
  as sshd reads the file as the user); a link to anything else is still refused.
* Returns Ansible's values: ``user``, ``key``, ``keyfile``, ``path``, ``state``,
  ``exclusive``, ``manage_dir``, ``key_options``, ``validate_certs``.

Differences from Ansible: lines that are not touched are kept byte for byte (Ansible
rewrites the whole file in its own format); an entry whose options or comment change is
rewritten where it is (Ansible moves it to the end); with ``state: present`` the mode and
owner of the file and (``manage_dir``) its directory are enforced even when no key changes
(Ansible fixes them only when it writes keys); a user that does not exist is reported as a
pending change in check mode (a previous task may create it) and fails the real run
(Ansible fails in both unless ``path`` is given); a symlinked key file or directory is
refused unless ``follow: true`` (Ansible reads and chowns through it, then replaces the
link), and ``follow: true`` reaches only what the user owns (Ansible: anything).
"""

from __future__ import annotations

import os
import pwd
from dataclasses import dataclass
from typing import Literal

from fleet.agent.contract import Outcome, param
from fleet.agent.hostio import ModuleFailure, expand_path, format_mode

ALIASES: dict = {}
DIFF_TEXT = ("content",)
KEY_TYPES = frozenset(
    ["ssh-rsa", "ssh-dss", "ssh-ed25519", "ssh-ed448", "ecdsa-sha2-nistp256",
     "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "sk-ecdsa-sha2-nistp256@openssh.com",
     "sk-ssh-ed25519@openssh.com"]
    + [t + "-cert-v01@openssh.com" for t in ("ssh-rsa", "ssh-dss", "ssh-ed25519",
                                                 "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384",
                                                 "ecdsa-sha2-nistp521")]
    + ["sk-ecdsa-sha2-nistp256-cert-v01@openssh.com", "sk-ssh-ed25519-cert-v01@openssh.com"]
)


@dataclass(frozen=True)
class Params:
    user: str = param("user whose authorized_keys file is managed")
    key: str = param(
        "the public key(s), one per line as in authorized_keys, or an http(s):// URL to fetch")
    path: str | None = param(
        "another authorized_keys file (default: ~USER/.ssh/authorized_keys)", None)
    manage_dir: bool = param("create ~/.ssh (0700, owned by the user) when it is missing", True)
    state: Literal["present", "absent"] = param(
        "present adds the key, absent removes it", "present")
    key_options: str | None = param("options put before the key (from=...,no-pty)", None)
    exclusive: bool = param("remove every key not given in this task", False)
    validate_certs: bool = param("check the server's certificate when key is an https:// URL", True)
    comment: str | None = param("comment written after the key instead of its own", None)
    follow: bool = param(
        "write through a symlinked authorized_keys file instead of replacing the link", False)


# -- parsing (pure) ---------------------------------------------------------------------------


def split_options(text: str) -> list:
    """Options as a list, split on commas outside double quotes (``\\"`` escapes a quote)."""
    parts, current, quoted, i = [], "", False, 0
    while i < len(text):
        char = text[i]
        if char == "\\" and quoted and i + 1 < len(text):
            current += text[i:i + 2]
            i += 2
            continue
        if char == '"':
            quoted = not quoted
        if char == "," and not quoted:
            parts.append(current.strip())
            current = ""
        else:
            current += char
        i += 1
    parts.append(current.strip())
    return [part for part in parts if part]


def _options_end(line: str) -> int:
    """Index of the first whitespace outside double quotes (end of the options field)."""
    quoted, i = False, 0
    while i < len(line):
        char = line[i]
        if char == "\\" and quoted:
            i += 2
            continue
        if char == '"':
            quoted = not quoted
        elif char in " \t" and not quoted:
            return i
        i += 1
    return len(line)


def parse_key(line: str) -> dict | None:
    """One authorized_keys line as ``{options, type, blob, comment}``; None for a blank,
    comment or unparsable line."""
    text = line.strip()
    if not text or text.startswith("#"):
        return None
    options: list = []
    first = text.split(None, 1)[0]
    if first not in KEY_TYPES:
        end = _options_end(text)
        options, text = split_options(text[:end]), text[end:].strip()
    parts = text.split(None, 2)
    if len(parts) < 2 or parts[0] not in KEY_TYPES:
        return None
    return {"options": options, "type": parts[0], "blob": parts[1],
            "comment": parts[2].strip() if len(parts) > 2 else ""}


def render(key: dict) -> str:
    options = ",".join(key["options"]) + " " if key["options"] else ""
    comment = " " + key["comment"] if key["comment"] else ""
    return f"{options}{key['type']} {key['blob']}{comment}\n"


def given_keys(p: Params, text: str) -> list:
    """The task's keys, with ``key_options`` and ``comment`` applied."""
    keys = []
    for line in text.replace("\\#", "#").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key = parse_key(line)
        if key is None:
            raise ModuleFailure(f"invalid key specified: {line.strip()}")
        if p.key_options is not None:
            key["options"] = split_options(p.key_options)
        if p.comment is not None:
            key["comment"] = p.comment
        keys.append(key)
    return keys


def _same(a: dict, b: dict) -> bool:
    return sorted(a["options"]) == sorted(b["options"]) and a["comment"] == b["comment"]


def edit(existing: str, keys: list, state: str, exclusive: bool) -> str:
    """The file's new content: ``keys`` present (or absent), other lines kept unless
    ``exclusive``."""
    lines = existing.splitlines(True)
    wanted = {(k["type"], k["blob"]): k for k in keys}
    out: list = []
    placed: set = set()
    for line in lines:
        key = parse_key(line)
        ident = (key["type"], key["blob"]) if key else None
        if ident is None or ident not in wanted:
            if state == "absent" or not exclusive:
                out.append(line)
        elif state == "present" and ident not in placed:
            placed.add(ident)
            out.append(line if key and _same(key, wanted[ident]) else render(wanted[ident]))
    if state == "present":
        for ident, key in wanted.items():
            if ident not in placed:
                if out and not out[-1].endswith("\n"):
                    out[-1] += "\n"
                out.append(render(key))
    return "".join(out)


# -- module -----------------------------------------------------------------------------------


def fetch(url: str, validate_certs: bool) -> str:
    import ssl
    import urllib.request

    context = None if validate_certs else ssl._create_unverified_context()
    try:
        with urllib.request.urlopen(url, timeout=30, context=context) as response:  # noqa: S310
            return response.read().decode("utf-8", errors="replace")
    except Exception as exc:  # any network or HTTP error: Ansible's message and the cause
        raise ModuleFailure(f"Error getting key from: {url}: {exc}") from None


def _key_path(p: Params, entry) -> str | None:
    if p.path:
        return expand_path(p.path)
    return None if entry is None else os.path.join(entry.pw_dir, ".ssh", "authorized_keys")


def _locate(p: Params, host, path: str, uid: int | None):
    """The key file and its directory, opened so that no symlink the user planted is followed
    (``follow: true``: followed only to what the user owns)."""
    hint = "follow: true follows a symlink to a file or directory the user owns"
    return host.locate(path, follow=p.follow, owner=uid, guard=2, hint=hint)


def observe(p: Params, host) -> dict:
    text = fetch(p.key, p.validate_certs) if p.key.startswith(("http://", "https://")) else p.key
    keys = given_keys(p, text)
    try:
        entry = pwd.getpwnam(p.user)
    except KeyError:
        entry = None
    cur: dict = {"user_exists": entry is not None, "_keys": keys}
    given = _key_path(p, entry)
    if given is None:
        return cur
    if entry is not None:
        cur["_ids"] = (entry.pw_uid, entry.pw_gid)
    with _locate(p, host, given, entry.pw_uid if entry else None) as target:
        cur["path"], cur["_given"] = target.path, given
        raw, st = target.read()
        dst = target.dir_stat()
    try:
        cur["content"] = raw.decode("utf-8") if raw is not None else None
    except UnicodeDecodeError:
        raise ModuleFailure(f"{cur['path']} is not UTF-8 text: refusing to edit it") from None
    if st is not None:
        cur.update(mode=format_mode(st.st_mode), uid=st.st_uid, gid=st.st_gid)
    if dst is not None:
        cur.update(dir_state="directory", dir_mode=format_mode(dst.st_mode), dir_uid=dst.st_uid,
                   dir_gid=dst.st_gid)
    return cur


def desired(p: Params, cur: dict) -> dict:
    if "path" not in cur:  # no such user and no path
        return {} if p.state == "absent" else {"user_exists": True}
    content = cur["content"]
    if p.state == "absent" and content is None:
        return {}
    new = edit(content or "", cur["_keys"], p.state, p.exclusive)
    want: dict = {} if new == content else {"content": new}
    if p.state == "present":
        if not cur["user_exists"]:
            want["user_exists"] = True
            return want
        uid, gid = cur["_ids"]
        want.update(mode="0600", uid=uid, gid=gid)
        if p.manage_dir:
            want.update(dir_state="directory", dir_mode="0700", dir_uid=uid, dir_gid=gid)
    return want


def apply(p: Params, host, cur: dict, want: dict, ctx: Outcome) -> None:
    if want.get("user_exists"):
        raise ModuleFailure(f"Failed to lookup user {p.user}: no such user")
    uid = cur["_ids"][0] if "_ids" in cur else None  # no such user, state absent: path given
    with _locate(p, host, cur["_given"], uid) as target:
        if "dir_state" in want:
            target.make_dirs(0o700)
            target.entry_dir.set_attrs(0o700, want["dir_uid"], want["dir_gid"])
        else:
            target.make_dirs()
        mode = want.get("mode", cur.get("mode"))
        bits = int(mode, 8) if mode is not None else 0o666 & ~host.umask
        owner, group = want.get("uid", cur.get("uid", -1)), want.get("gid", cur.get("gid", -1))
        if "content" in want:
            target.replace(want["content"].encode("utf-8"), bits, owner, group)
        elif any(k in want for k in ("mode", "uid", "gid")):
            target.set_attrs(bits, owner, group)


def result(p: Params, state: dict) -> dict:
    """Ansible's return values."""
    return {"user": p.user, "key": p.key, "keyfile": state.get("path"), "path": p.path,
            "state": p.state, "exclusive": p.exclusive, "manage_dir": p.manage_dir,
            "key_options": p.key_options, "validate_certs": p.validate_certs}
