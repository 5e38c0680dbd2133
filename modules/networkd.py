"""Manage a systemd-networkd unit file (.network, .netdev or .link) and reload networkd.

Ansible has no such module (playbooks template the file); this one renders the INI itself.

* The file is ``dir/name.kind``: ``kind`` is ``network`` (default), ``netdev`` or ``link``;
  ``dir`` defaults to ``/etc/systemd/network``; ``name`` may already end in ``.kind``.
  fleet owns the whole file; ``state: absent`` removes it.
* ``sections`` maps a section to its keys, or to a list of key maps for a section that
  repeats (``Address``, ``Route``, ``RoutingPolicyRule``...)::

      sections:
        Match: {Name: eth0}
        Network: {Address: [10.0.0.2/24, 10.0.0.3/24], DNS: [192.0.2.53], IPv6AcceptRA: false}
        Route: [{Gateway: 10.0.0.1}, {Destination: 10.9.0.0/16, Gateway: 10.0.0.254}]

  rendered as systemd expects: ``[Match]`` first, then the sections in the order given; keys in
  the order given; a list value repeats the key (``DNS=a`` then ``DNS=b``); ``true``/``false``
  become ``yes``/``no``; ``null`` leaves the key out; ``""`` writes ``Key=`` (which empties a
  list in systemd). A stable order means no change is reported while the inputs are the same.
* Validation before anything is written: section and key names must be systemd identifiers
  (``[A-Za-z][A-Za-z0-9-]*``; keys without ``-``), values one line; a ``.netdev`` needs
  ``NetDev`` with ``Name`` and ``Kind``. There is no offline checker for networkd files
  (``systemd-analyze verify`` does not read them), so unknown keys are networkd's to warn
  about in its journal.
* ``mode`` defaults to ``0644``; ``owner``/``group`` are kept unless given: use ``mode:
  "0640"`` with ``group: systemd-network`` for files holding secrets (WireGuard keys).
  ``backup: true`` keeps a timestamped copy (``backup_file``).
* After a content change ``networkctl reload`` runs when systemd-networkd is active (it
  reconfigures the links the changed .network files match; a changed .netdev does not
  recreate an existing device). When networkd is not running the file is written and a
  warning says ``written, networkd not running: not reloaded``. ``.link`` files are read by
  udev when a device appears, so they are never reloaded (a warning says so). ``reload:
  false`` never reloads.
* Connection-sensitive: ``snapshot``/``revert`` restore the file's previous bytes, mode and
  owner and reload networkd again, for the engine's fresh-connection check.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any, Literal

from fleet.agent.contract import Outcome, param
from fleet.agent.hostio import ModuleFailure, display_text, expand_path, wanted_attrs
from fleet.agent.systemctl import unit_state
from fleet.agent.textfile import file_snapshot, observe_file, restore_file, wanted_attrs_of

ALIASES = {"dest": "dir", "type": "kind"}
DIFF_TEXT = ("content",)
CONNECTION_SENSITIVE = True
SYSTEMD_RUNNING = "/run/systemd/system"  # exists when systemd is PID 1
HEADER = "# Managed by fleet (networkd): local changes are overwritten.\n"
SECTION = re.compile(r"^[A-Za-z][A-Za-z0-9-]*$")
KEY = re.compile(r"^[A-Za-z][A-Za-z0-9]*$")
NAME = re.compile(r"^[A-Za-z0-9@_:+-][A-Za-z0-9@._:+-]*$")
ATTRS = ("mode", "owner", "group", "uid", "gid")


@dataclass(frozen=True)
class Params:
    name: str = param("the unit file's name (dir/name.kind)")
    kind: Literal["network", "netdev", "link"] = param(
        "the unit file's kind: network, netdev or link", "network")
    sections: dict[str, Any] = param(
        "sections of the file: {Section: {Key: value}}, a list for a repeated section",
        factory=dict)
    state: Literal["present", "absent"] = param(
        "present writes the file, absent removes it", "present")
    dir: str = param("directory of the unit file", "/etc/systemd/network")
    mode: int | str | None = param(
        "permissions of the file: octal (\"0644\") or symbolic (\"u=rw,g=r,o=r\")", "0644")
    owner: str | None = param("user that should own the file (kept as it is when not given)", None)
    group: str | None = param("group that should own the file (kept as it is when not given)", None)
    reload: bool = param("run networkctl reload after a change when networkd is active", True)
    backup: bool = param(
        "keep a timestamped copy of the old file before changing it (backup_file)", False)


def file_path(p: Params) -> str:
    name = p.name
    if name.endswith("." + p.kind):
        name = name[: -len(p.kind) - 1]
    if not NAME.match(name) or name in (".", ".."):
        raise ModuleFailure(f"name: {p.name!r} is not a file name for a networkd unit")
    return os.path.join(expand_path(p.dir), f"{name}.{p.kind}")


def _value(where: str, value) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (dict, list, tuple)):
        raise ModuleFailure(f"{where}: a value must be text, a number or a boolean")
    text = str(value)
    if "\n" in text or "\r" in text:
        raise ModuleFailure(f"{where}: {text!r} is not a one-line value")
    return text


def _keys(section: str, keys) -> list:
    if not isinstance(keys, dict):
        raise ModuleFailure(f"sections.{section}: expected a map of keys (or a list of maps)")
    lines = []
    for key, value in keys.items():
        where = f"sections.{section}.{key}"
        if not KEY.match(str(key)):
            raise ModuleFailure(f"{where}: {key!r} is not a systemd key name")
        values = value if isinstance(value, (list, tuple)) else [value]
        for item in values:
            if item is not None:
                lines.append(f"{key}={_value(where, item)}\n")
    return lines


def render(sections: dict, kind: str) -> str:
    """The unit file's text: header, ``[Match]`` first, then the sections in the order given."""
    order = [s for s in sections if s == "Match"] + [s for s in sections if s != "Match"]
    blocks = []
    for section in order:
        if not SECTION.match(str(section)):
            raise ModuleFailure(f"sections: {section!r} is not a systemd section name")
        body = sections[section]
        for keys in body if isinstance(body, (list, tuple)) else [body]:
            blocks.append(f"[{section}]\n" + "".join(_keys(section, keys)))
    if kind == "netdev":
        netdev = sections.get("NetDev")
        if not isinstance(netdev, dict) or not netdev.get("Name") or not netdev.get("Kind"):
            raise ModuleFailure("a .netdev file needs sections.NetDev with Name and Kind")
    return HEADER + "\n".join(blocks)


