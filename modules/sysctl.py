"""Manage a kernel parameter: persisted in a sysctl file and applied at runtime where allowed.

Behaves like ``ansible.posix.sysctl``:

* ``state: present`` puts ``name=value`` in ``sysctl_file``: the first line setting ``name``
  is replaced (later duplicates of it are removed, since the last one would win at boot), or
  the line is added at the end. A line that already has the value is left as it is, even
  when written ``name = value``. ``state: absent`` removes every line setting ``name``.
* ``value`` is compared as Ansible does: booleans (``yes``/``true``/``on``...) become ``1``
  or ``0``; the runtime value is compared word by word, so ``32768 60999`` equals the
  kernel's ``32768<TAB>60999`` (``net.ipv4.ip_local_port_range``).
* The runtime value is ``/proc/sys/<name with dots as slashes>`` (a name whose first
  separator is ``/`` is taken as a path; ``eth0.100`` style parts are written ``eth0/100``).
  A name with ``.``/``..`` parts (``kernel/../../../root/x``), whitespace, ``=`` or NUL, and
  a value with a line break inside, are refused before anything connects and again on the
  host, which also checks that the resolved path stays below ``proc_sys``.
  With ``reload: true`` (the default) or ``sysctl_set: true`` it is set whenever it differs,
  even if the file already has the value (Ansible's ``reload`` does the same through
  ``sysctl -p``).
* A key unknown to the kernel fails the task unless ``ignoreerrors: true`` (then it is only
  persisted) or neither ``reload`` nor ``sysctl_set`` asks for the runtime value.
* Where ``/proc/sys`` is not there at all (``/proc`` not mounted: a chroot, an image tree),
  no key can be checked or set: the file is written and the task warns ``key NAME: persisted,
  not applied at runtime: /proc/sys is not mounted here (a chroot?)`` on every run. In a chroot
  with ``/proc`` mounted, ``/proc/sys`` is the build machine's kernel: never written, nor
  asked about unknown keys (``key NAME: persisted, not applied at runtime: a chroot: ...``).
* Hosts that do not let the runtime value change (a container's read-only ``/proc/sys``,
  no write permission) still get the file: the task reports ``changed`` with the warning
  ``key NAME: persisted, not applied at runtime: <reason>`` and is ``ok`` on the next run,
  with the same warning (the runtime value is not a wanted field where it cannot be written;
  the warning and the registered ``runtime_refused`` say why on every run). A write the
  kernel refuses although the file
  looked writable (``EPERM``: a setting that needs ``CAP_SYS_ADMIN``) gives the same warning,
  but then on every run, since nothing can tell beforehand. An invalid value (``EINVAL``)
  fails the task before the file is written.

A ``sysctl_file`` in a sysctl.d directory is checked against the files systemd-sysctl reads
after it at boot: one giving ``name`` another value would win at the next boot, so it is
named in ``shadowed_by`` and in a warning (``key NAME: a file read later at boot sets it too and
wins: FILE``) on every run.

Returns ``name``, ``value``, ``sysctl_file``, ``file_value``, ``runtime_value`` (None for an
unknown key), ``runtime_refused`` (why the runtime value cannot be set here, or ``""``) and
``shadowed_by``.

Differences from Ansible: ``sysctl_file`` defaults to ``/etc/sysctl.d/99-fleet.conf``
(Ansible: ``/etc/sysctl.conf``, which newer distributions no longer read at boot; where it
is read, Debian's ``99-sysctl.conf`` link sorts after ``99-fleet.conf``, hence the check).
Only the lines of ``name`` are touched (Ansible rewrites every line as ``key=value``), and
``reload`` sets only this key at runtime, by writing ``/proc/sys`` directly (Ansible runs
``sysctl -p`` on the whole file). ``proc_sys`` (default ``/proc/sys``) is a fleet extension
for tests and image trees. The file's mode/owner/group parameters are not supported.
"""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass
from typing import Literal

from fleet.agent.contract import Outcome, param
from fleet.agent.hostenv import chroot_reason
from fleet.agent.hostio import ModuleFailure
from fleet.agent.textfile import observe_file

ALIASES = {"key": "name", "val": "value"}
DIFF_TEXT = ("content",)
TRUE = ("y", "yes", "on", "1", "true", "t")
FALSE = ("n", "no", "off", "0", "false", "f")
SYSCTL_DIRS = (
    "/etc/sysctl.d",
    "/run/sysctl.d",
    "/usr/local/lib/sysctl.d",
    "/usr/lib/sysctl.d",
    "/lib/sysctl.d",
)


@dataclass(frozen=True)
class Params:
    name: str = param("the key (net.ipv4.ip_forward)")
    value: str | None = param("the value (required with state=present)", None)
    state: Literal["present", "absent"] = param(
        "present sets the key in sysctl_file, absent removes its lines", "present")
    reload: bool = param(
        "set the runtime value when it differs (like sysctl -p after a change)", True)
    sysctl_set: bool = param("set the runtime value when it differs", False)
    ignoreerrors: bool = param("a key the kernel does not know is persisted, not failed", False)
    sysctl_file: str = param("the file that persists the key", "/etc/sysctl.d/99-fleet.conf")
    proc_sys: str = param("fleet only: where the runtime values are", "/proc/sys")


