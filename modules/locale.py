"""Create or remove locales: enabled in /etc/locale.gen and compiled with locale-gen.

Behaves like ``community.general.locale_gen`` (also served as ``locale_gen``) on Debian:

* ``name``: one locale or a list, as written in /etc/locale.gen (``en_US.UTF-8``,
  ``de_DE@euro``...). A name that /etc/locale.gen does not list (commented or not) and that
  is not already compiled fails: ``The following locales you've entered are not available on
  your system: ...``.
* ``state: present``: each locale's line is uncommented in /etc/locale.gen and, if any of
  them is missing from ``locale -a``, ``locale-gen`` compiles them. ``locale -a`` spells
  codesets its own way; names are compared normalised as glibc does (``en_US.UTF-8`` is
  ``en_US.utf8``).
* ``state: absent``: the lines are commented out (``# NAME CHARSET``) and, if any of them is
  still compiled, ``locale-gen`` rebuilds the archive without them. The C library's own
  ``C``, ``C.UTF-8`` and ``POSIX`` cannot be removed (refused).
* Without the ``locales`` package (a minbase Debian) there is no /etc/locale.gen nor
  ``locale-gen``: a task that would have to change something fails with ``... install the
  locales package``; one that has nothing to do (``C.UTF-8`` is built in) is ``ok``.
* ``locale_gen_file`` (fleet only, for tests): the file edited instead of /etc/locale.gen.
  Debian's ``locale-gen`` always reads /etc/locale.gen, so leave it alone on real hosts.

The default locale (``LANG`` in /etc/default/locale) is not this module's business, as in
Ansible: set it with ``lineinfile`` (``regexp: ^LANG=``) or ``copy``.

Returns ``name`` (the list) and ``present`` (those of them compiled now).

Differences from Ansible: a locale that is compiled but commented out in /etc/locale.gen gets
its line uncommented (``changed``), so the next ``locale-gen`` run, which rebuilds the whole
archive from the file, keeps it (Ansible leaves the file as it is); Ubuntu's
``/var/lib/locales/supported.d`` layout is not handled.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from typing import Literal

from fleet.agent.contract import Outcome, param
from fleet.agent.hostio import ModuleFailure

ALIASES: dict = {}
DIFF_TEXT = ("locale_gen",)
BUILTIN = ("c", "c.utf8", "posix")
PACKAGE_MSG = "install the locales package (it provides /etc/locale.gen and locale-gen)"


@dataclass(frozen=True)
class Params:
    name: list[str] | str = param("locale(s) to generate or remove, e.g. en_US.UTF-8")
    state: Literal["absent", "present"] = param(
        "present generates the locale, absent removes it", "present")
    locale_gen_file: str = param("fleet only: the locale.gen file to edit", "/etc/locale.gen")


def names(p: Params) -> list:
    items = [p.name] if isinstance(p.name, str) else list(p.name)
    items = [str(n).strip() for n in items]
    if not items or any(not n or any(c.isspace() for c in n) for n in items):
        raise ModuleFailure(f"name must be locale names without blanks, got {p.name!r}")
    return items


def normalise(name: str) -> str:
    """A locale name as glibc compares it: codeset lower-case, letters and digits only."""
    rest, at, modifier = name.partition("@")
    lang, dot, codeset = rest.partition(".")
    if dot:
        codeset = re.sub(r"[^0-9a-z]", "", codeset.lower())
        if codeset.isdigit():
            codeset = "iso" + codeset
        lang += "." + codeset
    return lang + at + modifier


def _line_re(name: str):
    return re.compile(r"^#?\s*" + re.escape(name) + r" (?P<charset>.+)$")


def listed(content: str, name: str) -> bool:
    """Whether /etc/locale.gen has a line (commented or not) for ``name``."""
    line_re = _line_re(name)
    return any(line_re.match(line) for line in content.splitlines())


def edit(content: str, wanted: list, enabled: bool) -> str:
    """Uncomment (or comment out) the lines of the ``wanted`` locales, like Ansible."""
    lines = content.splitlines(True)
    for name in wanted:
        line_re = _line_re(name)
        for i, line in enumerate(lines):
            body = line.rstrip("\r\n")
            match = line_re.match(body)
            if match:
                new = (
                    f"{name} {match.group('charset')}"
                    if enabled
                    else f"# {name} {match.group('charset')}"
                )
                lines[i] = new + line[len(body):]
    return "".join(lines)


def observe(p: Params, host) -> dict:
    wanted = names(p)
    rc, out, err = host.query(["locale", "-a"])
    if rc != 0:
        raise ModuleFailure(f"locale -a failed: {(err or out).strip()}")
    compiled = {normalise(line.strip()).lower() for line in out.splitlines() if line.strip()}
    cur: dict = {
        "present": [n for n in wanted if normalise(n).lower() in compiled],
        "locale_gen": host.read_text(p.locale_gen_file),
    }
    return cur


def desired(p: Params, cur: dict) -> dict:
    wanted = names(p)
    present = p.state == "present"
    content = cur["locale_gen"]
    if not present:
        builtin = [n for n in wanted if normalise(n).lower() in BUILTIN]
        if builtin:
            raise ModuleFailure(
                f"{', '.join(builtin)}: built into the C library, cannot be removed"
            )
    want: dict = {"present": list(wanted) if present else []}
    if content is None:
        if cur["present"] != want["present"]:
            raise ModuleFailure(f"{p.locale_gen_file} is missing: {PACKAGE_MSG}")
        return want
    if present:
        missing = [n for n in wanted if not listed(content, n) and n not in cur["present"]]
        if missing:
            raise ModuleFailure("The following locales you've entered are not available on "
                                f"your system: {', '.join(missing)}")
    want["locale_gen"] = edit(content, wanted, present)
    return want


def apply(p: Params, host, cur: dict, want: dict, ctx: Outcome) -> None:
    generate = cur["present"] != want["present"]
    if generate and shutil.which("locale-gen") is None:  # before touching the file
        raise ModuleFailure(f"locale-gen is not installed: {PACKAGE_MSG}")
    if want.get("locale_gen") is not None and want["locale_gen"] != cur["locale_gen"]:
        host.write_file(p.locale_gen_file, want["locale_gen"].encode("utf-8"))
    if not generate:
        return
    rc, out, err = host.run(["locale-gen"])
    if rc != 0:
        raise ModuleFailure(f"locale-gen failed (rc={rc}): {(err or out).strip()}")


def result(p: Params, state: dict) -> dict:
    return {"name": names(p), "state": p.state, "present": state["present"]}

