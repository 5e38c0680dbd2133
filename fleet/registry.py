"""Finding modules and validating their parameters on the controller.

A module is a file ``NAME.py`` found, first match wins, in: the ``modules/`` folder beside
the playbook (and any extra folders given), the folders third-party packages declare under
the ``fleet.modules`` entry point group, then fleet's built-in ``modules/``. It must keep the
module contract (:mod:`fleet.agent.contract`); its ``Params`` are validated with pydantic, and
its ``check_param``/``check`` rules run, before anything connects.
"""

from __future__ import annotations

import difflib
import hashlib
import re
import sys
import types
from dataclasses import MISSING, dataclass, fields
from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import ConfigDict, TypeAdapter, ValidationError

from fleet.agent import contract
from fleet.agent.errors import AnsibleOnly, ModuleFailure
from fleet.errors import AnsibleOnlyValue, InputError, Location, ModuleRefused

# An Ansible module imports its module_utils (fleet's modules import fleet.agent only)
ANSIBLE_MODULE = re.compile(r"^\s*(?:from|import)\s+ansible(?:_collections)?\.module_utils", re.MULTILINE)
PARAMS_CONFIG = ConfigDict(extra="forbid", coerce_numbers_to_str=True)
NAMESPACES = ("ansible.builtin.", "ansible.legacy.", "ansible.posix.", "community.general.", "fleet.")
# Ansible names served by a fleet module of another name (one implementation, several names
# users already write). A module file with the alias's own name, anywhere, wins.
MODULE_ALIASES = {
    "service": "systemd",
    "systemd_service": "systemd",
    "modprobe": "kernel_module",
    "locale_gen": "locale",
}


def builtin_dir(kind: str) -> Path:
    """Where fleet's own ``modules`` or ``roles`` live (wheel install or source checkout)."""
    package = Path(__file__).resolve().parent
    installed = package / "_builtin" / kind
    return installed if installed.is_dir() else package.parent / kind


