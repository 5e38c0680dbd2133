"""Finding a module fleet lacks the way ansible-core finds it, and deciding whether it can run.

Collections come from where Ansible looks (``ANSIBLE_COLLECTIONS_PATH``, ansible.cfg's
``collections_path``, ``~/.ansible/collections``, ``/usr/share/ansible/collections``, then the
``ansible_collections`` of ``sys.path``: the ``ansible`` package), after the run's own prefixes
(a playbook's ``collections/``). Modules also come from a role's ``library/`` and ``-M``
folders, their ``module_utils`` from a role's ``module_utils/``. Short names go through the
task's ``collections:`` and then ``ansible.legacy`` (builtin plus those folders), redirects
are followed, deprecations reported and removed modules refused with Ansible's message.

ansible-core's plugin loader is process-wide: the first :class:`Resolver` of a process sets the
collection paths (as ``ansible-playbook`` does once per run); module folders add up.
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from fleet.bridge.core import AnsibleCore, ansible_core
from fleet.errors import Location

RUNNABLE = "python"  # the one kind the bridge runs: a new-style Python module (AnsiballZ)


@dataclass(frozen=True)
class Resolution:
    """Where a task's module name led.

    ``kind``: ``python`` (runnable), ``action`` (its behaviour lives in the action plugin
    ``action``), ``powershell``, ``binary``, ``old-style``, ``want-json``, ``removed``,
    ``missing``. ``refused`` is the message for anything but ``python``."""

    name: str
    fqcn: str = ""
    path: str = ""
    kind: str = "missing"
    action: str = ""
    redirects: tuple[str, ...] = ()
    deprecations: tuple[str, ...] = ()
    refused: str = ""

    @property
    def runnable(self) -> bool:
        return self.kind == RUNNABLE

    @property
    def short(self) -> str:
        """The module's own name (``ini_file`` of ``community.general.ini_file``)."""
        return (self.fqcn or self.name).rsplit(".", 1)[-1]