def parse_value(value) -> str:
    """Ansible's ``_parse_value``: booleans as ``1``/``0``, other text stripped."""
    if value is None:
        return ""
    text = str(value)
    if text.lower() in TRUE:
        return "1"
    if text.lower() in FALSE:
        return "0"
    return text.strip()


def same_value(a: str | None, b: str | None) -> bool:
    """Ansible's ``_values_is_equal``: equal word by word (whitespace is not significant)."""
    return a is not None and b is not None and a.split() == b.split()


def _relative(name: str) -> str:
    first = min((i for i in (name.find("."), name.find("/")) if i >= 0), default=-1)
    slashed = first >= 0 and name[first] == "/"
    return (name if slashed else name.translate(str.maketrans("./", "/."))).strip("/")


def proc_path(proc_sys: str, name: str) -> str:
    """``/proc/sys`` path of a key: dots are separators, unless the first separator is ``/``."""
    return os.path.join(proc_sys, _relative(name))


def name_problem(name: str) -> str | None:
    """Why ``name`` is no sysctl key (it would leave ``/proc/sys`` or break the file's line)."""
    if not name.strip():
        return "name cannot be blank"
    if any(char.isspace() or char in "=\0" for char in name.strip()):
        return "a key has no whitespace, '=' or NUL"
    parts = _relative(name.strip()).split("/")
    if any(part in (".", "..") for part in parts):
        return "'.' and '..' are no part of a key (the path would leave /proc/sys)"
    if "" in parts:
        return "a key has no empty parts"
    return None


def check_param(field: str, value) -> None:
    """Refuse a bad ``name`` or a multi-line ``value``: called by the controller's validation
    (before anything connects) and again on the host."""
    if field == "name" and isinstance(value, str):
        problem = name_problem(value)
        if problem:
            raise ModuleFailure(f"invalid sysctl name {value!r}: {problem}")
    if (
        field == "value"
        and isinstance(value, str)
        and any(char in value.strip() for char in "\n\r\0")
    ):
        raise ModuleFailure("value must be one line (no newline, carriage return or NUL)")


def parse_line(line: str):
    """``(key, value)`` of a sysctl.conf line, or None for blanks, comments and junk."""
    text = line.strip()
    if not text or text.startswith(("#", ";")) or "=" not in text:
        return None
    key, value = text.split("=", 1)
    return key.strip(), value.strip()


def file_value(content: str | None, name: str) -> str | None:
    """The value the file gives ``name`` (the last line setting it wins), or None."""
    found = None
    for line in (content or "").splitlines():
        parsed = parse_line(line)
        if parsed and parsed[0] == name:
            found = parsed[1]
    return found


def edit(content: str | None, name: str, value: str, state: str) -> str:
    """The file with ``name`` set to ``value`` (present) or removed (absent)."""
    lines = (content or "").splitlines(True)
    out, done = [], False
    for line in lines:
        parsed = parse_line(line)
        if not parsed or parsed[0] != name:
            out.append(line)
        elif state == "present" and not done:
            done = True
            out.append(line if parsed[1] == value and line.endswith("\n") else f"{name}={value}\n")
    if state == "present" and not done:
        if out and not out[-1].endswith("\n"):
            out[-1] += "\n"
        out.append(f"{name}={value}\n")
    return "".join(out)


def runtime_refusal(path: str, exists: bool, proc_sys: str = "/proc/sys") -> str:
    """Why the runtime value at ``path`` cannot be written here, or ``""`` (read-only check)."""
    if not exists or os.access(path, os.W_OK):
        return ""
    try:
        read_only = bool(os.statvfs(path).f_flag & os.ST_RDONLY)
    except OSError:
        read_only = False
    if read_only:
        return f"{proc_sys} is read-only here (a container?)"
    return f"{path} is not writable by this user"


def boot_files(host, dirs=SYSCTL_DIRS) -> dict:
    """``{file name: path}`` systemd-sysctl reads at boot (a name in an earlier dir masks later)."""
    chosen: dict = {}
    for directory in dirs:
        for entry in host.listdir(directory):
            if entry.endswith(".conf") and entry not in chosen:
                chosen[entry] = os.path.join(directory, entry)
    return chosen


def shadowing(name: str, value: str, own: str, chosen: dict, read) -> list:
    """Files read after ``own`` at boot that give ``name`` another value (theirs would win).

    Only for a file in one of the sysctl.d directories (else its place at boot is unknown).
    """
    base = os.path.basename(own)
    if os.path.dirname(own) not in SYSCTL_DIRS or chosen.get(base, own) != own:
        return []
    out = []
    for later in sorted(b for b in chosen if b > base):
        theirs = file_value(read(chosen[later]), name)
        if theirs is not None and not same_value(theirs, value):
            out.append(f"{chosen[later]} ({name}={theirs})")
    return out