@dataclass
class ModuleSpec:
    """One module file, loaded on the controller for validation and docs."""

    name: str
    path: Path
    source: str

    @cached_property
    def sha(self) -> str:
        return hashlib.sha1(self.source.encode("utf-8")).hexdigest()

    @cached_property
    def code_object(self) -> types.CodeType:
        """The module compiled once: executed here for validation, marshalled for agents."""
        try:
            return compile(self.source, f"<fleet module {self.name}>", "exec", dont_inherit=True)
        except SyntaxError as exc:
            raise InputError(f"module {self.name} cannot be loaded: SyntaxError: {exc.msg}",
                             Location(str(self.path), exc.lineno or 0)) from None

    @cached_property
    def code(self) -> str:
        """Marshalled bytecode for agents on this controller's Python (see fleet.connection.session)."""
        import binascii
        import marshal

        return binascii.b2a_base64(marshal.dumps(self.code_object), newline=False).decode("ascii")

    def compiled_code(self) -> str:
        """:attr:`code` as a callable, so a ModuleCall compiles only if an agent needs it."""
        return self.code

    @cached_property
    def namespace(self) -> types.ModuleType:
        module = types.ModuleType(f"fleet_module_{self.name}_{self.sha[:10]}")
        module.__file__ = str(self.path)
        # pydantic resolves postponed annotations through sys.modules[cls.__module__]
        sys.modules[module.__name__] = module
        try:
            exec(self.code_object, module.__dict__)
        except Exception as exc:
            del sys.modules[module.__name__]
            raise InputError(f"module {self.name} cannot be loaded: {type(exc).__name__}: {exc}",
                             Location(str(self.path))) from None
        problems = contract.problems(module)
        if problems:
            raise InputError(f"module {self.name} breaks the module contract: {problems[0]}",
                             Location(str(self.path)))
        module.Params.__pydantic_config__ = PARAMS_CONFIG
        return module

    @cached_property
    def adapter(self) -> TypeAdapter:
        return TypeAdapter(self.namespace.Params)

    @cached_property
    def connection_sensitive(self) -> bool:
        """Can this module cut the management connection (``CONNECTION_SENSITIVE = True``)?
        Its changes are then confirmed over a fresh connection (fleet.connection.guard)."""
        return bool(contract.hook(self.namespace, "CONNECTION_SENSITIVE", False))

    @cached_property
    def returns_facts(self) -> bool:
        """Does this module set facts (``RETURNS_FACTS = True``)? Other modules' ``ansible_facts``
        are ignored (fleet.executor.hosttrust)."""
        return bool(contract.hook(self.namespace, "RETURNS_FACTS", False))

    @cached_property
    def aliases(self) -> dict[str, str]:
        return dict(contract.hook(self.namespace, "ALIASES", {}))

    @cached_property
    def field_names(self) -> list[str]:
        return [f.name for f in fields(self.namespace.Params)]

    @cached_property
    def required(self) -> list[str]:
        return [f.name for f in fields(self.namespace.Params)
                if f.default is MISSING and f.default_factory is MISSING]

    @cached_property
    def doc(self) -> str:
        return (self.namespace.__doc__ or "").strip()

    def canonical(self, args: dict[str, Any], where: str, location: Location | None) -> dict[str, Any]:
        """Apply aliases; unknown keys are an error that suggests the closest name."""
        out: dict[str, Any] = {}
        for key, value in args.items():
            name = self.aliases.get(key, key)
            if name not in self.field_names:
                known = self.field_names + list(self.aliases)
                close = difflib.get_close_matches(str(key), known, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise InputError(f"{where}: module {self.name} has no parameter {key!r}{hint}", location)
            if name in out:
                raise InputError(f"{where}: parameter {name!r} given twice (via alias {key!r})", location)
            out[name] = value
        return out

    @cached_property
    def bool_to_str(self) -> frozenset[str]:
        """Fields that take text but not booleans: Ansible turns ``True`` into ``"True"`` there
        (``content: "{{ st.stat.exists }}"`` renders to a native bool)."""
        import typing

        names = set()
        for name, hint in _type_hints(self.namespace.Params).items():
            args = set(typing.get_args(hint)) or {hint}
            if str in args and bool not in args:
                names.add(name)
        return frozenset(names)

    def validate(self, args: dict[str, Any], where: str, location: Location | None) -> dict[str, Any]:
        """Full validation of rendered args; returns JSON-ready params for the agent."""
        canonical = self.canonical(args, where, location)
        for name in self.bool_to_str.intersection(canonical):
            if isinstance(canonical[name], bool):
                canonical[name] = str(canonical[name])
        try:
            params = self.adapter.validate_python(canonical)
        except ValidationError as exc:
            raise InputError(f"{where}: {_describe(self.name, exc)}", location) from None
        dumped = self.adapter.dump_python(params, mode="json")
        for name in canonical:
            self.check_param(name, dumped.get(name), where, location)
        self.check(params, where, location)
        return dumped

    def check(self, params: Any, where: str, location: Location | None) -> None:
        """The module's cross-field rules (``check(p)``, which the agent runs again on the host):
        ``backrefs: true`` without ``regexp``, ``user`` and ``group`` both given..."""
        rules = contract.hook(self.namespace, "check")
        if rules is None:
            return
        try:
            rules(params)
        except AnsibleOnly as exc:
            raise AnsibleOnlyValue(f"{where}: module {self.name}: {exc}", location, str(exc)) from None
        except ModuleFailure as exc:
            raise ModuleRefused(f"{where}: module {self.name}: {exc}", location, str(exc)) from None

    def check_param(self, name: str, value: Any, where: str, location: Location | None) -> None:
        """The module's own check of one parameter (``check_param(name, value)``, which the
        module calls again on the host): what a type cannot say (``..`` in a sysctl name).
        Its ModuleFailure names the parameter."""
        check = contract.hook(self.namespace, "check_param")
        if check is None or value is None:
            return
        try:
            check(name, value)
        except AnsibleOnly as exc:
            raise AnsibleOnlyValue(f"{where}: module {self.name}: {exc}", location, str(exc)) from None
        except ModuleFailure as exc:
            raise ModuleRefused(f"{where}: module {self.name}: {exc}", location, str(exc)) from None

    def check_static(self, args: dict[str, Any], is_template, where: str, location: Location | None,
                     between: bool = True) -> None:
        """Validate what can be known before any template is rendered.

        Unknown parameters, missing required ones, the type and the module's ``check_param``
        of every literal value, and, when every value is literal and ``between``, its ``check``
        (the rules between parameters): ``lineinfile: path=x backrefs=true line=y`` fails here.
        """
        canonical = self.canonical(args, where, location)
        missing = [name for name in self.required if name not in canonical]
        if missing:
            raise InputError(f"{where}: module {self.name} requires {', '.join(map(repr, missing))}", location)
        for f in fields(self.namespace.Params):
            if f.name not in canonical or is_template(canonical[f.name]):
                continue
            given = canonical[f.name]
            if isinstance(given, bool) and f.name in self.bool_to_str:
                canonical[f.name] = str(given)  # as validate(): Ansible's "True" in a text field
            try:
                value = self._field_adapter(f.name).validate_python(canonical[f.name])
            except ValidationError as exc:
                raise InputError(f"{where}: {_describe(self.name, exc, f.name)}", location) from None
            self.check_param(f.name, value, where, location)
        if between and not any(is_template(value) for value in canonical.values()):
            self.validate(args, where, location)  # all known: the rules between parameters too

    def _field_adapter(self, name: str) -> TypeAdapter:
        cache = self.__dict__.setdefault("_field_adapters", {})
        if name not in cache:
            hints = _type_hints(self.namespace.Params)
            cache[name] = TypeAdapter(hints[name], config=ConfigDict(coerce_numbers_to_str=True))
        return cache[name]


def _type_hints(cls: type) -> dict[str, Any]:
    import typing

    module = sys.modules.get(cls.__module__)
    return typing.get_type_hints(cls, vars(module) if module else None)


def _describe(module: str, exc: ValidationError, field: str | None = None) -> str:
    parts = []
    for error in exc.errors():
        loc = ".".join(str(p) for p in error["loc"]) or field or "?"
        if field and not error["loc"]:
            loc = field
        elif field:
            loc = f"{field}.{loc}"
        message = error["msg"]
        if error["type"] == "unexpected_keyword_argument":
            message = "unknown parameter"
        elif error["type"] == "missing_argument":
            message = "required parameter is missing"
        parts.append(f"parameter {loc!r}: {message}")
    return f"module {module}: " + "; ".join(parts)


class ModuleRegistry:
    """Looks modules up by name; one instance per run (no global state)."""

    def __init__(self, extra_dirs: list[Path] | None = None, use_entry_points: bool = True) -> None:
        self.dirs: list[Path] = [Path(d) for d in (extra_dirs or [])]
        if use_entry_points:
            self.dirs.extend(_entry_point_dirs())
        self.dirs.append(builtin_dir("modules"))
        self._loaded: dict[str, ModuleSpec] = {}

    def find(self, name: str) -> ModuleSpec | None:
        """The module called ``name`` (short or ``ansible.builtin.NAME``), or None."""
        short = short_name(name)
        if short in self._loaded:
            return self._loaded[short]
        if not short.isidentifier():
            return None
        for directory in self.dirs:
            path = directory / f"{short}.py"
            if path.is_file():
                source = path.read_text("utf-8")
                if ANSIBLE_MODULE.search(source):
                    continue  # one of Ansible's modules (-M holds both kinds): fleet.bridge runs it
                spec = ModuleSpec(short, path, source)
                self._loaded[short] = spec
                return spec
        target = MODULE_ALIASES.get(short)
        aliased = self.find(target) if target is not None else None
        if aliased is not None:
            self._loaded[short] = aliased
        return aliased

    def names(self) -> list[str]:
        found: set[str] = set()
        for directory in self.dirs:
            if directory.is_dir():
                found.update(p.stem for p in directory.glob("*.py") if not p.stem.startswith("_"))
        return sorted(found)


def short_name(name: str) -> str:
    for prefix in NAMESPACES:
        if name.startswith(prefix):
            return name[len(prefix):]
    return name


def _entry_point_dirs() -> list[Path]:
    """Folders declared by installed packages: ``[project.entry-points."fleet.modules"]``."""
    dirs = []
    from importlib import metadata  # 10 ms: only when the registry is built

    for entry in metadata.entry_points(group="fleet.modules"):
        try:
            target = entry.load()
        except Exception:  # a broken third-party package must not break every run
            continue
        path = Path(getattr(target, "__file__", "") or str(target))
        dirs.append(path.parent if path.suffix == ".py" else path)
    return dirs
