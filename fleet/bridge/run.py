"""The bridge for one run: what the loader, the preflight checks and the executor ask of it.

:class:`Bridge` finds modules fleet lacks (:mod:`~fleet.bridge.resolve`), builds their calls
(:mod:`~fleet.bridge.channel`) and shapes what they returned (:mod:`~fleet.bridge.results`).
ansible-core is imported on the first question that needs it, never before: a run whose
modules are all fleet's own never imports it.

ansible-core's plugin loader is process-global (``init_plugin_loader``): the first
:class:`Resolver` of the process configures it, as ``ansible-playbook`` does once per run;
fleet runs one playbook per process, so that is once per run. Role ``library/`` folders are
added as their roles are read, as Ansible adds them when it loads a role.

What ansible-core prints while it resolves, builds or parses (deprecation notices, its own
warnings) is captured and becomes warnings of the run's report instead of going to stderr.
"""

from __future__ import annotations

import contextlib
import difflib
import io
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from fleet.bridge.args import TaskFlags
from fleet.bridge.channel import BridgedCall, Calls
from fleet.bridge.core import AnsibleCore, AnsibleMissing, AnsibleUnsupported, ansible_core
from fleet.bridge.doc import count_modules, describe, documentation, schema
from fleet.bridge.groups import FINDER, group_actions
from fleet.bridge.jinja import JinjaPlugins
from fleet.bridge.metacache import install as keep_collection_meta
from fleet.bridge.options import COLLECTIONS, HANDED_TO, Shipped, live_options
from fleet.bridge.payload import PayloadError
from fleet.bridge.payloadstore import PayloadStore
from fleet.bridge.plain import plain, plausible
from fleet.bridge.resolve import Resolution, Resolver
from fleet.bridge.results import Shaped, shape
from fleet.errors import FleetError, InputError, Location

ANSI = re.compile(r"\x1b\[[0-9;]*m")
# Host variables that change the _ansible_* arguments (ActionBase reads them as shell options)
ARG_VARS = ("ansible_remote_tmp", "ansible_shell_executable", "ansible_keep_remote_files",
            "ansible_system_tmpdirs", "ansible_async_dir")


