"""Load or unload a kernel module, and make that persistent in modules-load.d / modprobe.d.

Behaves like ``community.general.modprobe`` (fleet also serves it as ``modprobe``):

* ``state: present`` loads the module (``modprobe NAME PARAMS``) unless it is loaded or
  built into the kernel; ``state: absent`` unloads it (``modprobe -r NAME``). Loaded means
  listed in ``/proc/modules``, present in ``/sys/module`` or named in the kernel's
  ``modules.builtin``.
* ``persistent: present`` makes sure a file in ``/etc/modules-load.d`` names the module
  (else ``/etc/modules-load.d/NAME.conf`` is written with ``NAME``) and that the
  ``options NAME key=value`` lines in ``/etc/modprobe.d`` are exactly ``params``: other
  ones are commented out and ``/etc/modprobe.d/NAME.conf`` gets one ``options`` line per
  parameter. ``persistent: absent`` comments out (``#``) the module's lines in both
  directories; ``disabled`` (the default) leaves them alone. Nothing is blacklisted.
* Where the host cannot load or unload modules (no ``CAP_SYS_MODULE``: a container; no
  ``/lib/modules/RELEASE``; no ``modprobe``), the persistent files are still written and the
  task reports ``changed`` with the warning ``module NAME: persisted, not loaded: <reason>``;
  the next run is ``ok`` with the same warning (and ``load_refused`` in the registered data).
  Without anything to persist (``persistent: disabled``) that is a failure: the module
  cannot be loaded and nothing else was asked. Unloading a built-in module fails.
* A ``modprobe`` that succeeds without loading the module (an ``install NAME /bin/true``
  rule) is reported as a warning, as Ansible does.

Returns ``name``, ``params``, ``state``, ``loaded`` and ``load_refused``.

Differences from Ansible: files are edited line by line (Ansible joins rewritten lines with
an extra newline); ``root`` (default ``/``) is a fleet extension for tests and image trees:
the files are read and written under it, and nothing is loaded or unloaded unless it is
``/``.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
from dataclasses import dataclass
from typing import Literal

from fleet.agent.contract import Outcome, param
from fleet.agent.hostenv import CAP_SYS_MODULE, chroot_reason, has_capability
from fleet.agent.hostio import ModuleFailure


class _FileFields(tuple):
    """The text fields for diffs: every ``file PATH`` field (the runner asks ``name in``)."""

    def __contains__(self, name) -> bool:
        return str(name).startswith("file ")


DIFF_TEXT = _FileFields()


@dataclass(frozen=True)
class Params:
    name: str = param("name of the kernel module")
    state: Literal["present", "absent"] = param(
        "present loads the module, absent unloads it", "present")
    params: str = param("module parameters, space separated key=value", "")
    persistent: Literal["disabled", "absent", "present"] = param(
        "present: load at boot (modules-load.d, modprobe.d); absent: no longer", "disabled")
    root: str = param(
        "fleet only: the tree the files are under; modules load only when it is /", "/")


def _under(root: str, path: str) -> str:
    return os.path.join(root, path.lstrip("/"))


def _norm(name: str) -> str:
    return name.replace("-", "_")


def module_line_re(name: str):
    return re.compile(rf"^ *{re.escape(name)} *(?:[#;].*)?\n?\Z")


def options_line_re(name: str):
    return re.compile(rf"^options {re.escape(name)} (\w+=\S+) *(?:[#;].*)?\n?\Z")


def is_loaded(name: str, proc_modules: str | None, builtin: str | None, sys_module: bool) -> bool:
    """Loaded per ``/proc/modules`` text, built in per ``modules.builtin`` text, or in
    /sys/module."""
    wanted = _norm(name)
    for line in (proc_modules or "").splitlines():
        if line.split(" ", 1)[0] == wanted:
            return True
    return sys_module or is_builtin(name, builtin)


def is_builtin(name: str, builtin: str | None) -> bool:
    wanted = "/" + _norm(name) + ".ko"
    return any(_norm(line.strip()).endswith(wanted) for line in (builtin or "").splitlines())


def load_refusal(root: str, has_cap: bool, modprobe: str | None, modules_dir: str | None) -> str:
    """Why modules cannot be loaded here, or ``""``. ``modules_dir`` is None when absent."""
    if root != "/":
        return f"root is {root}, not the running system"
    if not has_cap:
        return "no CAP_SYS_MODULE here (a container?)"
    if modprobe is None:
        return "modprobe is not installed (package kmod)"
    if modules_dir is None:
        return f"/lib/modules/{os.uname().release} does not exist here (a container?)"
    return ""


def _files(host, directory: str) -> dict:
    out = {}
    for entry in host.listdir(directory):
        path = os.path.join(directory, entry)
        if os.path.isfile(path):
            out[path] = host.read_text(path)
    return out


def observe(p: Params, host) -> dict:
    if not p.name or "/" in p.name:
        raise ModuleFailure(f"invalid module name {p.name!r}")
    release = os.uname().release
    modules_dir = _under(p.root, f"/lib/modules/{release}")
    builtin = host.read_text(os.path.join(modules_dir, "modules.builtin"))
    cur: dict = {
        "name": p.name,
        "loaded": is_loaded(
            p.name,
            host.read_text(_under(p.root, "/proc/modules")),
            builtin,
            os.path.isdir(_under(p.root, f"/sys/module/{_norm(p.name)}")),
        ),
        "builtin": is_builtin(p.name, builtin),
        "load_dir": _under(p.root, "/etc/modules-load.d"),
        "options_dir": _under(p.root, "/etc/modprobe.d"),
    }
    cur["load_refused"] = chroot_reason() or load_refusal(
        p.root,
        has_capability(CAP_SYS_MODULE),
        shutil.which("modprobe") if p.root == "/" else "modprobe",
        modules_dir if os.path.isdir(modules_dir) else None,
    )
    if p.persistent != "disabled":
        cur["load_files"] = _files(host, cur["load_dir"])
        cur["options_files"] = _files(host, cur["options_dir"])
        for key in ("load_dir", "options_dir"):
            own = os.path.join(cur[key], p.name + ".conf")
            cur["load_files" if key == "load_dir" else "options_files"].setdefault(own, None)
        for files in (cur["load_files"], cur["options_files"]):
            for path, text in files.items():
                cur["file " + path] = text
    return cur


def _comment(text: str | None, pattern) -> str | None:
    if text is None:
        return None
    return "".join("#" + line if pattern.match(line) else line for line in text.splitlines(True))


def persisted_files(
    p: Params, load_dir: str, load_files: dict, options_dir: str, options_files: dict
) -> dict:
    """``{path: new content}`` for every file ``persistent`` changes (pure).

    ``load_files``/``options_files`` map the paths of the files in the two directories to
    their text (None for a file that does not exist).
    """
    module_re, options_re = module_line_re(p.name), options_line_re(p.name)
    out: dict = {}
    if p.persistent == "present":
        if not any(
            module_re.match(line)
            for text in load_files.values()
            for line in (text or "").splitlines(True)
        ):
            out[os.path.join(load_dir, p.name + ".conf")] = p.name + "\n"
        current = {m.group(1) for text in options_files.values()
                   for m in map(options_re.match, (text or "").splitlines(True)) if m}
        if set(p.params.split()) != current:
            for path, text in options_files.items():
                new = _comment(text, options_re)
                if new != text:
                    out[path] = new
            if p.params.split():
                out[os.path.join(options_dir, p.name + ".conf")] = "".join(
                    f"options {p.name} {param}\n" for param in p.params.split()
                )
    elif p.persistent == "absent":
        for files, pattern in ((load_files, module_re), (options_files, options_re)):
            for path, text in files.items():
                new = _comment(text, pattern)
                if new != text:
                    out[path] = new
    return out


def modprobe_command(p: Params, load: bool) -> list:
    if load:
        return ["modprobe", p.name] + shlex.split(p.params)
    return ["modprobe", "-r", p.name]


def desired(p: Params, cur: dict) -> dict:
    want: dict = {}
    if p.persistent != "disabled":
        for path, text in persisted_files(
            p, cur["load_dir"], cur["load_files"], cur["options_dir"], cur["options_files"]
        ).items():
            if text != cur.get("file " + path):
                want["file " + path] = text
    refused = cur["load_refused"]
    if p.state == "present" and not cur["loaded"]:
        if not refused:
            want["loaded"] = True
        elif p.persistent != "present":
            raise ModuleFailure(f"cannot load {p.name}: {refused}")
    elif p.state == "absent" and cur["loaded"]:
        if cur["builtin"]:
            raise ModuleFailure(f"cannot unload {p.name}: it is built into the kernel")
        if not refused:
            want["loaded"] = False
        elif p.persistent != "absent":
            raise ModuleFailure(f"cannot unload {p.name}: {refused}")
    return want


def apply(p: Params, host, cur: dict, want: dict, ctx: Outcome) -> None:
    if "loaded" in want:
        rc, out, err = host.run(modprobe_command(p, want["loaded"]))
        if rc != 0:
            raise ModuleFailure((err or out).strip() or f"modprobe exited {rc}")
        if want["loaded"] and not observe(p, host)["loaded"]:
            ctx.warn("loaded", f"modprobe {p.name} succeeded but the module is not loaded")
    for field, text in want.items():
        if field.startswith("file "):
            path = field[5:]
            parent = os.path.dirname(path)
            if not os.path.isdir(parent):
                host.mkdir(parent)
            host.write_file(path, text.encode("utf-8"))


# Warnings name what they are about (``module VALUE: why``), so several can be told apart.
CAVEAT_SUBJECT = ("module", "name")


def caveats(p: Params, state: dict) -> dict:
    """The load or unload this host refuses, reported as a warning on every run."""
    if state["load_refused"] and state["loaded"] != (p.state == "present"):
        verb = "loaded" if p.state == "present" else "unloaded"
        return {"loaded": f"persisted, not {verb}: {state['load_refused']}"}
    return {}


def result(p: Params, state: dict) -> dict:
    return {
        "name": p.name,
        "params": p.params,
        "state": p.state,
        "loaded": state["loaded"],
        "load_refused": state["load_refused"],
    }