def networkd_state(host) -> str:
    """``active``, ``inactive``, ... or ``no systemd`` (read-only)."""
    if not os.path.isdir(SYSTEMD_RUNNING):
        return "no systemd"
    return unit_state(host, "systemd-networkd.service") or "unknown"


def observe(p: Params, host) -> dict:
    cur = observe_file(file_path(p), host, real=False, attrs=ATTRS)
    cur["networkd"] = networkd_state(host) if p.reload else "not checked (reload: false)"
    return cur


def desired(p: Params, cur: dict) -> dict:
    if p.state == "absent":
        return {} if cur["raw"] is None else {"content": None}
    new = render(p.sections, p.kind).encode("utf-8")
    want = {} if new == cur["raw"] else {"content": display_text(new)}
    want.update(wanted_attrs(p.mode, p.owner, p.group, cur["info"], False, cur["umask"]))
    return want


def reload_networkd(p: Params, host) -> str | None:
    """``networkctl reload`` when networkd runs; else the warning text."""
    if p.kind == "link":
        return "written: .link files are applied by udev when a device appears, not reloaded"
    state = networkd_state(host)
    if state != "active":
        return f"written, networkd not running: not reloaded ({state})"
    rc, out, err = host.run(["networkctl", "reload"])
    if rc != 0:
        raise ModuleFailure(f"networkctl reload failed: {(err or out).strip()}")
    return None


def apply(p: Params, host, cur: dict, want: dict, ctx: Outcome) -> None:
    path = cur["path"]
    attrs = wanted_attrs_of(want)
    if "content" not in want:
        host.set_attrs(path, attrs)
        return
    if p.backup and cur["raw"] is not None:
        ctx.report(backup_file=host.backup(path))
    if p.state == "absent":
        host.remove(path)
    else:
        if not os.path.isdir(os.path.dirname(path)):
            host.mkdir(os.path.dirname(path), mode="0755")
        host.write_file(path, want["content"].encode("utf-8"), mode=attrs.get("mode"),
                        owner=attrs.get("owner", attrs.get("uid")),
                        group=attrs.get("group", attrs.get("gid")))
    why = reload_networkd(p, host) if p.reload else None
    if why:
        ctx.warn("reload", why)


def result(p: Params, state: dict) -> dict:
    out = {"path": state["path"], "networkd": state["networkd"]}
    for key in ATTRS:
        if key in state:
            out[key] = state[key]
    return out


# -- connection safety --------------------------------------------------------------------


def snapshot(p: Params, host) -> dict:
    """The unit file the apply may change (base64 bytes, mode, owner), read-only."""
    return {"files": [file_snapshot(host, file_path(p))]}


def revert(p: Params, host, snap: dict) -> None:
    """Put the file back exactly, then ``networkctl reload`` so the old config is live."""
    for entry in snap["files"]:
        restore_file(host, entry)
    if p.reload:
        reload_networkd(p, host)