@dataclass
class Resolver:
    """Resolves module names with ansible-core's loaders (see the module doc).

    ``implemented_actions``: action plugins fleet implements itself (FQCN), whose modules may
    run through the bridge; any other action plugin makes its module refused."""

    collection_paths: Sequence[str] = ()
    module_dirs: Sequence[str] = ()
    module_utils_dirs: Sequence[str] = ()
    implemented_actions: frozenset[str] = frozenset()
    core: AnsibleCore = field(default_factory=ansible_core)

    def __post_init__(self) -> None:
        loader = self.core.module("ansible.plugins.loader")
        from_config = importlib.import_module("ansible.utils.collection_loader")
        if from_config.AnsibleCollectionConfig.collection_finder is None:
            loader.init_plugin_loader([str(p) for p in self.collection_paths])
        self._modules = loader.module_loader
        self._actions = loader.action_loader
        for folder in self.module_dirs:
            self._modules.add_directory(str(folder))
        for folder in self.module_utils_dirs:
            loader.module_utils_loader.add_directory(str(folder))

    def add_role(self, role: Path) -> None:
        """A role's ``library/`` and ``module_utils/``, as Ansible adds them when it loads it."""
        loader = self.core.module("ansible.plugins.loader")
        if (role / "library").is_dir():
            self._modules.add_directory(str(role / "library"))
        if (role / "module_utils").is_dir():
            loader.module_utils_loader.add_directory(str(role / "module_utils"))

    def resolve(self, name: str, collections: Sequence[str] = (), location: Location | None = None) -> Resolution:
        """What ``name`` (as the task wrote it) resolves to, with the task's ``collections:``."""
        del location  # kept for the executor's calls: messages name the task there
        search = _search_list(collections)
        errors = self.core.module("ansible.errors")
        try:
            context = self._modules.find_plugin_with_context(name, collection_list=search)
        except errors.AnsiblePluginRemovedError as exc:
            return Resolution(name, kind="removed", refused=_text(exc))
        except errors.AnsibleError as exc:
            return Resolution(name, kind="missing", refused=_text(exc))
        redirects = tuple(context.redirect_list or ())
        if not context.resolved:
            action = self._actions.find_plugin_with_context(name, collection_list=search)
            if action.resolved:  # an action without a module of its name (yum -> the dnf action)
                fqcn = f"{action.plugin_resolved_collection or 'ansible.legacy'}.{action.plugin_resolved_name.rsplit('.', 1)[-1]}"
                return Resolution(name, fqcn, str(action.plugin_resolved_path), "action", fqcn,
                                  tuple(action.redirect_list or ()), refused=(
                                      f"{name} is Ansible's action plugin {fqcn}, which runs on the controller; "
                                      f"fleet does not implement that plugin, so it does not run this task"))
            return Resolution(name, kind="missing", redirects=redirects,
                              refused=f"no module named {name!r} in fleet or in Ansible's collections")
        short = (redirects[-1] if redirects else name).rsplit(".", 1)[-1]
        fqcn = f"{context.plugin_resolved_collection or 'ansible.legacy'}.{short}"
        found = Resolution(name, fqcn, str(context.plugin_resolved_path), RUNNABLE, "", redirects,
                           tuple(str(w) for w in context.deprecation_warnings or ()))
        action = self._action_for(context, name, fqcn, search)
        if action:
            return _refuse(found, "action", action=action, why=(
                f"{fqcn} does its work in the action plugin {action}, which runs on the controller; "
                f"fleet does not implement that plugin, so it does not run this module"))
        kind = module_kind(Path(found.path))
        if kind != RUNNABLE:
            return _refuse(found, kind, why=f"{fqcn} is a {KIND_NAMES[kind]} module ({found.path}); "
                                             f"fleet runs Ansible's new-style Python modules only")
        return found

    def _action_for(self, context, name: str, fqcn: str, search: list[str] | None) -> str:
        """The action plugin Ansible would run for this module (TaskExecutor's choice), unless
        it is ``normal`` or one fleet implements."""
        action = str(getattr(context, "action_plugin", "") or "")
        if not action:
            for candidate in (fqcn, name):
                found = self._actions.find_plugin_with_context(candidate, collection_list=search)
                if found.resolved:
                    action = f"{found.plugin_resolved_collection or 'ansible.legacy'}.{candidate.rsplit('.', 1)[-1]}"
                    break
        if not action:
            constants = self.core.module("ansible.constants")
            collection, _, module = fqcn.rpartition(".")
            prefix = module.split("_")[0]
            network = f"{collection}.{prefix}" if collection else prefix
            if prefix in constants.NETWORK_GROUP_MODULES and self._actions.has_plugin(network, collection_list=search):
                action = network
        if not action or action.rsplit(".", 1)[-1] == "normal":
            return ""
        if action in self.implemented_actions or action.replace("ansible.legacy.", "ansible.builtin.") in self.implemented_actions:
            return ""
        return action

    def suggest(self, name: str, native: Iterable[str], collections: Sequence[str] = ()) -> list[str]:
        """Did-you-mean for an unknown module: close names among fleet's own modules, ansible.builtin's
        and the modules of the collections the name or the task's ``collections:`` mention."""
        names = set(native)
        builtin = Path(self.core.module("ansible.modules").__file__ or "").parent
        names.update(p.stem for p in builtin.glob("*.py") if not p.stem.startswith("_"))
        names.update(f"ansible.builtin.{p.stem}" for p in builtin.glob("*.py") if not p.stem.startswith("_"))
        wanted = list(collections)
        if name.count(".") >= 2:
            wanted.append(name.rsplit(".", 1)[0])
        for collection in wanted:
            names.update(f"{collection}.{module}" for module in self.collection_modules(collection))
            if collection in collections:
                names.update(self.collection_modules(collection))
        return difflib.get_close_matches(name, sorted(names), n=3, cutoff=0.75)

    def collection_modules(self, collection: str) -> list[str]:
        """The module names a collection ships (its ``plugins/modules``), [] if not installed."""
        try:
            package = importlib.import_module(f"ansible_collections.{collection}.plugins.modules")
        except (ImportError, ValueError):
            return []
        found: set[str] = set()
        for folder in getattr(package, "__path__", []):
            found.update(p.stem for p in Path(folder).iterdir() if p.suffix in (".py", ".ps1") and p.stem != "__init__")
        return sorted(found)


KIND_NAMES = {"powershell": "PowerShell", "binary": "binary", "old-style": "old-style (key=value arguments)",
              "want-json": "WANT_JSON (non-Python JSON-arguments)", "json-args": "JSON-arguments (<<INCLUDE_ANSIBLE_MODULE_JSON_ARGS>>)"}


def module_kind(path: Path) -> str:
    """The module's style, as ansible-core's ``module_common`` tells them apart."""
    common = importlib.import_module("ansible.executor.module_common")
    data = path.read_bytes()
    if path.suffix == ".ps1" or common.REPLACER_WINDOWS in data or b"#Requires -" in data or b"#AnsibleRequires -" in data:
        return "powershell"
    if common._is_binary(data):
        return "binary"
    if common.REPLACER in data or common.NEW_STYLE_PYTHON_MODULE_RE.search(data):
        return RUNNABLE
    if common.REPLACER_JSONARGS in data:
        return "json-args"
    if b"WANT_JSON" in data:
        return "want-json"
    return "old-style"


def _search_list(collections: Sequence[str]) -> list[str] | None:
    """The task's ``collections:`` as Ansible completes them (``ansible.legacy`` last)."""
    search = [str(c) for c in collections]
    if search and "ansible.builtin" not in search and "ansible.legacy" not in search:
        search.append("ansible.legacy")
    return search or None


def _refuse(found: Resolution, kind: str, why: str, action: str = "") -> Resolution:
    return Resolution(found.name, found.fqcn, found.path, kind, action, found.redirects, found.deprecations, why)


def _text(exc: Exception) -> str:
    return str(getattr(exc, "message", "") or exc).strip()