class Bridge:
    """Ansible's modules for one run (see the module doc).

    ``module_dirs``: ``-M`` folders and the playbook's ``library/``; ``collection_paths``: the
    playbook's ``collections/`` (before Ansible's configured paths); ``native``: fleet's own
    module names (for did-you-mean)."""

    def __init__(self, module_dirs: Sequence[Path] = (), collection_paths: Sequence[Path] = (),
                 module_utils_dirs: Sequence[Path] = (), native: Callable[[], Iterable[str]] = tuple,
                 cache: bool = True) -> None:
        self.module_dirs = [str(d) for d in module_dirs if Path(d).is_dir()]
        self.collection_paths = [str(p) for p in collection_paths if Path(p).is_dir()]
        self.module_utils_dirs = [str(d) for d in module_utils_dirs if Path(d).is_dir()]
        self.native = native
        self.cache = cache
        self.warnings: list[str] = []  # deprecations, redirects, what ansible-core printed
        self._core: AnsibleCore | None = None
        self._missing: FleetError | None = None
        self._resolver: Resolver | None = None
        self._calls: Calls | None = None
        self._roles: set[str] = set()
        self._resolved: dict[tuple[str, tuple[str, ...]], Resolution] = {}
        self._options: dict[str, frozenset[str] | None] = {}
        self._groups: dict[str, frozenset[str]] = {}
        self.shipped = Shipped()

    # -- ansible-core ---------------------------------------------------------------------------
    @property
    def available(self) -> bool:
        """Is a supported ansible-core importable here?"""
        try:
            self.core()
        except FleetError:
            return False
        return True

    def core(self, module: str = "", location: Location | None = None) -> AnsibleCore:
        """The installed ansible-core; AnsibleMissing (naming ``module``) when there is none."""
        if self._core is None and self._missing is None:
            try:
                self._core = ansible_core()
                # Display patches the process's real stdout/stderr when first imported: never
                # while captured() has them replaced
                self._core.module("ansible.utils.display")
                if self.cache:
                    keep_collection_meta(self._core)
            except (AnsibleMissing, AnsibleUnsupported) as exc:
                self._missing = exc
        if self._core is None:
            if isinstance(self._missing, AnsibleMissing):
                raise AnsibleMissing(ansible_core_missing(module), location)
            assert self._missing is not None
            raise type(self._missing)(self._missing.message, location)
        return self._core

    @property
    def version(self) -> str:
        return self.core().version

    def resolver(self) -> Resolver:
        if self._resolver is None:
            core = self.core()
            with self.captured():
                self._resolver = Resolver(self.collection_paths, self.module_dirs, self.module_utils_dirs, core=core)
        return self._resolver

    @contextlib.contextmanager
    def captured(self) -> Iterator[None]:
        """What ansible-core prints in the block becomes :attr:`warnings`."""
        out, err = io.StringIO(), io.StringIO()
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                yield
        finally:
            for line in (out.getvalue() + err.getvalue()).splitlines():
                text = ANSI.sub("", line).strip()
                if text:
                    self.warn(f"ansible-core: {text}")

    def warn(self, text: str) -> None:
        if text not in self.warnings:
            self.warnings.append(text)

    # -- resolving ------------------------------------------------------------------------------
    def add_role(self, role: Path | None) -> None:
        """A role's ``library/`` and ``module_utils/`` (once per role)."""
        if role is None or str(role) in self._roles:
            return
        self._roles.add(str(role))
        if (role / "library").is_dir() or (role / "module_utils").is_dir():
            self.resolver().add_role(role)
            self._resolved.clear()  # a short name may now find the role's module

    def resolve(self, name: str, collections: Sequence[str] = (), role: Path | None = None,
                location: Location | None = None) -> Resolution:
        """Where ``name`` leads (cached); AnsibleMissing without ansible-core."""
        self.core(name, location)
        self.add_role(role)
        key = (name, tuple(collections))
        found = self._resolved.get(key)
        if found is None:
            with self.captured():
                found = self._resolved[key] = self.resolver().resolve(name, collections)
            for text in found.deprecations:
                self.warn(f"{name}: {text}")
            # a redirect (routing), not the collections search that found a short name
            hops = [r for r in found.redirects if "." in r]
            if found.runnable and len(hops) > 1 and hops[-1] != hops[0]:
                self.warn(f"module {name} is redirected to {found.fqcn} ({' -> '.join(found.redirects)})")
        return found

    def exists(self, name: str, collections: Sequence[str] = (), role: Path | None = None) -> bool:
        """Does ``name`` lead to one of Ansible's modules (runnable or not)? Without
        ansible-core: is it a name ansible-core knows, or a collection's FQCN (which cannot be
        told from a typo without Ansible)? The loader asks :meth:`unknown` when not."""
        if not plausible(name):
            return False
        if not self.available:
            return self.shipped.has(name) or name.count(".") >= 2
        return self.resolve(name, collections, role).kind != "missing"

    def deferred(self, name: str, collections: Sequence[str] = (), role: Path | None = None,
                 location: Location | None = None) -> str:
        """Why a task of ``name``, a module Ansible has, cannot run here (an action plugin fleet
        lacks, a PowerShell module, no ansible-core): the task fails with it on a host that
        reaches it, and only there. "" when it can run; the error of :meth:`unknown` when
        Ansible has no such module (or removed it)."""
        if not self.available:
            if self.exists(name):
                return ansible_core_missing(name)
            raise self.unknown(name, collections, role, location)
        found = self.resolve(name, collections, role, location)
        if found.runnable:
            return ""
        if found.kind in ("missing", "removed"):
            raise self.unknown(name, collections, role, location)
        return f"module {name!r}: {found.refused}"

    def ansible_module(self, name: str) -> Resolution | None:
        """Ansible's module of the same name as fleet's native ``name`` (``sysctl`` is
        ansible.posix.sysctl), or None when Ansible has none."""
        for prefix in ("", *COLLECTIONS):
            found = self.resolve(f"{prefix}{name}")
            if found.path:
                return found
        return None

    def ansible_options(self, name: str) -> frozenset[str] | None:
        """The options (and aliases) Ansible's module of fleet's ``name`` documents, with those
        of the modules its action plugin hands them to (``package``: apt, dnf…); from the
        installed ansible-core, else from the list fleet ships. None: Ansible has no such module."""
        if name not in self._options:
            if not self.available:
                self._options[name] = self.shipped.options(name)
            else:
                found = self.ansible_module(name)
                with self.captured():
                    self._options[name] = None if found is None else live_options(
                        self.core(), found, [self.resolve(other) for other in HANDED_TO.get(name, ())])
        return self._options[name]

    def action_group(self, group: str, location: Location | None = None) -> frozenset[str]:
        """The modules of a collection's action group ``ns.coll.NAME`` (``module_defaults``'
        ``group/NAME``); InputError when no installed collection defines it."""
        core = self.core(f"group/{group}", location)
        self.resolver()  # the collection loader, set up once

        def resolve(name: str) -> str:
            return self.resolve(name).fqcn

        with self.captured():
            return group_actions(group, core.module(FINDER)._get_collection_metadata, resolve, location,
                                 self._groups)

    def unknown(self, name: str, collections: Sequence[str] = (), role: Path | None = None,
                location: Location | None = None) -> FleetError:
        """The error for a task naming ``name``, which is not one of fleet's modules: Ansible
        is missing, the module is refused (why), or no module has that name (did-you-mean
        over fleet's and Ansible's names)."""
        if not self.available:
            if not self.exists(name):  # no name ansible-core knows either: a typo
                names = [*self.native(), *self.shipped.data["builtin"]]
                close = difflib.get_close_matches(name.removeprefix("ansible.builtin."), names, n=1, cutoff=0.75)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                return InputError(f"unknown module {name!r}{hint}", location)
            try:
                self.core(name, location)
            except FleetError as exc:
                return exc
        found = self.resolve(name, collections, role) if plausible(name) else Resolution(name)
        if found.kind != "missing":
            return refused(found, location)
        close = self.resolver().suggest(name, self.native(), collections)
        hint = f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""
        return InputError(f"unknown module {name!r}{hint}", location)

    def jinja(self) -> JinjaPlugins:
        """The Templar's source of filters, tests and lookups fleet lacks (ansible-core's and
        the collections'); it imports nothing until a template names one."""
        return JinjaPlugins(self)

    # -- documenting ------------------------------------------------------------------------------
    def describe(self, found: Resolution, as_json: bool = False) -> str:
        """``fleet modules NAME`` for a module only Ansible has: its DOCUMENTATION (as text, or a
        JSON schema of its options)."""
        import json

        with self.captured():
            documented = documentation(self.core(), found)
        return json.dumps(schema(found, documented), indent=2, default=str) if as_json \
            else describe(found, documented)

    def module_count(self) -> tuple[int, int]:
        """(modules, collections) Ansible's code provides to this run."""
        self.resolver()
        with self.captured():
            return count_modules(self.core())

    # -- running ----------------------------------------------------------------------------------
    def calls(self) -> Calls:
        """Payloads (kept in fleet's cache folder between runs unless ``cache`` is off) and arguments."""
        if self._calls is None:
            core = self.core()
            self._calls = Calls(core, PayloadStore(core) if self.cache else None)
        return self._calls

    def call(self, module: Resolution, args: Mapping[str, Any], flags: TaskFlags,
             host_vars: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None) -> BridgedCall:
        """The agent call for one task (or loop item) of ``module``: values made plain."""
        task_vars = {key: plain(value) for key, value in (host_vars or {}).items()}
        try:
            with self.captured():
                return self.calls().make(module, plain(dict(args)), flags, task_vars, env)
        except PayloadError as exc:
            raise FleetError(f"module {module.fqcn}: {exc.message}") from None

    def payload(self, module: Resolution, location: Location | None = None) -> None:
        """Have ansible-core build ``module``'s payload now (kept for the run): a module_util
        it cannot find is bad input, found before anything connects."""
        try:
            with self.captured():
                self.calls().payloads.get(module)
        except PayloadError as exc:
            raise InputError(f"module {module.fqcn}: {exc.message}", location) from None

    def profile(self, module: Resolution) -> str:
        """The serialization profile of ``module``'s payload (2.19+; "legacy" before)."""
        return self.calls().payloads.get(module).profile

    def shape(self, agent_result: Mapping[str, Any], module: Resolution, profile: str = "legacy",
              no_log: bool = False) -> Shaped:
        """The agent's result of one call, as Ansible's TaskExecutor holds it."""
        with self.captured():
            return shape(self.core(), agent_result, module.fqcn, profile, no_log)


def ansible_core_missing(module: str) -> str:
    """The one line for a task whose module only Ansible has, without ansible-core."""
    from fleet.bridge.core import INSTALL

    what = f"module {module!r} is not one of fleet's own modules" if module else "this needs Ansible's modules"
    return (f"{what}; fleet runs Ansible's own module code for it, but ansible-core is not installed: "
            f"install it with {INSTALL}")


def refused(found: Resolution, location: Location | None = None) -> InputError:
    """The error for a module that resolved but cannot run through the bridge."""
    return InputError(f"module {found.name!r}: {found.refused or 'cannot run through fleet'}", location)