def _wants_runtime(p: Params) -> bool:
    return p.state == "present" and (p.reload or p.sysctl_set)


def observe(p: Params, host) -> dict:
    name = p.name.strip()
    file = observe_file(p.sysctl_file, host, attrs=(), is_dir="sysctl_file {} is a directory")
    path = file["path"]
    proc, chroot = proc_path(p.proc_sys, name), chroot_reason()
    inside = os.path.realpath(p.proc_sys).rstrip("/") + "/"
    if not os.path.realpath(proc).startswith(inside):
        raise ModuleFailure(f"invalid sysctl name {name!r}: {proc} is not below {p.proc_sys}")
    exists, runtime, unreadable = os.path.isfile(proc), None, ""
    try:  # in a chroot the value there is the build machine's kernel's: not this system's
        runtime = host.read_text(proc) if exists and not chroot else None
    except OSError as exc:  # a write-only key (vm.drop_caches): nothing to compare with
        unreadable = f"{proc} cannot be read: {exc.strerror or exc}"
    cur: dict = {
        "name": name,
        "path": path,
        "real": file["real"],
        "content": file["content"],
        "proc_path": proc,
        "runtime_value": None if runtime is None else " ".join(runtime.split()),
    }
    refused = unreadable or runtime_refusal(proc, exists, p.proc_sys)
    mounted = os.path.isdir(p.proc_sys)
    if not mounted:
        refused = f"{p.proc_sys} is not mounted here (a chroot?)"
    elif chroot:  # /proc mounted in a tree: the kernel there is the build machine's
        refused = chroot
    elif not exists and _wants_runtime(p):
        refused = f"{name} is unknown to this kernel ({proc} does not exist)"
    cur["runtime_refused"], cur["runtime_exists"] = refused, exists
    cur["kernel_known"] = mounted and not chroot  # its keys tell what the target's kernel has
    cur["runtime"] = cur["runtime_value"]  # wanted only where it can be written (desired)
    cur["shadowed_by"] = []
    if p.state == "present":
        cur["shadowed_by"] = shadowing(
            name, parse_value(p.value), path, boot_files(host), host.read_text
        )
    return cur


def desired(p: Params, cur: dict) -> dict:
    value = parse_value(p.value)
    if p.state == "present" and not value:
        raise ModuleFailure(
            "value cannot be blank" if p.value is not None else "value cannot be None"
        )
    if cur["content"] is not None and cur["content"].startswith("(binary content"):
        raise ModuleFailure(f"{cur['path']} is not a text file")
    want: dict = {}
    new = edit(cur["content"], cur["name"], value, p.state)
    if new != (cur["content"] or ""):
        want["content"] = new
    if _wants_runtime(p):
        if not cur["runtime_exists"] and cur["kernel_known"] and not p.ignoreerrors:
            raise ModuleFailure(
                f"sysctl key {cur['name']} is unknown to this kernel ({cur['proc_path']} does not "
                "exist); ignoreerrors: true persists it anyway"
            )
        if not cur["runtime_refused"] and not same_value(cur["runtime_value"], value):
            want["runtime"] = " ".join(value.split())
    return want


def apply(p: Params, host, cur: dict, want: dict, ctx: Outcome) -> None:
    if "runtime" in want:
        try:
            host.overwrite(cur["proc_path"], (parse_value(p.value) + "\n").encode("utf-8"))
        except OSError as exc:
            if exc.errno == errno.EINVAL:
                raise ModuleFailure(f"setting {cur['name']} failed: {exc.strerror}") from None
            ctx.warn("runtime", f"persisted, not applied at runtime: {exc.strerror or exc}")
    if "content" in want:
        parent = os.path.dirname(cur["real"])
        if parent and not os.path.isdir(parent):
            host.mkdir(parent)
        host.write_file(cur["real"], want["content"].encode("utf-8"))


# Warnings name what they are about (``key VALUE: why``), so several can be told apart.
CAVEAT_SUBJECT = ("key", "name")


def caveats(p: Params, state: dict) -> dict:
    """What the host keeps from being as wanted, reported as a warning on every run."""
    notes = {}
    if (
        _wants_runtime(p)
        and state["runtime_refused"]
        and not same_value(state["runtime_value"], parse_value(p.value))
    ):
        notes["runtime"] = f"persisted, not applied at runtime: {state['runtime_refused']}"
    if state["shadowed_by"]:
        notes["boot"] = "a file read later at boot sets it too and wins: " + ", ".join(
            state["shadowed_by"]
        )
    return notes


def result(p: Params, state: dict) -> dict:
    return {
        "name": state["name"],
        "value": parse_value(p.value) if p.state == "present" else None,
        "sysctl_file": state["path"],
        "file_value": file_value(state["content"], state["name"]),
        "runtime_value": state["runtime_value"],
        "runtime_refused": state["runtime_refused"],
        "shadowed_by": state["shadowed_by"],
    }
